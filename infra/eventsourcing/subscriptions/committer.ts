import type { RecordedEvent } from '../event-store/event-store.js';
import { isAfter, type Position } from '../event-store/position.js';
import type { PositionedWrites, ReadStore } from '../read-store/read-store.js';
import { LeaseLost } from './lease-holder.js';
import type { Parking } from './parking.js';
import type { Retries } from './retries.js';
import { isTransient } from './transient.js';

/** The writes of one event, with the event (to park it if the store refuses them). */
export interface EventWrites extends PositionedWrites {
  event: RecordedEvent;
}

export interface CommitterOptions {
  handlerName: string;
  readStore: ReadStore;
  retries: Retries;
  parking: Parking;
  /** Whether the runner still holds its lease: nothing is written once it lost it. */
  leaseHeld(): boolean;
}

/**
 * Writes a runner's batches: each batch's writes committed together with the new
 * checkpoint, in one read-store transaction, retried while the store fails for a moment.
 * A batch the store refuses for good (a handler produced a write the store rejects) is
 * split: its events are committed one by one, so that only the culprit is parked.
 */
export class Committer {
  private stored: Position | null = null;
  /** The commit being written, so a lost lease is given back only after it landed. */
  private inFlight: Promise<void> | null = null;

  constructor(private readonly options: CommitterOptions) {}

  /** Where a restart would resume. */
  get storedCheckpoint(): Position | null {
    return this.stored;
  }

  /** Following starts again from the checkpoint the store holds. */
  resumeFrom(checkpoint: Position | null): void {
    this.stored = checkpoint;
  }

  /** Resolves once the commit being written, if any, has landed (rejects if it failed). */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  /** Commits `writes` with `checkpoint`; throws `LeaseLost` if the lease was taken away, without writing. */
  async commit(writes: EventWrites[], checkpoint: Position, signal: AbortSignal): Promise<void> {
    if (!this.options.leaseHeld()) throw new LeaseLost();
    this.inFlight = this.commitOrSplit(writes, checkpoint, signal).finally(() => (this.inFlight = null));
    await this.inFlight;
  }

  private async commitOrSplit(writes: EventWrites[], checkpoint: Position, signal: AbortSignal): Promise<void> {
    try {
      await this.write(writes, checkpoint, signal);
    } catch (error) {
      if (signal.aborted || isTransient(error) || writes.length === 0) throw error;
      for (const one of writes) {
        try {
          await this.write([one], one.position, signal);
        } catch (refused) {
          if (signal.aborted || isTransient(refused)) throw refused;
          await this.options.parking.park(one.event, refused, this.options.retries.maxAttempts);
        }
      }
      await this.write([], checkpoint, signal);
    }
  }

  private async write(writes: PositionedWrites[], checkpoint: Position, signal: AbortSignal): Promise<void> {
    const positioned = writes.map(({ position, ops }) => ({ position, ops }));
    const { readStore, handlerName } = this.options;
    await this.options.retries.store(() => readStore.commit(handlerName, positioned, checkpoint), signal);
    if (isAfter(checkpoint, this.stored)) this.stored = checkpoint;
  }
}
