/**
 * One table per declared collection (`rm_<name>`: id, JSON doc, guard), with an index per
 * declared IndexSpec, and the statements each table is read and written with.
 *
 * Indexed fields are virtual generated columns (`json_extract(doc, '$.field')`, computed
 * on read, stored only in the index) rather than bare expressions in the index: SQLite
 * seeks an index on a row value `(a, b, id) > (?, ?, ?)` — the keyset cursor — only over
 * columns, while over expressions it scans from the first row of the range.
 */
import type Database from 'better-sqlite3';
import {
  CollectionCatalog,
  checkLeadingSortField,
  indexKeyFields,
  indexName,
  storageName,
} from '../../eventsourcing/read-store/catalog.js';
import type { CollectionSpec } from '../../eventsourcing/read-store/read-store.js';

/** Prepared statements for one collection's table, made once (commit is the hot path). */
export interface TableStatements {
  select: Database.Statement<[string], { doc: string; guard: string }>;
  insert: Database.Statement<[string, string, string]>;
  update: Database.Statement<[string, string, string]>;
  remove: Database.Statement<[string]>;
  clear: Database.Statement<[]>;
}

/**
 * The generated column holding an indexed field. SQLite names ignore case, so uppercase
 * letters are spelled `_x` and underscores `__` (one name per field: `createdAt` →
 * `f_created_at`, `created_at` → `f_created__at`). Field names are checked
 * ([A-Za-z][A-Za-z0-9_]*), so inlining them in SQL is safe.
 */
export function column(field: string): string {
  return `f_${field.replace(/_/g, '__').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** Rows `deleteBefore` deletes per statement. */
const DELETE_CHUNK = 1_000;

export class CollectionTables {
  /** The collections declared so far: commits and queries may use only these. */
  readonly catalog = new CollectionCatalog();
  private readonly tables = new Map<string, TableStatements>();
  private readonly createAll: (specs: CollectionSpec[]) => void;

  constructor(private readonly db: Database.Database) {
    this.createAll = db.transaction((specs: CollectionSpec[]) => {
      for (const spec of specs) this.create(spec);
    });
  }

  /** Creates the tables, columns and indexes the specs need (idempotent), then declares the collections. */
  declare(specs: CollectionSpec[]): void {
    CollectionCatalog.check(specs);
    this.createAll(specs);
    this.catalog.add(specs);
  }

  /** A declared collection's statements; throws ReadStoreQueryError for an undeclared one. */
  table(collection: string): TableStatements {
    this.catalog.get(collection);
    return this.tables.get(collection)!;
  }

  /** The statements of a collection the caller has checked is declared (`checkBatch`). */
  declared(collection: string): TableStatements {
    return this.tables.get(collection)!;
  }

  /** Deletes the documents whose `field` (the first sort field of an index) sorts before `before`. */
  deleteBefore(collection: string, field: string, before: string): number {
    const name = storageName(collection);
    checkLeadingSortField(this.catalog.get(collection), field);
    const chunk = this.db.prepare<[string, number]>(
      `DELETE FROM ${name} WHERE id IN (SELECT id FROM ${name} WHERE ${column(field)} < ? LIMIT ?)`,
    );
    let deleted = 0;
    // In chunks: a long retention backlog never holds the write lock for long.
    for (;;) {
      const { changes } = chunk.run(before, DELETE_CHUNK);
      deleted += changes;
      if (changes < DELETE_CHUNK) return deleted;
    }
  }

  private create(spec: CollectionSpec): void {
    const name = storageName(spec.name);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${name} (
      id TEXT PRIMARY KEY NOT NULL,
      doc TEXT NOT NULL,    -- the fields as JSON, without the id
      guard TEXT NOT NULL   -- guard of the last operation applied (write-batch.ts)
    )`);
    this.addIndexedColumns(name, spec);
    for (const index of spec.indexes) {
      const columns = [...indexKeyFields(index).map(column), 'id'].join(', ');
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${indexName(spec.name, index)} ON ${name} (${columns})`);
    }
    this.tables.set(spec.name, {
      select: this.db.prepare(`SELECT doc, guard FROM ${name} WHERE id = ?`),
      insert: this.db.prepare(`INSERT INTO ${name} (doc, guard, id) VALUES (?, ?, ?)`),
      update: this.db.prepare(`UPDATE ${name} SET doc = ?, guard = ? WHERE id = ?`),
      remove: this.db.prepare(`DELETE FROM ${name} WHERE id = ?`),
      clear: this.db.prepare(`DELETE FROM ${name}`),
    });
  }

  /** A generated column for each indexed field the table does not have yet (an index declared since). */
  private addIndexedColumns(name: string, spec: CollectionSpec): void {
    const existing = new Set(
      this.db
        .prepare<[], { name: string }>(`SELECT name FROM pragma_table_xinfo('${name}')`)
        .all()
        .map((c) => c.name),
    );
    for (const field of new Set(spec.indexes.flatMap(indexKeyFields))) {
      if (existing.has(column(field))) continue;
      this.db.exec(
        `ALTER TABLE ${name} ADD COLUMN ${column(field)} GENERATED ALWAYS AS (json_extract(doc, '$.${field}')) VIRTUAL`,
      );
    }
  }
}
