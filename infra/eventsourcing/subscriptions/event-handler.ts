/**
 * What a projection (or a process manager) is: a named consumer of events from `$all`
 * that turns each event into read-model writes. It may look at documents (its own, or
 * another view's) through `view`, which already reflects the writes of earlier events in
 * the same batch. A process manager performs its commands in `handle` (idempotently) and
 * returns the writes for its own state, often none.
 */
import type { AllFilter, RecordedEvent } from '../event-store/event-store.js';
import type { CollectionSpec, Doc, WriteOp } from '../read-store/read-store.js';

export interface ProjectionView {
  get(collection: string, id: string): Promise<Doc | null>;
}

/** What the runner tells a handler besides the event. */
export interface HandlingContext {
  /**
   * The earliest place in the log (commit position) from which this handler may be given an
   * event again: its stored checkpoint, held back by any event it parked. A process
   * manager's steps caused before it can never be repeated (see domain/operation-memory.ts).
   * -1 before anything was stored.
   */
  redeliveryFloor: number;
}

export interface EventHandler {
  name: string;
  /**
   * A process manager reacts to events by running commands (which append new events);
   * a projection only writes read models. Read-your-writes waits for the first, then for
   * the second to reach what the first appended.
   */
  kind?: 'projection' | 'process-manager';
  /** The events it needs; the narrower, the less it reads during a rebuild. */
  filter?: AllFilter;
  /** The collections it owns (dropped and rebuilt with it). */
  collections: CollectionSpec[];
  handle(event: RecordedEvent, view: ProjectionView, context: HandlingContext): Promise<WriteOp[]> | WriteOp[];
  /**
   * Events with different keys do not depend on each other (two deals, two orders): a
   * batch's events are then handled concurrently, one partition after the other in
   * order within it, so many deals share each append instead of waiting in line. A
   * handler with a partition key must not read, through `view`, what another partition
   * of the same batch writes.
   */
  partitionKey?(event: RecordedEvent): string;
}
