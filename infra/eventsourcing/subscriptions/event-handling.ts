import type { EventHandler, ProjectionView } from './event-handler.js';
import { UnreadableEvent, type RecordedEvent, type SubscriptionBatch } from '../event-store/event-store.js';
import type { ReadStore, WriteOp } from '../read-store/read-store.js';
import { BatchView } from './batch-view.js';
import type { EventWrites } from './committer.js';
import type { Parking } from './parking.js';
import type { Retries } from './retries.js';

export interface EventHandlingOptions {
  handler: EventHandler;
  readStore: ReadStore;
  retries: Retries;
  parking: Parking;
  /** Handed to the handler with each event (see `HandlingContext`). */
  redeliveryFloor(): number;
}

/**
 * Hands events to a runner's handler and gathers the writes it answers with. A failing
 * event is tried again (retries.ts) and parked once that is given up, and so is an event
 * no version of its type matches: either way it is handled as writing nothing.
 */
export class EventHandling {
  constructor(private readonly options: EventHandlingOptions) {}

  /** The writes of one event, with the read store as `view` shows it. */
  async handle(event: RecordedEvent, view: ProjectionView, signal: AbortSignal): Promise<WriteOp[]> {
    const { handler, retries, parking } = this.options;
    // An event no version of its type matches (versioned-event-store.ts) never reaches a handler; trying again cannot help.
    if (event.unreadable !== undefined) {
      await parking.park(event, new UnreadableEvent(event.streamId, event.revision, event.id, event.unreadable), 1);
      return [];
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const writes = await handler.handle(event, view, { redeliveryFloor: this.options.redeliveryFloor() });
        retries.handled(attempt);
        return writes;
      } catch (error) {
        if (signal.aborted) return [];
        if (retries.givesUp(error, attempt)) {
          await parking.park(event, error, attempt);
          return [];
        }
        await retries.beforeHandlerRetry(error, attempt, signal);
      }
    }
  }

  /**
   * The writes of a batch's events, in order, each event seeing the writes of those before
   * it (batch-view.ts). Events of independent partitions are handled side by side; within
   * one partition, in order.
   */
  async handleBatch(batch: SubscriptionBatch, signal: AbortSignal): Promise<EventWrites[]> {
    const view = new BatchView(this.options.readStore);
    const writes: EventWrites[] = [];
    const keep = (event: RecordedEvent, ops: WriteOp[]) => {
      if (ops.length === 0) return;
      view.record(event.position, ops);
      writes.push({ event, position: event.position, ops });
    };
    const { handler } = this.options;
    const partitionKey = handler.partitionKey?.bind(handler);
    if (!partitionKey) {
      for (const event of batch.events) {
        if (signal.aborted) break;
        keep(event, await this.handle(event, view, signal));
      }
      return writes;
    }
    const results = new Map<RecordedEvent, WriteOp[]>();
    await Promise.all(
      [...partitioned(batch.events, partitionKey).values()].map(async (events) => {
        for (const event of events) {
          if (signal.aborted) return;
          results.set(event, await this.handle(event, view, signal));
        }
      }),
    );
    for (const event of batch.events) keep(event, results.get(event) ?? []);
    return writes;
  }
}

/** Events by partition, each partition's in their order. */
function partitioned(events: readonly RecordedEvent[], partitionKey: (event: RecordedEvent) => string) {
  const partitions = new Map<string, RecordedEvent[]>();
  for (const event of events) {
    const key = partitionKey(event);
    const partition = partitions.get(key);
    if (partition) partition.push(event);
    else partitions.set(key, [event]);
  }
  return partitions;
}
