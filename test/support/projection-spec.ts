/**
 * Given / then for projections: given these events (recorded in this order, as the event
 * store hands them over), then the projection's collections hold exactly these documents.
 *
 * Each specification runs on every read store — SQLite always, MongoDB (or FerretDB) when
 * MONGODB_URI is set, said loudly when it is not — and twice on each: all the events in one
 * batch (what the handler reads, through the batch view, includes what the batch's earlier
 * events wrote) and one batch per event (it reads what was committed). Events outside the
 * projection's filter are never handed to it, as the store would not hand them, so a
 * specification may tell the whole story.
 */
import { expect } from 'chai';
import type { AccountEvent } from '../../domain/billing/events.js';
import type { UserEvent } from '../../domain/identity/events.js';
import type { CustomerOrderEvent } from '../../domain/ordering/events.js';
import type { MarketEvent, TraderOrdersEvent } from '../../domain/trading/events.js';
import type { InboxEvent } from '../../domain/notifications/events.js';
import type { RecordedEvent } from '../../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../../infra/eventsourcing/event-store/position.js';
import type { Collection, DocShape } from '../../infra/eventsourcing/read-store/collection.js';
import type { Doc, PositionedWrites, ReadStore } from '../../infra/eventsourcing/read-store/read-store.js';
import { BatchView } from '../../infra/eventsourcing/subscriptions/batch-view.js';
import type { EventHandler } from '../../infra/eventsourcing/subscriptions/event-handler.js';
import { openMongoReadStore } from '../../infra/mongodb/mongo-read-store.js';
import { compileFilter } from '../../infra/sqlite/event-store/reader.js';
import { openSqliteReadStore } from '../../infra/sqlite/read-store/sqlite-read-store.js';
import { dropDatabases, mongoTitle, mongoUri, skipWithoutMongo, uniqueDbName } from './mongo-target.js';

/** An event of any stream a projection reads, in its current version. */
export type StoredEvent = AccountEvent | UserEvent | MarketEvent | TraderOrdersEvent | CustomerOrderEvent | InboxEvent;

/** An event given to a specification: the event and the stream it was appended to. */
export type GivenEvent = StoredEvent & { stream: string };

/** The documents one collection is expected to hold, in any order. */
export interface ExpectedDocuments {
  collection: string;
  docs: Doc[];
}

/** `then`'s argument: the collection's documents, checked against its document type. */
export function documents<D extends DocShape<D>>(collection: Collection<D>, docs: NoInfer<D>[]): ExpectedDocuments {
  // D meets DocShape: its fields hold DocValues, as a Doc's do.
  return { collection: collection.name, docs: docs as Doc[] };
}

/** The position the n-th given event (from 0) is recorded at. */
export function positionOf(n: number): RecordedEvent['position'] {
  const p = BigInt(n + 1) * 100n;
  return { commit: p, prepare: p };
}

/** The n-th given event's position (from 0) as projections keep it in `seq` fields. */
export function seqOf(n: number): string {
  return sortablePosition(positionOf(n));
}

/** The given events as the store records them: ids `e1`, `e2`…, positions in order, revisions counted per stream. */
export function record(events: GivenEvent[]): RecordedEvent[] {
  const revisions = new Map<string, number>();
  return events.map(({ stream, type, data }, n) => {
    const revision = (revisions.get(stream) ?? -1) + 1;
    revisions.set(stream, revision);
    return {
      id: `e${n + 1}`,
      type,
      streamId: stream,
      revision,
      position: positionOf(n),
      // Domain events' data are JSON objects by construction (domain/event-schema.ts).
      data: data as RecordedEvent['data'],
      metadata: {},
      created: new Date('2026-03-01T00:00:00.000Z'),
    };
  });
}

interface StoreUnderTest {
  title: string;
  open(): Promise<ReadStore>;
  cleanup(): Promise<void>;
}

function storesUnderTest(): StoreUnderTest[] {
  const stores: StoreUnderTest[] = [
    {
      title: 'SQLite',
      open: async () => openSqliteReadStore({ file: ':memory:' }),
      cleanup: async () => undefined,
    },
  ];
  const uri = mongoUri;
  if (uri) {
    const databases: string[] = [];
    stores.push({
      title: mongoTitle,
      open: async () => {
        const dbName = uniqueDbName('projection_spec');
        databases.push(dbName);
        return openMongoReadStore({ uri, dbName });
      },
      cleanup: () => dropDatabases(databases.splice(0)),
    });
  }
  return stores;
}

export interface ProjectionSpecification {
  given(...events: GivenEvent[]): {
    /**
     * The projection's collections hold exactly these documents; every collection of the
     * projection not named holds none.
     */
    then(...expected: ExpectedDocuments[]): Promise<void>;
  };
}

/** A `describe` per read store, in which `body` declares the projection's specifications. */
export function describeProjection(handler: EventHandler, body: (spec: ProjectionSpecification) => void): void {
  describe(`${handler.name} projection`, () => {
    for (const store of storesUnderTest()) {
      describe(`on ${store.title}`, () => {
        after(() => store.cleanup());
        body(specificationOn(handler, store));
      });
    }
    if (!mongoUri) {
      describe('on MongoDB', () => {
        skipWithoutMongo(`the ${handler.name} projection's specifications on MongoDB`);
      });
    }
  });
}

function specificationOn(handler: EventHandler, store: StoreUnderTest): ProjectionSpecification {
  return {
    given(...events) {
      const recorded = record(events);
      return {
        // biome-ignore lint/suspicious/noThenProperty: given/then is the specification's wording; `given` is never awaited.
        async then(...expected) {
          for (const batches of ['one batch', 'one batch per event'] as const) {
            const readStore = await store.open();
            try {
              const written = await project(handler, readStore, recorded, batches === 'one batch');
              await expectDocuments(handler, readStore, written, expected, `${batches}, on ${store.title}`);
            } finally {
              await readStore.close();
            }
          }
        },
      };
    },
  };
}

/**
 * Hands the events the projection's filter keeps to it as its runner would, and commits
 * its writes with the checkpoint. Returns the ids written, per collection: every document
 * the collections can hold.
 */
async function project(
  handler: EventHandler,
  readStore: ReadStore,
  events: RecordedEvent[],
  oneBatch: boolean,
): Promise<Map<string, Set<string>>> {
  await readStore.ensureCollections(handler.collections);
  const keeps = handler.filter ? compileFilter(handler.filter) : () => true;
  const written = new Map(handler.collections.map((c) => [c.name, new Set<string>()]));
  let view = new BatchView(readStore);
  let batch: PositionedWrites[] = [];
  const commit = async (checkpoint: RecordedEvent['position']) => {
    await readStore.commit(handler.name, batch, checkpoint);
    view = new BatchView(readStore);
    batch = [];
  };
  for (const event of events.filter((e) => keeps(e.streamId, e.type))) {
    const ops = await handler.handle(event, view, { redeliveryFloor: -1 });
    view.record(event.position, ops);
    batch.push({ position: event.position, ops });
    for (const op of ops) written.get(op.collection)?.add(op.id);
    if (!oneBatch) await commit(event.position);
  }
  const last = events[events.length - 1];
  if (oneBatch && last) await commit(last.position);
  return written;
}

async function expectDocuments(
  handler: EventHandler,
  readStore: ReadStore,
  written: Map<string, Set<string>>,
  expected: ExpectedDocuments[],
  how: string,
): Promise<void> {
  const owned = handler.collections.map((c) => c.name);
  for (const { collection } of expected) {
    expect(owned, `${collection} is not a collection of the ${handler.name} projection`).to.include(collection);
  }
  for (const collection of owned) {
    const stored: Doc[] = [];
    for (const id of written.get(collection) ?? []) {
      const doc = await readStore.get(collection, id);
      if (doc) stored.push(doc);
    }
    const wanted = expected.filter((e) => e.collection === collection).flatMap((e) => e.docs);
    expect(byId(stored), `${collection} (${how})`).to.deep.equal(byId(wanted));
  }
}

function byId(docs: Doc[]): Doc[] {
  return [...docs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
