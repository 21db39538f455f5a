/**
 * The personal-data keys in a SQLite file of their own beside the read models
 * (`DATA_DIR/personal-keys.db`; never in `events.db`). A key is synced before it is used
 * (`synchronous = FULL`): an event sealed with a key the store lost could never be read.
 * Forgetting overwrites the key where it lay (`secure_delete`) and truncates the WAL, so the
 * key's bytes are gone from the files, not only from the table.
 */
import Database from 'better-sqlite3';
import type { KeyLookup, PersonalDataKeys } from '../eventsourcing/personal-data/keys.js';

interface Row {
  key: Buffer | null;
}

export function openSqlitePersonalDataKeys(file: string): PersonalDataKeys {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS personal_data_keys (
    subject TEXT PRIMARY KEY NOT NULL,
    key BLOB,                 -- null once forgotten
    created_at INTEGER NOT NULL,
    forgotten_at INTEGER      -- the tombstone
  )`);
  const select = db.prepare<[string], Row>('SELECT key FROM personal_data_keys WHERE subject = ?');
  const insert = db.prepare<[string, Buffer, number]>(
    'INSERT INTO personal_data_keys (subject, key, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const tombstone = db.prepare<[number, string]>(
    'UPDATE personal_data_keys SET key = NULL, forgotten_at = ? WHERE subject = ? AND key IS NOT NULL',
  );
  const insertTombstone = db.prepare<[string, number, number]>(
    'INSERT INTO personal_data_keys (subject, key, created_at, forgotten_at) VALUES (?, NULL, ?, ?) ON CONFLICT DO NOTHING',
  );
  const find = (subject: string): KeyLookup => {
    const row = select.get(subject);
    if (!row) return { kind: 'none' };
    return row.key ? { kind: 'active', key: Buffer.from(row.key) } : { kind: 'forgotten' };
  };
  const forget = db.transaction((subject: string, at: number) => {
    if (tombstone.run(at, subject).changes === 0) insertTombstone.run(subject, at, at);
  });
  return {
    async obtain(subject, candidate) {
      insert.run(subject, candidate, Date.now());
      return find(subject);
    },
    find: async (subject) => find(subject),
    async forget(subject, at) {
      forget(subject, at.getTime());
      // The WAL still holds the page as it was, key included, until it is checkpointed and overwritten.
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    close: async () => {
      db.close();
    },
  };
}
