/**
 * A stand-in for a runner working elsewhere — in the projector thread, or (fed by
 * `checkpoint-feed.ts`) in another process: it knows what the runner last reported, which
 * is all read-your-writes needs.
 */
import type { EventHandler } from './event-handler.js';
import { comparePositions, parsePosition, type Position } from '../event-store/position.js';
import type { FollowedRunner } from './consistency.js';
import { PositionWaiters } from './position-waiters.js';
import type { RunnerState, RunnerStatus } from './runner-status.js';

/** A runner's status as it crosses threads (positions as text). */
export interface ReportedStatus {
  name: string;
  state: RunnerState;
  position: string | null;
  lastError: string | null;
}

export class RemoteRunner implements FollowedRunner {
  private current: RunnerStatus;
  private readonly waiters = new PositionWaiters();

  constructor(readonly handler: Pick<EventHandler, 'name' | 'kind' | 'filter'>) {
    this.current = { name: handler.name, state: 'waiting-for-lease', position: null, lastError: null };
  }

  report(reported: ReportedStatus): void {
    const position = reported.position === null ? null : parsePosition(reported.position);
    this.current = { name: reported.name, state: reported.state, position, lastError: reported.lastError };
    if (position) this.waiters.reached(position);
    else this.waiters.reported();
  }

  /** The runner's thread died: it stays where it got to, stopped, with why, until it reports again. */
  stopped(reason: string): void {
    this.current = { ...this.current, state: 'stopped', lastError: reason };
  }

  status(): RunnerStatus {
    return this.current;
  }

  hasReached(position: Position): boolean {
    return this.current.position !== null && comparePositions(this.current.position, position) >= 0;
  }

  waitFor(position: Position, signal?: AbortSignal): Promise<void> {
    return this.hasReached(position) ? Promise.resolve() : this.waiters.wait(position, signal);
  }

  nextReport(signal?: AbortSignal): Promise<void> {
    return this.waiters.nextReport(signal);
  }
}
