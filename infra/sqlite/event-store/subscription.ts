import type { AllFilter, AllSubscription, SubscriptionBatch } from '../../eventsourcing/event-store/event-store.js';
import type { CommittedTail } from './committed-tail.js';
import type { EventReader } from './reader.js';

/**
 * Why a waiting subscription woke: a commit that the store's tail now holds all of (this
 * store's own, or another thread's read into it), a commit it does not, or none for a while.
 */
export type WakeReason = 'in-tail' | 'committed-elsewhere' | 'timeout';

export interface Wakeups {
  /** Resolves on the next append in this process, or after `fallbackMs` (appends by another process). */
  next(fallbackMs: number): { promise: Promise<WakeReason>; cancel(): void };
}

/**
 * Catch-up then live over the embedded store. Catching up reads pages straight from
 * SQLite; once at the end it sleeps until an append in this process wakes it. Appends
 * made by another process on the same file are found by a slow fallback check, which
 * only runs while the subscription is idle.
 *
 * Woken by a commit that the store's `CommittedTail` holds (its own, or another thread's,
 * which the store read into the tail once for all its subscriptions), it reads from that
 * tail in memory. Any other time (the first read, a commit the tail missed, the idle
 * check, a stretch the tail does not hold) it reads SQLite, which sees every writer.
 */
export class SqliteAllSubscription implements AllSubscription {
  private closed = false;
  private pendingWait: { promise: Promise<WakeReason>; cancel(): void } | null = null;
  /** Whether the last wake said the tail holds all there is to read. */
  private tailWillDo = false;
  private readonly maxBatch: number;

  constructor(
    private readonly reader: EventReader,
    private readonly tail: CommittedTail,
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
        this.tailWillDo = (await this.pendingWait.promise) === 'in-tail';
        this.pendingWait = null;
      }
    }
  }

  /** Reads up to one batch of matching events (from SQLite, the filter applied there, unless the tail will do). */
  private readBatch() {
    const fromTail = this.tailWillDo ? this.tail.pageAfter(this.after, this.maxBatch, this.filter) : null;
    if (!fromTail) this.tailWillDo = false;
    const page = fromTail ?? this.reader.pageForwards(this.after, this.maxBatch, this.filter);
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
