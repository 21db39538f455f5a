/**
 * SQLite's online backup, for `npm run cli -- backup` (infra/cli/backup.ts): a copy of a
 * database that a running server keeps writing to, taken without stopping it.
 *
 * The copy is made in one step of the backup API: one read transaction over the whole
 * file, so the copy is the database as of one commit. (Copied in steps, every commit of
 * another connection between two steps starts the copy over, which under load may never
 * end.) In WAL mode that read transaction blocks no writer; the WAL only cannot be copied
 * back past it until it ends.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';

/** The copy's pages in one step (SQLite's largest step). */
const ALL_PAGES = 0x7fffffff;

/** Copies the database `source` to `target` (a new file, created 0600) as of one commit, and checks the copy. */
export async function backupDatabase(source: string, target: string): Promise<void> {
  // Private from its first byte, as the data directory's own files (better-sqlite3 would create it 0644).
  closeSync(openSync(target, 'wx', 0o600));
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(target, { progress: () => ALL_PAGES });
  } finally {
    db.close();
  }
  checkDatabase(target);
}

/** Throws unless SQLite finds the file well formed (`PRAGMA quick_check`). */
export function checkDatabase(file: string): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    const result = db.pragma('quick_check', { simple: true });
    if (result !== 'ok') throw new Error(`${file} is damaged: ${String(result)}`);
  } finally {
    db.close();
  }
}

/**
 * Forgets the projections' leases in a copy of `read.db`: they name processes of the
 * server the copy was taken from, and a server started on the copy would otherwise wait
 * out their lifetime before running any projection.
 */
export function forgetLeases(readDb: string): void {
  const db = new Database(readDb, { fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'leases'").get();
    if (table) db.exec('DELETE FROM leases');
  } finally {
    db.close();
  }
}

/** The position of the last event in a copy of `events.db` (0 when it holds none). */
export function lastEventPosition(eventsDb: string): number {
  const db = new Database(eventsDb, { fileMustExist: true });
  try {
    const row = db.prepare<[], { last: number | null }>('SELECT max(position) AS last FROM events').get();
    return row?.last ?? 0;
  } finally {
    db.close();
  }
}
