import type { RecordedEvent } from '../event-store/event-store.js';
import type { Position } from '../event-store/position.js';

interface Slot {
  position: Position;
  caughtUp: boolean;
  done: boolean;
}

export interface PartitionPipelineOptions {
  /** Handles one event; called after the partition's earlier events are handled. */
  handle(event: RecordedEvent): Promise<void>;
  /** Told, in order, each position up to which every event given so far is handled. */
  onHandled(position: Position, caughtUp: boolean): void;
  /** Events handled or waiting at once before `room()` holds the reader back. */
  capacity: number;
}

/**
 * Events handled as they are read, across batches: a partition's events one after the
 * other in order, different partitions side by side. A process manager's reaction then
 * starts as soon as its event is committed, instead of waiting for the slowest command of
 * the batch before it, and each link of a chain (a deal's payment, accrual, completion)
 * costs about one command instead of up to two batches.
 *
 * Progress is reported as the position before which nothing is left unhandled, so a
 * checkpoint stored from it never skips an event still in flight.
 */
export class PartitionPipeline {
  private readonly tails = new Map<string, Promise<void>>();
  /** Events and marks not yet reported, in the order they were read. */
  private readonly slots: Slot[] = [];
  private running = 0;
  private failure: { error: unknown } | null = null;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: PartitionPipelineOptions) {}

  /** Starts handling `event` once its partition's earlier events are handled. */
  add(event: RecordedEvent, partition: string): void {
    const slot: Slot = { position: event.position, caughtUp: false, done: false };
    this.slots.push(slot);
    this.running += 1;
    const previous = this.tails.get(partition);
    const handled = (previous ? previous.then(() => this.options.handle(event)) : this.options.handle(event)).then(
      () => this.settle(slot),
      (error: unknown) => {
        this.failure ??= { error };
        this.settle(slot);
      },
    );
    this.tails.set(partition, handled);
    void handled.then(() => {
      if (this.tails.get(partition) === handled) this.tails.delete(partition);
    });
  }

  /** A position read with nothing to handle (the end of a batch): reported once everything before it is. */
  mark(position: Position, caughtUp: boolean): void {
    this.slots.push({ position, caughtUp, done: true });
    this.report();
  }

  /** Resolves once fewer than `capacity` events are in flight; throws a handler's failure. */
  async room(): Promise<void> {
    while (this.running >= this.options.capacity && !this.failure) await this.change();
    this.throwFailure();
  }

  /** Resolves once every event added is handled; throws a handler's failure. */
  async drained(): Promise<void> {
    while (this.running > 0) await this.change();
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }

  private change(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private settle(slot: Slot): void {
    slot.done = true;
    this.running -= 1;
    this.report();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private report(): void {
    let last: Slot | null = null;
    let count = 0;
    while (count < this.slots.length && this.slots[count]!.done) last = this.slots[count++]!;
    if (!last) return;
    this.slots.splice(0, count);
    // After a failure nothing more is reported: the runner sees it at its next `room()`
    // and starts again from the checkpoint stored before the failed event.
    if (!this.failure) this.options.onHandled(last.position, last.caughtUp);
  }
}
