/**
 * The embedded read store: one SQLite file (better-sqlite3, synchronous), one table per
 * collection (`rm_<name>`: id, JSON doc, guard) with an index per declared IndexSpec.
 * A commit applies its operations and moves the checkpoint in one transaction; documents
 * also keep the position guard (see write-batch.ts) so replays behave exactly as in MongoDB.
 *
 * Its parts, each in a module of its own: the connection's settings (database.ts), the
 * collections' tables and indexes (collection-tables.ts), finds as SQL (find-sql.ts), the
 * commits of a turn in one transaction (batch-commits.ts), and the projections'
 * checkpoints and parked events (progress.ts).
 */
import type Database from 'better-sqlite3';
import type { Position } from '../../eventsourcing/event-store/position.js';
import { checkId } from '../../eventsourcing/read-store/catalog.js';
import { planFind, toPage } from '../../eventsourcing/read-store/find-plan.js';
import type {
  CheckpointRecord,
  CollectionSpec,
  Doc,
  DocFields,
  FindQuery,
  FindResult,
  ParkedEvent,
  PositionedWrites,
  ReadStore,
  StoredDoc,
} from '../../eventsourcing/read-store/read-store.js';
import { checkBatch, checkProjectionName } from '../../eventsourcing/read-store/write-batch.js';
import { BatchCommits } from './batch-commits.js';
import { CollectionTables } from './collection-tables.js';
import { openReadDatabase, type ReadDatabaseOptions } from './database.js';
import { FindStatements } from './find-sql.js';
import { ProjectionProgress } from './progress.js';

export type SqliteReadStoreOptions = ReadDatabaseOptions;

/** The read store, plus what tests and operators need to check the query plans. */
export interface SqliteReadStore extends ReadStore {
  /** SQLite's EXPLAIN QUERY PLAN lines for the statement `find` would run. */
  explainFind(collection: string, query: FindQuery): string[];
}

export function openSqliteReadStore(options: SqliteReadStoreOptions): SqliteReadStore {
  return new EmbeddedReadStore(openReadDatabase(options));
}

class EmbeddedReadStore implements SqliteReadStore {
  private readonly tables: CollectionTables;
  private readonly finds: FindStatements;
  private readonly progress: ProjectionProgress;
  private readonly commits: BatchCommits;
  private readonly resetAll: Database.Transaction<(projection: string, collections: string[]) => void>;

  constructor(private readonly db: Database.Database) {
    this.tables = new CollectionTables(db);
    this.finds = new FindStatements(db);
    this.progress = new ProjectionProgress(db);
    this.commits = new BatchCommits(db, this.tables, this.progress);
    this.resetAll = db.transaction((projection: string, collections: string[]) => {
      for (const collection of collections) this.tables.table(collection).clear.run();
      this.progress.forget(projection);
    });
  }

  async ensureCollections(specs: CollectionSpec[]): Promise<void> {
    this.tables.declare(specs);
  }

  async commit(projection: string, writes: PositionedWrites[], checkpoint: Position): Promise<void> {
    checkBatch(projection, writes, checkpoint, this.tables.catalog);
    return this.commits.commit(projection, writes, checkpoint);
  }

  async get(collection: string, id: string): Promise<Doc | null> {
    const statements = this.tables.table(collection);
    checkId(id);
    const row = statements.select.get(id);
    return row ? toDoc(id, row.doc) : null;
  }

  async getStored(collection: string, id: string): Promise<StoredDoc | null> {
    const statements = this.tables.table(collection);
    checkId(id);
    const row = statements.select.get(id);
    return row ? { doc: toDoc(id, row.doc), guard: row.guard } : null;
  }

  async find(collection: string, query: FindQuery): Promise<FindResult> {
    const plan = planFind(this.tables.catalog, collection, query);
    return toPage(
      plan,
      this.finds.rows(plan).map((row) => toDoc(row.id, row.doc)),
    );
  }

  explainFind(collection: string, query: FindQuery): string[] {
    return this.finds.explain(planFind(this.tables.catalog, collection, query));
  }

  async getCheckpoint(projection: string): Promise<CheckpointRecord> {
    checkProjectionName(projection);
    return this.progress.checkpoint(projection);
  }

  async listCheckpoints(): Promise<CheckpointRecord[]> {
    return this.progress.checkpoints();
  }

  async park(event: ParkedEvent): Promise<void> {
    checkProjectionName(event.projection);
    this.progress.park(event);
  }

  async listParked(projection?: string): Promise<ParkedEvent[]> {
    return this.progress.parked(projection);
  }

  async unpark(projection: string, eventId: string): Promise<boolean> {
    return this.progress.unpark(projection, eventId);
  }

  async deleteBefore(collection: string, field: string, before: string): Promise<number> {
    return this.tables.deleteBefore(collection, field, before);
  }

  async reset(projection: string, collections: string[]): Promise<void> {
    checkProjectionName(projection);
    for (const collection of collections) this.tables.table(collection); // refuse an unknown name before deleting anything
    this.resetAll.immediate(projection, collections);
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.commits.flush();
    this.db.close();
  }
}

function toDoc(id: string, json: string): Doc {
  return { id, ...(JSON.parse(json) as DocFields) };
}
