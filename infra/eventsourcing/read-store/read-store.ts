/**
 * The read store port: documents written by projections and read by query endpoints.
 * One projection logic, two adapters (embedded SQLite, MongoDB). The operations are the
 * ones projections need and nothing more, so both adapters can make them exactly-once:
 * SQLite applies a batch and its checkpoint in one transaction; MongoDB guards every
 * write with the event position that caused it, so replaying a batch changes nothing.
 */
import type { Position } from '../event-store/position.js';

export type DocValue = null | boolean | number | string | DocValue[] | { [key: string]: DocValue };
/**
 * A stored document. `id` is its key; fields are top-level (no dotted paths), named
 * [A-Za-z][A-Za-z0-9_]* (never `id`; `_`-prefixed names are the stores' own).
 */
export type Doc = { id: string } & { [field: string]: DocValue };
export type DocFields = { [field: string]: DocValue };

export type SortDirection = 'asc' | 'desc';

/**
 * An index: zero or more equality fields, then the sort fields. A query is served only
 * if it matches a declared index: `where` names exactly the equality fields and `sort`
 * names the sort fields in order (or the index's `sort` all reversed). Ties are broken by `id`.
 * Sort fields hold a string, number or boolean (one type per field): `find` refuses to
 * page past a document where one is null or missing (keyset cursors compare values).
 */
export interface IndexSpec {
  equal: string[];
  sort: string[];
}

export interface CollectionSpec {
  name: string;
  indexes: IndexSpec[];
}

export type WriteOp =
  /** Creates the document; ignored when one with this id already exists. */
  | { op: 'insert'; collection: string; id: string; doc: DocFields }
  /**
   * Creates or changes: `setOnInsert` only on creation, then `set`, then `inc` (missing fields count as 0).
   * A field appears in at most one of the three (MongoDB refuses one field in two update operators).
   */
  | {
      op: 'upsert';
      collection: string;
      id: string;
      set?: DocFields;
      setOnInsert?: DocFields;
      inc?: Record<string, number>;
    }
  /** Changes an existing document; ignored when absent. A field in at most one of `set`/`inc`. */
  | { op: 'update'; collection: string; id: string; set?: DocFields; inc?: Record<string, number> }
  | { op: 'delete'; collection: string; id: string };

/** The writes caused by one event, tagged with its position (the idempotency guard). */
export interface PositionedWrites {
  position: Position;
  ops: WriteOp[];
}

export interface RangeCondition {
  gt?: DocValue;
  gte?: DocValue;
  lt?: DocValue;
  lte?: DocValue;
}

export interface FindQuery {
  /** Equality on the index's `equal` fields: strings, numbers, booleans, or null (null or missing). */
  where?: Record<string, DocValue>;
  /** The first sort field may also be bounded. */
  range?: RangeCondition;
  sort: { fields: string[]; direction: SortDirection };
  /** 1..500, default 50. */
  limit?: number;
  /** Opaque cursor from a previous page's `next`. */
  after?: string;
}

export interface FindResult {
  items: Doc[];
  /** Present when more items may follow. */
  next?: string;
}

export interface StoredDoc {
  doc: Doc;
  /** Opaque, compares as text: see `guardOf` in write-batch.ts. */
  guard: string;
}

/** A projection's progress: where it stopped and the events it had to give up on. */
export interface CheckpointRecord {
  name: string;
  position: Position | null;
  updatedAt: Date | null;
}

export interface ParkedEvent {
  projection: string;
  eventId: string;
  eventType: string;
  streamId: string;
  position: Position;
  error: string;
  attempts: number;
  parkedAt: Date;
}

export interface ReadStore {
  /** Creates tables/collections and indexes (idempotent); call once at start-up. */
  ensureCollections(specs: CollectionSpec[]): Promise<void>;

  /**
   * Applies the writes in order, then moves the projection's checkpoint to `checkpoint`.
   * Exactly-once: atomic in SQLite; idempotent by position in both (each document keeps
   * the position of the last write applied to it, so a collection is written by one
   * projection only). Positions strictly increase within a batch; writes at or before the
   * current checkpoint are skipped, and the checkpoint never moves back.
   */
  commit(projection: string, writes: PositionedWrites[], checkpoint: Position): Promise<void>;

  get(collection: string, id: string): Promise<Doc | null>;
  /**
   * The document with the guard of the last write applied to it. Projection runners use
   * it so that what a handler reads mid-batch matches what a replay will store.
   */
  getStored(collection: string, id: string): Promise<StoredDoc | null>;
  find(collection: string, query: FindQuery): Promise<FindResult>;

  getCheckpoint(projection: string): Promise<CheckpointRecord>;
  listCheckpoints(): Promise<CheckpointRecord[]>;

  /** Parking the same event (projection, eventId) again replaces the earlier record. */
  park(event: ParkedEvent): Promise<void>;
  listParked(projection?: string): Promise<ParkedEvent[]>;
  /**
   * Forgets one parked event (the operator retried it with success, or skipped it): true if
   * it was parked. A runner already following keeps its redelivery floor held back until it
   * starts again, which only keeps a process manager's memory longer.
   */
  unpark(projection: string, eventId: string): Promise<boolean>;

  /**
   * Deletes the collection's documents whose `field` (a text field, first sort field of one
   * of its indexes) sorts before `before`: what a retention lets go of (tokens signed out
   * that have expired since). Returns how many went.
   */
  deleteBefore(collection: string, field: string, before: string): Promise<number>;

  /** Empties the collections and forgets the projection's checkpoint and parked events (rebuild). */
  reset(projection: string, collections: string[]): Promise<void>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A query no declared index serves, or malformed arguments: a programming error. */
export class ReadStoreQueryError extends Error {
  override readonly name = 'ReadStoreQueryError';
}

/** A cursor that this store did not produce (client input): answer 400, never 500. */
export class InvalidCursor extends Error {
  override readonly name = 'InvalidCursor';
  constructor() {
    super('invalid cursor');
  }
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
