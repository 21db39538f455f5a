import type Database from 'better-sqlite3';

/**
 * Streams get a small integer id so the `(stream, revision)` index holds two integers
 * per event instead of a long name: smaller keys, fewer pages dirtied per append.
 * `events.position` is the rowid: appends go to the end of the table's B-tree, and
 * `$all` is read in rowid order without any index.
 */
export function migrate(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS streams (
      id       INTEGER PRIMARY KEY,
      name     TEXT    NOT NULL UNIQUE
    );
    CREATE TABLE IF NOT EXISTS events (
      position INTEGER PRIMARY KEY,
      stream   INTEGER NOT NULL REFERENCES streams (id),
      revision INTEGER NOT NULL,
      id       TEXT    NOT NULL,
      type     TEXT    NOT NULL,
      data     TEXT    NOT NULL,
      metadata TEXT    NOT NULL,
      created  INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, revision);
    -- The latest snapshot of a stream (see snapshot-store.ts): a shortcut, never the truth.
    CREATE TABLE IF NOT EXISTS snapshots (
      stream   TEXT    PRIMARY KEY,
      revision INTEGER NOT NULL,
      position INTEGER NOT NULL,
      version  INTEGER NOT NULL,
      state    TEXT    NOT NULL,
      taken    INTEGER NOT NULL
    );
  `);
  // Files written before a stream's revision was read from its events kept it here too.
  const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('streams')").all();
  if (columns.some((c) => c.name === 'revision')) db.exec('ALTER TABLE streams DROP COLUMN revision');
}

export type Durability = 'full' | 'normal';

/** `pageCacheMb`: this connection's page cache (SQLite's own default is 2 MiB). */
export function configure(db: Database.Database, durability: Durability, pageCacheMb = 64): void {
  db.pragma('journal_mode = WAL');
  // FULL syncs the WAL on every commit: an acknowledged append survives a power cut,
  // not only a killed process. Grouping concurrent appends into one commit pays for it.
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  // Another process (a CLI, a second reader) may hold the write lock briefly: wait, don't fail.
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${Math.round(pageCacheMb * 1024)}`);
  db.pragma('foreign_keys = OFF');
}
