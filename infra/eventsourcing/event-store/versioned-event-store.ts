/**
 * Versioned events, for either store: a decorator of the `EventStore` port (so the SQLite
 * and EventStoreDB adapters stay ignorant of the domain's events, and both behave the same).
 *
 * - **Append**: every event is checked against its type's current schema — a decider that
 *   emits a malformed event is a bug, refused at once (`MalformedEvent`, nothing written) —
 *   and its metadata gets the version it is written at (`schemaVersion`).
 * - **Read**: every event is turned into its type's current version (upcast step by step
 *   from the version its metadata names; none: version 1) and checked, before anyone sees
 *   it. One that cannot be read is a fault, never a guess: `readStream` throws
 *   `UnreadableEvent` (a command on that stream fails with a 500 that names nothing
 *   internal), `readAll` and subscriptions deliver it marked `unreadable` with the reason,
 *   for the runner to park.
 */
import {
  MalformedEvent,
  UnreadableEvent,
  type AllSubscription,
  type EventStore,
  type EventToAppend,
  type JsonObject,
  type RecordedEvent,
  type SubscriptionBatch,
} from './event-store.js';

/** What the store needs of the event schemas (domain/event-schema.ts's `EventRegistry` is one). */
export interface EventSchemas {
  currentVersion(type: string): number | undefined;
  /** Why `data` is not a valid current `type` event, or null. */
  problemWith(type: string, data: unknown): string | null;
  read(
    type: string,
    version: unknown,
    data: unknown,
  ): { readable: true; data: object; upcast: boolean } | { readable: false; reason: string };
}

export function versionedEventStore(store: EventStore, schemas: EventSchemas): EventStore {
  const stamp = (streamId: string, event: EventToAppend): EventToAppend => {
    const problem = schemas.problemWith(event.type, event.data);
    if (problem) throw new MalformedEvent(streamId, problem);
    return { ...event, metadata: { ...event.metadata, schemaVersion: schemas.currentVersion(event.type)! } };
  };
  const read = (event: RecordedEvent): RecordedEvent => {
    const outcome = schemas.read(event.type, event.metadata.schemaVersion, event.data);
    if (!outcome.readable) return { ...event, unreadable: outcome.reason };
    if (!outcome.upcast) return event;
    // The data is now the current version's: its metadata says so.
    return {
      ...event,
      data: outcome.data as JsonObject,
      metadata: { ...event.metadata, schemaVersion: schemas.currentVersion(event.type)! },
    };
  };
  return {
    async appendToStream(streamId, events, options) {
      return store.appendToStream(
        streamId,
        events.map((event) => stamp(streamId, event)),
        options,
      );
    },
    async readStream(streamId, options) {
      const result = await store.readStream(streamId, options);
      if (result.status !== 'found') return result;
      const events = result.events.map(read);
      const bad = events.find((e) => e.unreadable !== undefined);
      if (bad) throw new UnreadableEvent(streamId, bad.revision, bad.id, bad.unreadable!);
      return { status: 'found', events };
    },
    readAll: async (options) => (await store.readAll(options)).map(read),
    subscribeToAll: (options) => readSubscription(store.subscribeToAll(options), read),
    headPosition: () => store.headPosition(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

function readSubscription(
  subscription: AllSubscription,
  read: (event: RecordedEvent) => RecordedEvent,
): AllSubscription {
  return {
    close: () => subscription.close(),
    async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
      for await (const batch of subscription) yield { ...batch, events: batch.events.map(read) };
    },
  };
}
