import Database from 'better-sqlite3';
import { PerTurnBatch } from './per-turn.js';
import type { IdempotencyRecords, KeptAnswer, RecordsOptions } from '../idempotency/records.js';

interface Row {
  fingerprint: string;
  status: number;
  body: string | null;
  headers: string;
  at: number;
}

/** Rows deleted per transaction by a purge, so that it never holds the thread for long. */
const PURGE_CHUNK = 1000;
const PURGE_EVERY_MS = 10 * 60_000;

/**
 * Kept answers in a SQLite file of their own (not the read store's: the projector writes
 * there all the time, and every keyed request would wait for its lock).
 *
 * Answers are not synced on every insert (synchronous = NORMAL): a process that dies loses
 * nothing, a power cut may lose the answers of the last moments. The requests they answered
 * are applied and durable in the event store regardless, and a retry of one runs again
 * under the same operation id, its claim telling the commands that it is a retry. Claims
 * are synced only when `syncClaims` says so (the server does not: see docs/ARCHITECTURE.md,
 * "Built to last", for the cost and what a power cut can then do).
 */
export function openSqliteIdempotencyRecords(file: string, options: RecordsOptions): IdempotencyRecords {
  const now = options.now ?? Date.now;
  const db = openAnswersDb(file);
  const answers = answersTable(db);
  const claims = claimsTable(db, options.syncClaims ?? false);
  const purges = [expiredRows(db, 'answers'), expiredRows(db, 'claims')];
  let closed = false;
  const purgeExpired = async () => {
    let purged = 0;
    for (const purge of purges) purged += await purge(now() - options.retentionMs, () => closed);
    return purged;
  };
  // Inserts gather for a turn of the event loop and go in one transaction: a commit per
  // insert (locks, WAL frames) cost more than the insert itself (docs/PERFORMANCE.md,
  // "Why the code is as it is", "Kept answers").
  const inserts = new PerTurnBatch<Waiting>((batch) => {
    try {
      const firsts = answers.insertAll(batch);
      for (const [i, w] of batch.entries()) w.settle(firsts[i] ?? null);
    } catch (error) {
      for (const w of batch) w.settle(null, error);
    }
  });
  const purging = setInterval(
    () => void purgeExpired().catch((error: unknown) => options.onPurgeError?.(error)),
    options.purgeEveryMs ?? PURGE_EVERY_MS,
  ).unref();
  const refuseClosed = () => Promise.reject(new Error('idempotency records are closed'));

  return {
    find: async (scope, key) => answers.find(scope, key),
    claim: (scope, key, at) => (closed ? refuseClosed() : claims.claim(scope, key, at)),
    keep: (scope, key, answer) =>
      new Promise((resolve, reject) => {
        if (closed) return reject(new Error('idempotency records are closed'));
        inserts.add({
          scope,
          key,
          answer,
          settle: (first, error) => (error === undefined ? resolve(first) : reject(error)),
        });
      }),
    purgeExpired: async () => (closed ? 0 : purgeExpired()),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(purging);
      inserts.flush();
      claims.flush();
      db.close();
    },
  };
}

/** An answer waiting for the end of the turn to be inserted, and its caller's callback. */
interface Waiting {
  scope: string;
  key: string;
  answer: KeptAnswer;
  settle(first: KeptAnswer | null, error?: unknown): void;
}

function openAnswersDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Answers go at the end of a rowid table (a batch fills a few adjacent pages) and only
  // the small (scope, key) index takes a random page per insert: keyed by (scope, key)
  // itself, the table split and rewrote several of its large-row pages per insert.
  db.exec(`CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY, scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL, body TEXT, headers TEXT NOT NULL, at INTEGER NOT NULL)`);
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS answers_by_key ON answers (scope, key)');
  db.exec(`CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY, scope TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL)`);
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS claims_by_key ON claims (scope, key)');
  // Checkpoints every ~40 MB of log instead of SQLite's ~4 MB: an index page changed many
  // times in between is copied back once.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('journal_size_limit = 67108864');
  return db;
}

/** The statements on the answers table. */
function answersTable(db: Database.Database) {
  const select = db.prepare<[string, string], Row>(
    'SELECT fingerprint, status, body, headers, at FROM answers WHERE scope = ? AND key = ?',
  );
  const insert = db.prepare<[string, string, string, number, string | null, string, number]>(
    'INSERT INTO answers (scope, key, fingerprint, status, body, headers, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const find = (scope: string, key: string): KeptAnswer | null => {
    const row = select.get(scope, key);
    return row ? { ...row, headers: JSON.parse(row.headers) as Record<string, string> } : null;
  };
  /** Inserts each answer unless its key has one: then that first answer is returned in its place. */
  const insertAll = db.transaction((batch: Waiting[]) =>
    batch.map(({ scope, key, answer }) => {
      const { fingerprint, status, body, headers, at } = answer;
      const { changes } = insert.run(scope, key, fingerprint, status, body, JSON.stringify(headers), at);
      return changes === 1 ? null : find(scope, key);
    }),
  );
  return { find, insertAll };
}

/**
 * Purges the rows of `table` written before a cutoff, a chunk per transaction. Rows are in
 * the order they were written, so the expired ones are the rows before the first that is
 * not (one out of order only waits for the next purge).
 */
function expiredRows(db: Database.Database, table: 'answers' | 'claims') {
  const firstKept = db.prepare<[number], { id: number }>(`SELECT id FROM ${table} WHERE at >= ? ORDER BY id LIMIT 1`);
  const purgeChunk = db.prepare<[number, number]>(
    `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE id < ? ORDER BY id LIMIT ?)`,
  );
  return async (cutoff: number, closed: () => boolean): Promise<number> => {
    const end = firstKept.get(cutoff)?.id ?? Number.MAX_SAFE_INTEGER;
    let purged = 0;
    for (;;) {
      const { changes } = purgeChunk.run(end, PURGE_CHUNK);
      purged += changes;
      if (changes < PURGE_CHUNK || closed()) return purged;
      // Requests go on between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
}

/** A claim waiting for the end of the turn, and its caller's callback. */
interface WaitingClaim {
  scope: string;
  key: string;
  at: number;
  settle(first: number | null, error?: unknown): void;
}

/** Claims gather for a turn and go in one transaction, synced when `sync` says so: one sync per turn, not per request. */
function claimsTable(db: Database.Database, sync: boolean) {
  const insert = db.prepare<[string, string, number]>(
    'INSERT INTO claims (scope, key, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const select = db.prepare<[string, string], { at: number }>('SELECT at FROM claims WHERE scope = ? AND key = ?');
  const claimAll = db.transaction((batch: WaitingClaim[]) =>
    batch.map(({ scope, key, at }) => (insert.run(scope, key, at).changes === 1 ? at : select.get(scope, key)!.at)),
  );
  const claims = new PerTurnBatch<WaitingClaim>((batch) => {
    if (sync) db.pragma('synchronous = FULL');
    try {
      const firsts = claimAll(batch);
      for (const [i, w] of batch.entries()) w.settle(firsts[i]!);
    } catch (error) {
      for (const w of batch) w.settle(null, error);
    } finally {
      if (sync) db.pragma('synchronous = NORMAL');
    }
  });
  return {
    claim: (scope: string, key: string, at: number) =>
      new Promise<number>((resolve, reject) => {
        const settle = (first: number | null, error?: unknown) =>
          error === undefined ? resolve(first!) : reject(error);
        claims.add({ scope, key, at, settle });
      }),
    flush: () => claims.flush(),
  };
}
