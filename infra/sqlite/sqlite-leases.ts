import Database from 'better-sqlite3';
import { INLINE_CHECKPOINT_PAGES } from './read-store/wal-checkpointer.js';
import type { LeaseRecord, LeaseStore } from '../eventsourcing/subscriptions/leases.js';

interface Row {
  name: string;
  holder: string | null;
  expires_at: number;
  handover_to: string | null;
  handover_until: number;
}

/** Leases in a small table of the embedded read store's file, shared by every local process. */
export function openSqliteLeases(
  file: string,
  options: { now?: () => number; inlineCheckpointPages?: number } = {},
): LeaseStore {
  const now = options.now ?? Date.now;
  const db = openLeasesDb(file, options.inlineCheckpointPages ?? INLINE_CHECKPOINT_PAGES);
  const select = db.prepare<[string], Row>('SELECT * FROM leases WHERE name = ?');
  const upsert = db.prepare<[string, string | null, number, string | null, number]>(
    `INSERT INTO leases (name, holder, expires_at, handover_to, handover_until) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
       handover_to = excluded.handover_to, handover_until = excluded.handover_until`,
  );

  const acquire = db
    .transaction((name: string, owner: string, ttlMs: number): boolean => {
      const t = now();
      const row = select.get(name);
      const free = !row || row.holder === null || row.holder === owner || row.expires_at < t;
      const reservedForOther = !!row?.handover_to && row.handover_to !== owner && row.handover_until >= t;
      if (!free || reservedForOther) return false;
      upsert.run(name, owner, t + ttlMs, null, 0);
      return true;
    })
    .immediate.bind(null);

  const requestHandover = db
    .transaction((name: string, requester: string, ttlMs: number) => {
      const row = select.get(name);
      upsert.run(name, row?.holder ?? null, row?.expires_at ?? 0, requester, now() + ttlMs);
    })
    .immediate.bind(null);

  const release = db.prepare<[string, string]>(
    'UPDATE leases SET holder = NULL, expires_at = 0 WHERE name = ? AND holder = ?',
  );
  const all = db.prepare<[], Row>('SELECT * FROM leases ORDER BY name');

  return {
    acquire: async (name, owner, ttlMs) => acquire(name, owner, ttlMs),
    requestHandover: async (name, requester, ttlMs) => requestHandover(name, requester, ttlMs),
    release: async (name, owner) => void release.run(name, owner),
    list: async (): Promise<LeaseRecord[]> =>
      all.all().map((r) => ({
        name: r.name,
        holder: r.expires_at >= now() ? r.holder : null,
        expiresAt: r.expires_at > 0 ? new Date(r.expires_at) : null,
        handoverTo: r.handover_until >= now() ? r.handover_to : null,
      })),
    close: async () => void db.close(),
  };
}

function openLeasesDb(file: string, inlineCheckpointPages: number): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // The file is the read store's: a renewal committed past SQLite's default 1,000 pages of
  // WAL would copy the projections' WAL back there and then (see wal-checkpointer.ts).
  db.pragma(`wal_autocheckpoint = ${inlineCheckpointPages}`);
  // No sync per renewal: a power cut that loses the last renewals also stopped every
  // holder, and a lost lease only expires sooner.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT, expires_at INTEGER NOT NULL DEFAULT 0,
    handover_to TEXT, handover_until INTEGER NOT NULL DEFAULT 0)`);
  return db;
}
