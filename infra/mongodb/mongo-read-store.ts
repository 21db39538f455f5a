/**
 * The MongoDB read store. One collection per read-model collection (`rm_<name>`, `_id` =
 * id), plus `read_checkpoints` and `read_parked`. It needs no multi-document transactions
 * (a standalone server works): every write carries the position guard of the operation
 * that caused it (`_pos`, see write-batch.ts) and applies only over an older guard, so
 * replaying a batch that was cut short — or applied whole — changes nothing. The
 * checkpoint is written after the operations and only ever moves forward.
 */
import {
  MongoBulkWriteError,
  MongoClient,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type Sort,
  type UpdateFilter,
} from 'mongodb';
import { DUPLICATE_KEY_CODES, isDuplicateKey } from './mongo-errors.js';
import { describeMongoServer } from './mongo-server.js';
import { parseSortablePosition, sortablePosition, type Position } from '../eventsourcing/event-store/position.js';
import {
  CollectionCatalog,
  checkId,
  checkLeadingSortField,
  indexKeyFields,
  storageName,
} from '../eventsourcing/read-store/catalog.js';
import { planFind, toPage, type FindPlan } from '../eventsourcing/read-store/find-plan.js';
import type {
  CheckpointRecord,
  CollectionSpec,
  Doc,
  DocFields,
  FindQuery,
  FindResult,
  IndexSpec,
  ParkedEvent,
  PositionedWrites,
  ReadStore,
  StoredDoc as DocAndGuard,
  WriteOp,
} from '../eventsourcing/read-store/read-store.js';
import {
  applyOp,
  checkBatch,
  checkProjectionName,
  pendingOps,
  type GuardedOp,
  type StoredState,
} from '../eventsourcing/read-store/write-batch.js';

export interface MongoReadStoreOptions {
  uri: string;
  dbName: string;
}

/** A read-model document as stored: the fields, the id as `_id`, and the guard. */
interface StoredDoc {
  _id: string;
  _pos?: string;
  [field: string]: unknown;
}

interface CheckpointDoc {
  _id: string;
  position: string; // sortablePosition(): compares as a string
  updatedAt: Date;
}

interface ParkedDoc {
  _id: { projection: string; eventId: string };
  projection: string;
  eventId: string;
  eventType: string;
  streamId: string;
  position: string;
  error: string;
  attempts: number;
  parkedAt: Date;
}

export async function openMongoReadStore(options: MongoReadStoreOptions): Promise<ReadStore> {
  const client = new MongoClient(options.uri);
  await client.connect();
  try {
    const db = client.db(options.dbName);
    const server = await describeMongoServer(db);
    return await mongoReadStore(db, () => client.close(), { guards: server.kind === 'mongodb' ? 'server' : 'client' });
  } catch (error) {
    await client.close();
    throw error;
  }
}

export interface MongoServerTraits {
  /**
   * Where a write's position guard is checked. `server` (MongoDB): in the write's filter,
   * one atomic, indexed step per operation. `client` (FerretDB): each document is read by
   * `_id`, the batch's operations on it applied here with the reference semantics, and the
   * result written back by `_id` — FerretDB v1.24 hands only a `find`'s lone `_id` filter to
   * SQLite and scans the whole collection in its own process for every other filter and for
   * every update and delete (a guarded upsert per operation made a 10,000-unit listing's
   * inserts quadratic; here new documents go in one insert, each changed one is written once
   * per batch), and it updates conditionally with a read and then a write anyway. Safe because a collection has one writer: its projection's
   * lease holder (and on FerretDB one process runs them all, see ferretdb-guard.ts).
   */
  guards: 'server' | 'client';
}

/** The read store over an open database (`close` is what `ReadStore.close` calls). */
export async function mongoReadStore(
  db: Db,
  close: () => Promise<void>,
  traits: MongoServerTraits,
): Promise<ReadStore> {
  await db.collection<ParkedDoc>('read_parked').createIndex({ projection: 1, position: 1, eventId: 1 });
  return new DocumentReadStore(db, close, traits);
}

/** The store's documents, checkpoints and parked events; writes guarded where `traits.guards` says. */
class DocumentReadStore implements ReadStore {
  private readonly catalog = new CollectionCatalog();
  private readonly checkpoints: Collection<CheckpointDoc>;
  private readonly parked: Collection<ParkedDoc>;

  constructor(
    private readonly db: Db,
    readonly close: () => Promise<void>,
    private readonly traits: MongoServerTraits,
  ) {
    this.checkpoints = db.collection<CheckpointDoc>('read_checkpoints');
    this.parked = db.collection<ParkedDoc>('read_parked');
  }

  async ensureCollections(specs: CollectionSpec[]): Promise<void> {
    CollectionCatalog.check(specs);
    for (const spec of specs) {
      // One physical index per distinct key; an index on no fields is `{_id: 1}`, which always exists.
      const keys = new Map(
        spec.indexes
          .filter((index) => indexKeyFields(index).length > 0)
          .map((index) => [indexKeyFields(index).join(','), keyPattern(index)]),
      );
      // One index per command: FerretDB v1.24 panics (and drops the connection) on a
      // createIndexes that names several indexes of which more than one exists already.
      for (const key of keys.values()) await this.db.collection(storageName(spec.name)).createIndex(key);
    }
    this.catalog.add(specs);
  }

  async commit(projection: string, writes: PositionedWrites[], checkpoint: Position): Promise<void> {
    checkBatch(projection, writes, checkpoint, this.catalog);
    // Nothing to skip in a batch without writes: spare the round trip.
    const current = writes.length > 0 ? (await this.readCheckpoint(projection)).position : null;
    const byCollection = opsByCollection(pendingOps(writes, current));
    // Collections hold different documents, so they can be written side by side; but
    // wait for all before failing, so a retry never races a write still in flight.
    const results = await Promise.allSettled(
      [...byCollection].map(([collection, ops]) =>
        this.traits.guards === 'server'
          ? applyInOrder(this.documents(collection), ops)
          : applyReadThenWrite(this.documents(collection), ops),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await this.moveCheckpointForward(projection, checkpoint);
  }

  async get(collection: string, id: string): Promise<Doc | null> {
    const docs = this.documents(collection);
    checkId(id);
    const doc = await docs.findOne({ _id: id }, { projection: { _pos: 0 } });
    return doc ? toDoc(doc) : null;
  }

  async getStored(collection: string, id: string): Promise<DocAndGuard | null> {
    const docs = this.documents(collection);
    checkId(id);
    const doc = await docs.findOne({ _id: id });
    // A document written before guards existed has none: any write is newer.
    return doc ? { doc: toDoc(doc), guard: doc._pos ?? '' } : null;
  }

  async find(collection: string, query: FindQuery): Promise<FindResult> {
    const plan = planFind(this.catalog, collection, query);
    const { filter, sort } = findFilter(plan);
    const rows = await this.documents(collection)
      .find(filter, { sort, limit: plan.limit + 1, hint: keyPattern(plan.index), projection: { _pos: 0 } })
      .toArray();
    return toPage(plan, rows.map(toDoc));
  }

  async deleteBefore(collection: string, field: string, before: string): Promise<number> {
    checkLeadingSortField(this.catalog.get(collection), field);
    return (await this.documents(collection).deleteMany({ [field]: { $lt: before } })).deletedCount;
  }

  getCheckpoint(projection: string): Promise<CheckpointRecord> {
    checkProjectionName(projection);
    return this.readCheckpoint(projection);
  }

  async listCheckpoints(): Promise<CheckpointRecord[]> {
    const docs = await this.checkpoints.find().sort({ _id: 1 }).toArray();
    return docs.map((doc) => toCheckpoint(doc._id, doc));
  }

  async park(event: ParkedEvent): Promise<void> {
    checkProjectionName(event.projection);
    const _id = { projection: event.projection, eventId: event.eventId };
    await this.parked.replaceOne(
      { _id },
      {
        projection: event.projection,
        eventId: event.eventId,
        eventType: event.eventType,
        streamId: event.streamId,
        position: sortablePosition(event.position),
        error: event.error,
        attempts: event.attempts,
        parkedAt: event.parkedAt,
      },
      { upsert: true },
    );
  }

  async listParked(projection?: string): Promise<ParkedEvent[]> {
    const docs =
      projection === undefined
        ? await this.parked.find().sort({ position: 1, projection: 1, eventId: 1 }).toArray()
        : await this.parked.find({ projection }).sort({ position: 1, eventId: 1 }).toArray();
    return docs.map(toParked);
  }

  async unpark(projection: string, eventId: string): Promise<boolean> {
    return (await this.parked.deleteOne({ _id: { projection, eventId } })).deletedCount > 0;
  }

  async reset(projection: string, collections: string[]): Promise<void> {
    checkProjectionName(projection);
    const targets = collections.map((collection) => this.documents(collection)); // refuse an unknown name before deleting anything
    // No transaction: forget the checkpoint first, so a reset cut short never leaves a
    // checkpoint that claims data which was already deleted (calling reset again finishes it).
    await this.checkpoints.deleteOne({ _id: projection });
    await this.parked.deleteMany({ projection });
    for (const target of targets) await target.deleteMany({});
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  private documents(collection: string): Collection<StoredDoc> {
    this.catalog.get(collection); // throws ReadStoreQueryError for an undeclared collection
    return this.db.collection<StoredDoc>(storageName(collection));
  }

  private async readCheckpoint(projection: string): Promise<CheckpointRecord> {
    const doc = await this.checkpoints.findOne({ _id: projection });
    return toCheckpoint(projection, doc);
  }

  private async moveCheckpointForward(projection: string, checkpoint: Position): Promise<void> {
    const position = sortablePosition(checkpoint);
    try {
      await this.checkpoints.updateOne(
        { _id: projection, $or: [{ position: { $lt: position } }, { position: { $exists: false } }] },
        { $set: { position, updatedAt: new Date() } },
        { upsert: true },
      );
    } catch (error) {
      // The checkpoint is already at or past this position: it stays (never moves back).
      if (!isDuplicateKey(error)) throw error;
    }
  }
}

/** A batch's pending operations by the collection they write, each collection's in the batch's order. */
function opsByCollection(pending: GuardedOp[]): Map<string, GuardedOp[]> {
  const byCollection = new Map<string, GuardedOp[]>();
  for (const guarded of pending) {
    const list = byCollection.get(guarded.op.collection) ?? [];
    list.push(guarded);
    byCollection.set(guarded.op.collection, list);
  }
  return byCollection;
}

/**
 * Applies one collection's operations in order. An ordered bulk write stops at the first
 * error; a duplicate key there means "already applied" (see `toModel`), so it goes on
 * with the operations after it. Any other error propagates (the caller retries the batch).
 * The index the server reports is only relied on as a lower bound (FerretDB reports 0 for
 * any failed update): every operation before the failed one was applied and the failed one
 * had nothing to do, so going on after any index up to it is right — the operations in
 * between are then guarded replays.
 */
async function applyInOrder(collection: Collection<StoredDoc>, ops: GuardedOp[]): Promise<void> {
  const models = ops.map(({ op, guard }) => toModel(op, guard));
  let start = 0;
  while (start < models.length) {
    try {
      await collection.bulkWrite(start === 0 ? models : models.slice(start), { ordered: true });
      return;
    } catch (error) {
      const failedAt = duplicateKeyIndex(error);
      if (failedAt === null) throw error;
      start += failedAt + 1;
    }
  }
}

/**
 * Applies one collection's operations with the guards checked here (`guards: 'client'`):
 * each document the batch touches is read once by `_id`, its operations applied in order
 * with `applyOp` (what SQLite applies), and the outcome written once by `_id`, carrying the
 * guard of the last operation applied, in one bulk write. A batch cut short leaves each
 * document either as it was or with all of its operations, so a replay skips exactly what
 * was applied.
 */
async function applyReadThenWrite(collection: Collection<StoredDoc>, ops: GuardedOp[]): Promise<void> {
  const before = await readByIds(collection, [...new Set(ops.map(({ op }) => op.id))]);
  const after = new Map(before);
  for (const { op, guard } of ops) {
    const outcome = applyOp(after.get(op.id) ?? null, op, guard);
    if (outcome.kind === 'put') after.set(op.id, { fields: outcome.fields, guard });
    else if (outcome.kind === 'remove') after.set(op.id, null);
  }
  const models: AnyBulkWriteOperation<StoredDoc>[] = [];
  for (const [id, state] of after) {
    const was = before.get(id) ?? null;
    if (state === was) continue; // untouched, or every operation on it skipped
    if (!state) models.push({ deleteOne: { filter: { _id: id } } });
    else if (!was) models.push({ insertOne: { document: { _id: id, ...state.fields, _pos: state.guard } } });
    else models.push({ replaceOne: { filter: { _id: id }, replacement: { ...state.fields, _pos: state.guard } } });
  }
  if (models.length > 0) await collection.bulkWrite(models, { ordered: false });
}

/** Point reads by `_id`, a few at a time (the only query FerretDB v1.24 hands to SQLite). */
async function readByIds(collection: Collection<StoredDoc>, ids: string[]): Promise<Map<string, StoredState | null>> {
  const states = new Map<string, StoredState | null>();
  for (let i = 0; i < ids.length; i += POINT_READS_AT_ONCE) {
    const chunk = ids.slice(i, i + POINT_READS_AT_ONCE);
    const docs = await Promise.all(chunk.map((id) => collection.findOne({ _id: id })));
    chunk.forEach((id, j) => {
      states.set(id, toStoredState(docs[j] ?? null));
    });
  }
  return states;
}

const POINT_READS_AT_ONCE = 32;

function toStoredState(stored: StoredDoc | null): StoredState | null {
  if (!stored) return null;
  const { _id, _pos, ...fields } = stored;
  // A document written before guards existed has none: any write is newer.
  return { fields: fields as DocFields, guard: _pos ?? '' };
}

/**
 * One operation as a bulk write model, guarded: it matches the document only while the
 * document's `_pos` is below the operation's guard. When the guard is not below, an update
 * finds nothing (nothing to do), and an upsert tries to insert a second document with the
 * same `_id` and fails with a duplicate key: also nothing to do. An insert of an existing
 * document fails the same way, which is its "ignored when present".
 */
function toModel(op: WriteOp, guard: string): AnyBulkWriteOperation<StoredDoc> {
  const filter: Filter<StoredDoc> = { _id: op.id, $or: [{ _pos: { $lt: guard } }, { _pos: { $exists: false } }] };
  switch (op.op) {
    case 'insert':
      return { insertOne: { document: { _id: op.id, ...op.doc, _pos: guard } } };
    case 'upsert':
      return { updateOne: { filter, update: updateOperators(op.set, op.inc, guard, op.setOnInsert), upsert: true } };
    case 'update':
      return { updateOne: { filter, update: updateOperators(op.set, op.inc, guard), upsert: false } };
    case 'delete':
      return { deleteOne: { filter } };
  }
}

function updateOperators(
  set: DocFields | undefined,
  inc: Record<string, number> | undefined,
  guard: string,
  setOnInsert?: DocFields,
): UpdateFilter<StoredDoc> {
  // The fields of set/setOnInsert/inc are disjoint (checkBatch), as MongoDB requires.
  const update: Document = { $set: { ...set, _pos: guard } };
  if (setOnInsert && Object.keys(setOnInsert).length > 0) update.$setOnInsert = setOnInsert;
  if (inc && Object.keys(inc).length > 0) update.$inc = inc;
  // The driver's typing cannot see that free-form fields are numeric for $inc.
  return update as UpdateFilter<StoredDoc>;
}

/** The index of the failed operation when a bulk write stopped on a duplicate key only; otherwise null. */
function duplicateKeyIndex(error: unknown): number | null {
  if (!(error instanceof MongoBulkWriteError)) return null;
  // A write concern error means the writes' durability is unknown: let the caller retry.
  if (error.result?.getWriteConcernError()) return null;
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  const first = writeErrors[0];
  if (writeErrors.length !== 1 || !first || !DUPLICATE_KEY_CODES.has(first.code)) return null;
  return first.index;
}

/** Equality fields, then sort fields, then `_id`: one index serves both sort directions. */
function keyPattern(index: IndexSpec): Record<string, 1> {
  return Object.fromEntries([...indexKeyFields(index), '_id'].map((field) => [field, 1 as const]));
}

/** The Mongo filter and sort for a plan: the same conditions as the SQL in infra/sqlite/read-store/find-sql.ts. */
function findFilter(plan: FindPlan): { filter: Filter<StoredDoc>; sort: Sort } {
  const filter: Filter<StoredDoc> = {};
  for (const { field, value } of plan.equal) filter[field] = value; // null also matches a missing field, as in SQLite
  const and: Filter<StoredDoc>[] = [];
  const first = plan.sortFields[0];
  if (first !== undefined && plan.range.length > 0) {
    and.push({ [first]: Object.fromEntries(plan.range.map(({ op, value }) => [`$${op}`, value])) });
  }
  if (plan.after) {
    const keyFields = [...plan.sortFields, '_id'];
    const keyValues = [...plan.after.values, plan.after.id];
    const beyond = plan.direction === 'asc' ? '$gt' : '$lt';
    // (k1, k2, …, id) beyond the cursor: k1 beyond, or k1 equal and k2 beyond, and so on.
    const alternatives = keyFields.map((_, i) => {
      const clause: Filter<StoredDoc> = {};
      for (let j = 0; j < i; j++) clause[keyFields[j]!] = keyValues[j];
      clause[keyFields[i]!] = { [beyond]: keyValues[i] };
      return clause;
    });
    // The same bound on the first key alone lets the index scan start at the cursor.
    and.push({ [keyFields[0]!]: { [plan.direction === 'asc' ? '$gte' : '$lte']: keyValues[0] } });
    and.push({ $or: alternatives });
  }
  if (and.length > 0) filter.$and = and;
  const direction = plan.direction === 'asc' ? 1 : -1;
  const sort: Sort = [...plan.sortFields, '_id'].map((field) => [field, direction] as [string, 1 | -1]);
  return { filter, sort };
}

function toDoc(stored: StoredDoc): Doc {
  const { _id, _pos, ...fields } = stored;
  return { id: _id, ...(fields as DocFields) };
}

function toCheckpoint(name: string, doc: CheckpointDoc | null): CheckpointRecord {
  return doc
    ? { name, position: parseSortablePosition(doc.position), updatedAt: doc.updatedAt }
    : { name, position: null, updatedAt: null };
}

function toParked(doc: ParkedDoc): ParkedEvent {
  return {
    projection: doc.projection,
    eventId: doc.eventId,
    eventType: doc.eventType,
    streamId: doc.streamId,
    position: parseSortablePosition(doc.position),
    error: doc.error,
    attempts: doc.attempts,
    parkedAt: doc.parkedAt,
  };
}
