/**
 * The embedded read store: one SQLite file (better-sqlite3, synchronous), one table per
 * collection (`rm_<name>`: id, JSON doc, guard) with an index per declared IndexSpec.
 * A commit applies its operations and moves the checkpoint in one transaction; documents
 * also keep the position guard (see write-batch.ts) so replays behave exactly as in MongoDB.
 *
 * Indexed fields are virtual generated columns (`json_extract(doc, '$.field')`, computed
 * on read, stored only in the index) rather than bare expressions in the index: SQLite
 * seeks an index on a row value `(a, b, id) > (?, ?, ?)` — the keyset cursor — only over
 * columns, while over expressions it scans from the first row of the range.
 */
import Database from 'better-sqlite3';
import { parseSortablePosition, sortablePosition, type Position } from '../../eventsourcing/event-store/position.js';
import { PerTurnBatch } from '../per-turn.js';
import {
  CollectionCatalog,
  checkId,
  checkLeadingSortField,
  indexKeyFields,
  indexName,
  storageName,
  type ScalarValue,
} from '../../eventsourcing/read-store/catalog.js';
import { planFind, toPage, type FindPlan } from '../../eventsourcing/read-store/find-plan.js';
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
} from '../../eventsourcing/read-store/read-store.js';
import {
  applyOp,
  checkBatch,
  checkProjectionName,
  pendingOps,
  type StoredState,
} from '../../eventsourcing/read-store/write-batch.js';
import { INLINE_CHECKPOINT_PAGES } from './wal-checkpointer.js';

export interface SqliteReadStoreOptions {
  /** A file path, or ':memory:' (tests). */
  file: string;
  /** WAL pages past which a commit checkpoints inline (wal-checkpointer.ts); INLINE_CHECKPOINT_PAGES by default. */
  inlineCheckpointPages?: number;
  /** The connection's page cache (MiB). Default 64. */
  pageCacheMb?: number;
}

/** The read store, plus what tests and operators need to check the query plans. */
export interface SqliteReadStore extends ReadStore {
  /** SQLite's EXPLAIN QUERY PLAN lines for the statement `find` would run. */
  explainFind(collection: string, query: FindQuery): string[];
}

/** Prepared statements for one collection's table, made once (commit is the hot path). */
interface TableStatements {
  select: Database.Statement<[string], { doc: string; guard: string }>;
  insert: Database.Statement<[string, string, string]>;
  update: Database.Statement<[string, string, string]>;
  remove: Database.Statement<[string]>;
  clear: Database.Statement<[]>;
}

interface CheckpointRow {
  name: string;
  position: string;
  updated_at: number;
}

interface ParkedRow {
  projection: string;
  event_id: string;
  event_type: string;
  stream_id: string;
  position: string;
  error: string;
  attempts: number;
  parked_at: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS read_checkpoints (
    name TEXT PRIMARY KEY NOT NULL,
    position TEXT NOT NULL,      -- sortablePosition(): compares as text
    updated_at INTEGER NOT NULL  -- ms since the epoch
  );
  CREATE TABLE IF NOT EXISTS read_parked (
    projection TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    position TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    parked_at INTEGER NOT NULL,
    PRIMARY KEY (projection, event_id)
  );
`;

/**
 * The generated column holding an indexed field. SQLite names ignore case, so uppercase
 * letters are spelled `_x` and underscores `__` (one name per field: `createdAt` →
 * `f_created_at`, `created_at` → `f_created__at`). Field names are checked
 * ([A-Za-z][A-Za-z0-9_]*), so inlining them in SQL is safe.
 */
const DELETE_CHUNK = 1_000;

function column(field: string): string {
  return `f_${field.replace(/_/g, '__').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** better-sqlite3 binds no booleans; json_extract gives JSON true/false as 1/0 anyway. */
function bindable(value: ScalarValue): string | number {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/** One projection's commit, waiting for the end of the event loop's turn. */
interface PendingCommit {
  projection: string;
  writes: PositionedWrites[];
  checkpoint: Position;
  resolve(): void;
  reject(error: unknown): void;
}

/** A document as a batch leaves it so far: `stored` says whether its row exists (update) or not (insert). */
interface TouchedDoc {
  collection: string;
  id: string;
  stored: boolean;
  state: StoredState | null;
  changed: boolean;
}

export function openSqliteReadStore(options: SqliteReadStoreOptions): SqliteReadStore {
  const db = new Database(options.file);
  db.pragma('journal_mode = WAL');
  // NORMAL may lose the last transactions on power loss (never corrupts). Acceptable here:
  // the read side is rebuilt from the events, and checkpoints roll back with the data.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Projections rewrite the same hot pages (balances, statistics, open orders) in many
  // small transactions: a larger page cache keeps them, and checkpointing the WAL every
  // ~40 MB instead of every ~4 MB copies each hot page back once instead of ten times.
  // bench:trading: ~12 % less CPU per order.
  db.pragma(`cache_size = -${Math.round((options.pageCacheMb ?? 64) * 1024)}`);
  db.pragma(`wal_autocheckpoint = ${options.inlineCheckpointPages ?? INLINE_CHECKPOINT_PAGES}`);
  // A WAL that grew past the backstop is cut back to 64 MB when it starts over.
  db.pragma('journal_size_limit = 67108864');
  db.exec(SCHEMA);

  const catalog = new CollectionCatalog();
  const tables = new Map<string, TableStatements>();
  const findStatements = new Map<string, Database.Statement<unknown[], { id: string; doc: string }>>();

  const getCheckpointRow = db.prepare<[string], CheckpointRow>('SELECT * FROM read_checkpoints WHERE name = ?');
  const listCheckpointRows = db.prepare<[], CheckpointRow>('SELECT * FROM read_checkpoints ORDER BY name');
  // Moves forward only: committing with an older checkpoint (a replay) leaves it as it is.
  const moveCheckpoint = db.prepare<[string, string, number]>(`
    INSERT INTO read_checkpoints (name, position, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
    WHERE excluded.position > read_checkpoints.position`);
  const deleteCheckpoint = db.prepare<[string]>('DELETE FROM read_checkpoints WHERE name = ?');
  const upsertParked = db.prepare<[string, string, string, string, string, string, number, number]>(`
    INSERT INTO read_parked (projection, event_id, event_type, stream_id, position, error, attempts, parked_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (projection, event_id) DO UPDATE SET
      event_type = excluded.event_type, stream_id = excluded.stream_id, position = excluded.position,
      error = excluded.error, attempts = excluded.attempts, parked_at = excluded.parked_at`);
  const listAllParked = db.prepare<[], ParkedRow>('SELECT * FROM read_parked ORDER BY position, projection, event_id');
  const listParkedOf = db.prepare<[string], ParkedRow>(
    'SELECT * FROM read_parked WHERE projection = ? ORDER BY position, event_id',
  );
  const deleteParked = db.prepare<[string]>('DELETE FROM read_parked WHERE projection = ?');

  function table(collection: string): TableStatements {
    catalog.get(collection); // throws ReadStoreQueryError for an undeclared collection
    return tables.get(collection)!;
  }

  function createTable(spec: CollectionSpec): void {
    const name = storageName(spec.name);
    db.exec(`CREATE TABLE IF NOT EXISTS ${name} (
      id TEXT PRIMARY KEY NOT NULL,
      doc TEXT NOT NULL,    -- the fields as JSON, without the id
      guard TEXT NOT NULL   -- guard of the last operation applied (write-batch.ts)
    )`);
    const existing = new Set(
      db
        .prepare<[], { name: string }>(`SELECT name FROM pragma_table_xinfo('${name}')`)
        .all()
        .map((c) => c.name),
    );
    for (const field of new Set(spec.indexes.flatMap(indexKeyFields))) {
      if (existing.has(column(field))) continue;
      db.exec(
        `ALTER TABLE ${name} ADD COLUMN ${column(field)} GENERATED ALWAYS AS (json_extract(doc, '$.${field}')) VIRTUAL`,
      );
    }
    for (const index of spec.indexes) {
      const columns = [...indexKeyFields(index).map(column), 'id'].join(', ');
      db.exec(`CREATE INDEX IF NOT EXISTS ${indexName(spec.name, index)} ON ${name} (${columns})`);
    }
    tables.set(spec.name, {
      select: db.prepare(`SELECT doc, guard FROM ${name} WHERE id = ?`),
      insert: db.prepare(`INSERT INTO ${name} (doc, guard, id) VALUES (?, ?, ?)`),
      update: db.prepare(`UPDATE ${name} SET doc = ?, guard = ? WHERE id = ?`),
      remove: db.prepare(`DELETE FROM ${name} WHERE id = ?`),
      clear: db.prepare(`DELETE FROM ${name}`),
    });
  }

  const ensure = db.transaction((specs: CollectionSpec[]) => specs.forEach(createTable));

  /**
   * Each document the batch touches is read once and written once, however many of its
   * operations apply to it: the operations run in order on the document in memory (the
   * same `applyOp` and guards as one by one), and only the end state is stored. A busy
   * batch touches hot documents (a broker's balance, the day's totals, an order placed
   * and matched in one append) many times; bench:trading wrote ~28 rows per deal one by one.
   */
  function applyBatch(projection: string, writes: PositionedWrites[], checkpoint: Position): void {
    const current = getCheckpointRow.get(projection);
    const touched = new Map<string, TouchedDoc>();
    for (const { op, guard } of pendingOps(writes, current ? parseSortablePosition(current.position) : null)) {
      const key = `${op.collection}\u0000${op.id}`;
      let doc = touched.get(key);
      if (!doc) {
        const row = tables.get(op.collection)!.select.get(op.id); // collection checked by checkBatch
        const state = row ? { fields: JSON.parse(row.doc) as DocFields, guard: row.guard } : null;
        doc = { collection: op.collection, id: op.id, stored: row !== undefined, state, changed: false };
        touched.set(key, doc);
      }
      const outcome = applyOp(doc.state, op, guard);
      if (outcome.kind === 'skip') continue;
      doc.state = outcome.kind === 'put' ? { fields: outcome.fields, guard } : null;
      doc.changed = true;
    }
    for (const { collection, id, stored, state, changed } of touched.values()) {
      if (!changed) continue;
      const statements = tables.get(collection)!;
      if (state) (stored ? statements.update : statements.insert).run(JSON.stringify(state.fields), state.guard, id);
      else if (stored) statements.remove.run(id);
    }
    moveCheckpoint.run(projection, sortablePosition(checkpoint), Date.now());
  }
  const applyOne = db.transaction(applyBatch);
  const applyAll = db.transaction((commits: PendingCommit[]) => {
    for (const c of commits) applyBatch(c.projection, c.writes, c.checkpoint);
  });

  /**
   * The projections of a process commit in one transaction per turn of the event loop:
   * woken by the same appends, they come to commit together, and each transaction of its
   * own would write the checkpoints' page again and take the locks again. If the shared
   * transaction fails, each commit is tried alone, so only a culprit's commit fails.
   * BEGIN IMMEDIATE: the write lock is taken up front, so another connection cannot make
   * the transaction fail half-way when it upgrades from reading to writing.
   */
  const commits = new PerTurnBatch<PendingCommit>((batch) => {
    if (batch.length > 1) {
      try {
        applyAll.immediate(batch);
        for (const c of batch) c.resolve();
        return;
      } catch {
        // Tried one by one below.
      }
    }
    for (const c of batch) {
      try {
        applyOne.immediate(c.projection, c.writes, c.checkpoint);
        c.resolve();
      } catch (error) {
        c.reject(error);
      }
    }
  });

  const resetAll = db.transaction((projection: string, collections: string[]) => {
    for (const collection of collections) table(collection).clear.run();
    deleteCheckpoint.run(projection);
    deleteParked.run(projection);
  });

  function findSql(plan: FindPlan): { sql: string; params: unknown[] } {
    const conditions: string[] = [];
    const params: unknown[] = [];
    for (const { field, value } of plan.equal) {
      if (value === null) conditions.push(`${column(field)} IS NULL`);
      else {
        conditions.push(`${column(field)} = ?`);
        params.push(bindable(value));
      }
    }
    const comparison = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
    for (const { op, value } of plan.range) {
      conditions.push(`${column(plan.sortFields[0]!)} ${comparison[op]} ?`);
      params.push(bindable(value));
    }
    const keyColumns = [...plan.sortFields.map(column), 'id'];
    if (plan.after) {
      // A row value comparison: SQLite seeks the index straight to the cursor.
      const placeholders = keyColumns.map(() => '?').join(', ');
      conditions.push(`(${keyColumns.join(', ')}) ${plan.direction === 'asc' ? '>' : '<'} (${placeholders})`);
      params.push(...plan.after.values.map(bindable), plan.after.id);
    }
    const direction = plan.direction === 'asc' ? 'ASC' : 'DESC';
    const sql =
      `SELECT id, doc FROM ${storageName(plan.collection)} INDEXED BY ${indexName(plan.collection, plan.index)}` +
      (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ` ORDER BY ${keyColumns.map((c) => `${c} ${direction}`).join(', ')} LIMIT ?`;
    params.push(plan.limit + 1);
    return { sql, params };
  }

  function findStatement(sql: string): Database.Statement<unknown[], { id: string; doc: string }> {
    let statement = findStatements.get(sql);
    if (!statement) {
      // INDEXED BY makes SQLite refuse to prepare rather than silently scan the table.
      statement = db.prepare(sql);
      findStatements.set(sql, statement);
    }
    return statement;
  }

  function toDoc(id: string, json: string): Doc {
    return { id, ...(JSON.parse(json) as DocFields) };
  }

  function toCheckpoint(name: string, row: CheckpointRow | undefined): CheckpointRecord {
    return row
      ? { name, position: parseSortablePosition(row.position), updatedAt: new Date(row.updated_at) }
      : { name, position: null, updatedAt: null };
  }

  function toParked(row: ParkedRow): ParkedEvent {
    return {
      projection: row.projection,
      eventId: row.event_id,
      eventType: row.event_type,
      streamId: row.stream_id,
      position: parseSortablePosition(row.position),
      error: row.error,
      attempts: row.attempts,
      parkedAt: new Date(row.parked_at),
    };
  }

  return {
    async ensureCollections(specs) {
      CollectionCatalog.check(specs);
      ensure(specs);
      catalog.add(specs);
    },

    async commit(projection, writes, checkpoint) {
      checkBatch(projection, writes, checkpoint, catalog);
      return new Promise<void>((resolve, reject) => commits.add({ projection, writes, checkpoint, resolve, reject }));
    },

    async get(collection, id) {
      const statements = table(collection);
      checkId(id);
      const row = statements.select.get(id);
      return row ? toDoc(id, row.doc) : null;
    },

    async getStored(collection, id) {
      const statements = table(collection);
      checkId(id);
      const row = statements.select.get(id);
      return row ? { doc: toDoc(id, row.doc), guard: row.guard } : null;
    },

    async find(collection, query): Promise<FindResult> {
      const plan = planFind(catalog, collection, query);
      const { sql, params } = findSql(plan);
      const rows = findStatement(sql).all(...params);
      return toPage(
        plan,
        rows.map((row) => toDoc(row.id, row.doc)),
      );
    },

    explainFind(collection, query) {
      const { sql, params } = findSql(planFind(catalog, collection, query));
      return db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((row) => row.detail);
    },

    async getCheckpoint(projection) {
      checkProjectionName(projection);
      return toCheckpoint(projection, getCheckpointRow.get(projection));
    },

    async listCheckpoints() {
      return listCheckpointRows.all().map((row) => toCheckpoint(row.name, row));
    },

    async park(event) {
      checkProjectionName(event.projection);
      upsertParked.run(
        event.projection,
        event.eventId,
        event.eventType,
        event.streamId,
        sortablePosition(event.position),
        event.error,
        event.attempts,
        event.parkedAt.getTime(),
      );
    },

    async listParked(projection) {
      const rows = projection === undefined ? listAllParked.all() : listParkedOf.all(projection);
      return rows.map(toParked);
    },

    async deleteBefore(collection, field, before) {
      const name = storageName(collection);
      checkLeadingSortField(catalog.get(collection), field);
      const chunk = db.prepare<[string, number]>(
        `DELETE FROM ${name} WHERE id IN (SELECT id FROM ${name} WHERE ${column(field)} < ? LIMIT ?)`,
      );
      let deleted = 0;
      // In chunks: a long retention backlog never holds the write lock for long.
      for (;;) {
        const { changes } = chunk.run(before, DELETE_CHUNK);
        deleted += changes;
        if (changes < DELETE_CHUNK) return deleted;
      }
    },

    async reset(projection, collections) {
      checkProjectionName(projection);
      collections.forEach(table); // refuse an unknown name before deleting anything
      resetAll.immediate(projection, collections);
    },

    async ping() {
      db.prepare('SELECT 1').get();
    },

    async close() {
      commits.flush();
      db.close();
    },
  };
}
