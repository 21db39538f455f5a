/**
 * Read-your-writes. A query that names the position of a client's last command waits
 * until the read models have taken that command in: first every process manager passes
 * the position (their reactions — an account opened for a registration, a deal's
 * payment — are appended by then), then every projection passes whatever the log held
 * at that moment.
 */
import type { EventStore } from '../event-store/event-store.js';
import { comparePositions, type Position } from '../event-store/position.js';
import type { ProjectionRunner } from './runner.js';

export class ReadModelsNotCaughtUp extends Error {
  override readonly name = 'ReadModelsNotCaughtUp';
}

/** How many links of a chain of reactions a read-your-writes wait follows. */
const REACTION_HOPS = 4;

export class ConsistencyGate {
  constructor(
    private readonly eventStore: EventStore,
    private readonly runners: ProjectionRunner[],
  ) {}

  /** Resolves once read models reflect `position`; rejects with `ReadModelsNotCaughtUp` after `timeoutMs`. */
  async waitFor(position: Position, timeoutMs: number): Promise<void> {
    const deadline = AbortSignal.timeout(timeoutMs);
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

  private async all(runners: ProjectionRunner[], position: Position, deadline: AbortSignal): Promise<void> {
    await Promise.all(runners.map((r) => r.waitFor(position, deadline)));
    if (deadline.aborted && runners.some((r) => !r.hasReached(position))) {
      throw new ReadModelsNotCaughtUp('read models are still catching up');
    }
  }
}
