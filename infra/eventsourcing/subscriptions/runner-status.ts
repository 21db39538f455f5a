import { comparePositions, type Position } from '../event-store/position.js';
import { FaultWatch } from './fault-watch.js';
import { PositionWaiters } from './position-waiters.js';

export type RunnerState = 'waiting-for-lease' | 'catching-up' | 'live' | 'retrying' | 'stopped';

export interface RunnerStatus {
  name: string;
  state: RunnerState;
  position: Position | null;
  lastError: string | null;
}

export interface RunnerLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What a runner shows of itself: its state, the position up to which every event is
 * handled and committed, its last error; and the callers waiting for it to reach a
 * position (read-your-writes), released as it moves on. Each move on is reported to
 * `onAdvance` (how a runner in another thread is followed).
 */
export class RunnerProgress {
  private state: RunnerState = 'stopped';
  /** What it was doing before it started retrying (what it goes back to once the failure is over). */
  private working: RunnerState = 'catching-up';
  private reached: Position | null = null;
  private lastError: string | null = null;
  private readonly waiters = new PositionWaiters();
  private readonly faults: FaultWatch;

  constructor(
    private readonly name: string,
    private readonly onAdvance?: (status: RunnerStatus) => void,
    log?: RunnerLog,
  ) {
    this.faults = new FaultWatch(name, log);
  }

  status(): RunnerStatus {
    return { name: this.name, state: this.state, position: this.reached, lastError: this.lastError };
  }

  get position(): Position | null {
    return this.reached;
  }

  isLive(): boolean {
    return this.state === 'live';
  }

  hasReached(position: Position): boolean {
    return this.reached !== null && comparePositions(this.reached, position) >= 0;
  }

  /** Resolves once every event up to `position` has been handled and committed (read-your-writes). */
  waitFor(position: Position, signal?: AbortSignal): Promise<void> {
    return this.hasReached(position) ? Promise.resolve() : this.waiters.wait(position, signal);
  }

  /** Resolves at this runner's next move or change of state (or when `signal` aborts). */
  nextReport(signal?: AbortSignal): Promise<void> {
    return this.waiters.nextReport(signal);
  }

  /** Following starts again from the stored checkpoint. */
  resumeFrom(checkpoint: Position | null): void {
    this.reached = checkpoint;
    this.state = 'catching-up';
  }

  /** Every event up to `position` is handled and committed. */
  advance(position: Position, caughtUp: boolean): void {
    this.reached = position;
    this.state = caughtUp ? 'live' : 'catching-up';
    this.lastError = null;
    this.faults.movedOn();
    this.onAdvance?.(this.status());
    this.waiters.reached(position);
  }

  /** Caught up with nothing (more) to handle. */
  goLive(): void {
    this.state = 'live';
    this.lastError = null;
    this.faults.movedOn();
    // A runner in another thread is followed through these reports only: without this
    // one, a projection that nothing has concerned yet never looks live there.
    this.onAdvance?.(this.status());
    this.waiters.reported();
  }

  /** What had to be retried succeeded: back to work (a runner with nothing more to do would otherwise look stuck). */
  recovered(): void {
    if (this.state !== 'retrying') return;
    this.state = this.working;
    this.lastError = null;
    this.faults.movedOn();
    this.waiters.reported();
    this.onAdvance?.(this.status());
  }

  waitingForLease(): void {
    this.state = 'waiting-for-lease';
    this.waiters.reported();
  }

  /** A failure is being waited out: shown in status (and so `/ready`, `/metrics`, another thread's stand-in) and the log. */
  retrying(error: unknown): void {
    const news = this.state !== 'retrying';
    if (news) this.working = this.state === 'live' ? 'live' : 'catching-up';
    this.state = 'retrying';
    this.lastError = errorMessage(error);
    this.faults.failed(error);
    this.waiters.reported();
    if (news) this.onAdvance?.(this.status());
  }

  stopped(): void {
    this.state = 'stopped';
    this.waiters.reported();
  }
}
