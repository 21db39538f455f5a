/**
 * Read-your-writes. A query that names the position of a client's last command waits
 * until the read models have taken that command in: first every process manager passes
 * the position (their reactions — an account opened for a registration — are appended by
 * then), then every projection passes whatever the log held at that moment.
 */
import type { EventStore } from '../event-store/event-store.js';
import { comparePositions, type Position } from '../event-store/position.js';
import type { ProjectionRunner } from './runner.js';

export class ReadModelsNotCaughtUp extends Error {
  override readonly name = 'ReadModelsNotCaughtUp';
}

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
    await this.all(reactors, position, deadline);
    const head = reactors.length > 0 ? await this.eventStore.headPosition() : null;
    const target = head && comparePositions(head, position) > 0 ? head : position;
    await this.all(projections, target, deadline);
  }

  private async all(runners: ProjectionRunner[], position: Position, deadline: AbortSignal): Promise<void> {
    await Promise.all(runners.map((r) => r.waitFor(position, deadline)));
    if (deadline.aborted && runners.some((r) => !r.hasReached(position))) {
      throw new ReadModelsNotCaughtUp('read models are still catching up');
    }
  }
}
