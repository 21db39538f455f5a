import type { AllFilter, AllSubscription, SubscriptionBatch } from '../event-store.js';
import type { EventReader } from './reader.js';

export interface Wakeups {
  /** Resolves on the next append in this process, or after `fallbackMs` (appends by another process). */
  next(fallbackMs: number): { promise: Promise<void>; cancel(): void };
}

/**
 * Catch-up then live over the embedded store. Catching up reads pages straight from
 * SQLite; once at the end it sleeps until an append in this process wakes it. Appends
 * made by another process on the same file are found by a slow fallback check, which
 * only runs while the subscription is idle.
 */
export class SqliteAllSubscription implements AllSubscription {
  private closed = false;
  private pendingWait: { promise: Promise<void>; cancel(): void } | null = null;
  private readonly maxBatch: number;

  constructor(
    private readonly reader: EventReader,
    private readonly wakeups: Wakeups,
    private after: number,
    private readonly filter: AllFilter | undefined,
    maxBatchSize: number | undefined,
    private readonly idleCheckMs: number,
    private readonly onClose: () => void,
  ) {
    this.maxBatch = Math.max(1, Math.min(maxBatchSize ?? 500, 10_000));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
    let caughtUp = false;
    while (!this.closed) {
      const { events, moved, reachedEnd } = this.readBatch();
      const position = { commit: BigInt(this.after), prepare: BigInt(this.after) };
      if (reachedEnd && !caughtUp) {
        caughtUp = true;
        yield { events, caughtUp, position };
      } else if (moved) {
        // Even with no event passing the filter, report how far we looked (checkpoints move on).
        yield { events, caughtUp, position };
      } else {
        this.pendingWait = this.wakeups.next(this.idleCheckMs);
        await this.pendingWait.promise;
        this.pendingWait = null;
      }
    }
  }

  /** Reads up to one batch of matching events (the filter is applied by SQLite). */
  private readBatch() {
    const page = this.reader.pageForwards(this.after, this.maxBatch, this.filter);
    const moved = page.scannedUpTo > this.after;
    if (moved) this.after = page.scannedUpTo;
    return { events: page.events, moved, reachedEnd: page.reachedEnd };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pendingWait?.cancel();
    this.onClose();
  }
}
