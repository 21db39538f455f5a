/** The read store's SQLite file: the connection's settings, and the tables of the projections' progress. */
import Database from 'better-sqlite3';
import { INLINE_CHECKPOINT_PAGES } from './wal-checkpointer.js';

export interface ReadDatabaseOptions {
  /** A file path, or ':memory:' (tests). */
  file: string;
  /** WAL pages past which a commit checkpoints inline (wal-checkpointer.ts); INLINE_CHECKPOINT_PAGES by default. */
  inlineCheckpointPages?: number;
  /** The connection's page cache (MiB). Default 64. */
  pageCacheMb?: number;
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

export function openReadDatabase(options: ReadDatabaseOptions): Database.Database {
  const db = new Database(options.file);
  db.pragma('journal_mode = WAL');
  // NORMAL may lose the last transactions on power loss (never corrupts). Acceptable here:
  // the read side is rebuilt from the events, and checkpoints roll back with the data.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Projections rewrite the same hot pages (balances, statistics, open orders) in many
  // small transactions: a larger page cache keeps them, and checkpointing the WAL every
  // ~40 MB instead of every ~4 MB copies each hot page back once instead of ten times
  // (docs/PERFORMANCE.md, "Why the code is as it is", "read.db's page cache and checkpoints").
  db.pragma(`cache_size = -${Math.round((options.pageCacheMb ?? 64) * 1024)}`);
  db.pragma(`wal_autocheckpoint = ${options.inlineCheckpointPages ?? INLINE_CHECKPOINT_PAGES}`);
  // A WAL that grew past the backstop is cut back to 64 MB when it starts over.
  db.pragma('journal_size_limit = 67108864');
  db.exec(SCHEMA);
  return db;
}
