/**
 * Read-your-writes. A query that names the position of a client's last command waits
 * until the read models have taken that command in: first every process manager passes
 * the position (their reactions — an account opened for a registration, a deal's
 * payment — are appended by then), then every projection passes whatever the log held
 * at that moment.
 */
import type { EventStore } from '../event-store/event-store.js';
import { comparePositions, type Position } from '../event-store/position.js';
import { setMaxListeners } from 'node:events';
import { sleep } from '../backoff.js';
import type { EventHandler } from './event-handler.js';
import type { RunnerStatus } from './runner.js';

/** What the gate needs of a runner: a local `FollowedRunner`, or a stand-in for one running in another thread. */
export interface FollowedRunner {
  handler: Pick<EventHandler, 'name' | 'kind' | 'filter'>;
  status(): RunnerStatus;
  hasReached(position: Position): boolean;
  waitFor(position: Position, signal?: AbortSignal): Promise<void>;
  /** Resolves at the runner's next move or change of state, or when `signal` aborts. */
  nextReport(signal?: AbortSignal): Promise<void>;
}

export class ReadModelsNotCaughtUp extends Error {
  override readonly name = 'ReadModelsNotCaughtUp';
}

/** The position waited for lies past the end of the log: no command ever answered with it. */
export class PositionNotWritten extends Error {
  override readonly name = 'PositionNotWritten';
}

/** How many links of a chain of reactions a read-your-writes wait follows. */
const REACTION_HOPS = 4;

export class ConsistencyGate {
  constructor(
    private readonly eventStore: EventStore,
    private readonly runners: FollowedRunner[],
  ) {}

  /**
   * Resolves once read models reflect `position`; rejects with `ReadModelsNotCaughtUp` after
   * `timeoutMs`, and at once with `PositionNotWritten` for a position past the log's end.
   */
  async waitFor(position: Position, timeoutMs: number): Promise<void> {
    // A position some runner has passed is in the log: only a query for one none has asks the store.
    if (!this.runners.some((r) => r.hasReached(position))) {
      const head = await this.eventStore.headPosition();
      if (!head || comparePositions(position, head) > 0) throw new PositionNotWritten('the position is past the log');
    }
    const deadline = AbortSignal.timeout(timeoutMs);
    // One wait per runner listens to this request's deadline: more than Node's default ten.
    setMaxListeners(4 * this.runners.length + 10, deadline);
    const reactors = this.runners.filter((r) => r.handler.kind === 'process-manager');
    const projections = this.runners.filter((r) => r.handler.kind !== 'process-manager');
    // Reactions can chain (a deal's payment, then its accrual, then its completion): follow
    // a few links, each time up to what the log holds once the reactors got there.
    let target = position;
    for (let hop = 0; hop < REACTION_HOPS && reactors.length > 0; hop++) {
      await this.all(reactors, target, deadline);
      const head = await this.eventStore.headPosition();
      if (!head || comparePositions(head, target) <= 0) break;
      target = head;
    }
    await this.all(projections, target, deadline);
  }

  private async all(runners: FollowedRunner[], position: Position, deadline: AbortSignal): Promise<void> {
    const reached = await Promise.all(runners.map((r) => this.reach(r, position, deadline)));
    if (reached.includes(false)) throw new ReadModelsNotCaughtUp('read models are still catching up');
  }

  /**
   * Waits until the runner has handled everything up to `position`. A live runner whose
   * filter admits no event between where it is and `position` is there already: filtered
   * EventStoreDB subscriptions only report their position every few dozen events. Checked
   * again at each report of the runner (a move, going live); the wait for the next report is
   * taken before the check, so a report during the check is not missed. A slow timer backs
   * that up: the log's head, as EventStoreDB reads it, can trail a position a runner has
   * already passed, and a process manager with nothing to handle reports nothing.
   */
  private async reach(runner: FollowedRunner, position: Position, deadline: AbortSignal): Promise<boolean> {
    for (;;) {
      const reported = runner.nextReport(deadline);
      if (runner.hasReached(position)) return true;
      if (deadline.aborted) return false;
      if (runner.status().state === 'live' && (await this.nothingToHandle(runner, position))) return true;
      await Promise.race([reported, sleep(FALLBACK_RECHECK_MS, deadline)]);
    }
  }

  private async nothingToHandle(runner: FollowedRunner, position: Position): Promise<boolean> {
    // A position the log has not reached yet cannot have been handled by anyone.
    const head = await this.eventStore.headPosition();
    if (!head || comparePositions(head, position) < 0) return false;
    const from = runner.status().position;
    const next = await this.eventStore.readAll({
      fromPosition: from ?? 'start',
      maxCount: 2,
      filter: runner.handler.filter,
    });
    const pending = next.find((e) => !from || comparePositions(e.position, from) > 0);
    return !pending || comparePositions(pending.position, position) > 0;
  }
}

/** How often a wait re-checks a runner that has not reported (it is woken by reports first). */
const FALLBACK_RECHECK_MS = 50;
