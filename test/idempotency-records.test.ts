import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { openMongoIdempotencyRecords } from '../infra/mongodb/mongo-idempotency-records.js';
import type { IdempotencyRecords, KeptAnswer, RecordsOptions } from '../infra/idempotency/records.js';
import { openSqliteIdempotencyRecords } from '../infra/sqlite/sqlite-idempotency-records.js';
import {
  dropDatabases,
  mongoTitle,
  mongoUri,
  onFerretDb,
  skipWithoutMongo,
  uniqueDbName,
} from './support/mongo-target.js';
import { tempDir, type TempDir } from './support/process.js';
import { walFrames } from './support/sqlite-wal.js';

const HOUR = 3_600_000;
const RETENTION = 24 * HOUR;
/** SQLite's write-ahead log layout (https://sqlite.org/fileformat.html#the_write_ahead_log), at the default page size. */

const answer = (at: number, overrides: Partial<KeptAnswer> = {}): KeptAnswer => ({
  fingerprint: 'POST /api/v1/billing/account/deposit {"amount":10}',
  status: 204,
  body: null,
  headers: { etag: '"3"', 'x-event-position': '42' },
  at,
  ...overrides,
});

/** The same rules for every store of kept answers; `now` is a settable clock so expiry needs no waiting. */
function describeRecordsContract(name: string, open: (now: () => number) => Promise<IdempotencyRecords>) {
  describe(`idempotency records contract: ${name}`, () => {
    let clock: number;
    let records: IdempotencyRecords;
    let caller: string;

    beforeEach(async () => {
      clock = Date.UTC(2026, 10, 22);
      caller = randomUUID();
      records = await open(() => clock);
    });
    afterEach(() => records.close());

    it('finds nothing for a key never used, then the answer kept for it, field for field', async () => {
      expect(await records.find(caller, 'k1')).to.equal(null);
      const kept = answer(clock, {
        status: 202,
        body: '{"id":"o-1","status":"pending","price":12.5}',
        headers: { location: '/x/o-1' },
      });
      expect(await records.keep(caller, 'k1', kept)).to.equal(null);
      expect(await records.find(caller, 'k1')).to.deep.equal(kept);
    });

    it('keeps the first answer for a key: a later one gets the first back and is dropped', async () => {
      const first = answer(clock, { status: 201 });
      await records.keep(caller, 'k', first);
      expect(await records.keep(caller, 'k', answer(clock + 5, { status: 422 }))).to.deep.equal(first);
      expect(await records.find(caller, 'k')).to.deep.equal(first);
    });

    it('lets exactly one of many copies racing with the same key be kept', async () => {
      const copies = Array.from({ length: 10 }, (_, i) => answer(clock + i, { headers: { etag: `"${i}"` } }));
      const results = await Promise.all(copies.map((c) => records.keep(caller, 'raced', c)));
      const winners = copies.filter((_, i) => results[i] === null);
      expect(winners).to.have.length(1);
      for (const result of results) if (result !== null) expect(result).to.deep.equal(winners[0]);
      expect(await records.find(caller, 'raced')).to.deep.equal(winners[0]);
    });

    it('scopes keys to their caller', async () => {
      const other = randomUUID();
      await records.keep(caller, 'shared', answer(clock, { status: 204 }));
      expect(await records.find(other, 'shared')).to.equal(null);
      expect(await records.keep(other, 'shared', answer(clock, { status: 201 }))).to.equal(null);
      expect((await records.find(caller, 'shared'))?.status).to.equal(204);
      expect((await records.find(other, 'shared'))?.status).to.equal(201);
    });

    it('claims a key for its first attempt: later attempts learn when that was, per caller', async () => {
      expect(await records.claim(caller, 'c', clock)).to.equal(clock);
      expect(await records.claim(caller, 'c', clock + 5_000)).to.equal(clock);
      expect(await records.claim(randomUUID(), 'c', clock + 7_000)).to.equal(clock + 7_000);
      const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => records.claim(caller, 'raced', clock + i)));
      expect(new Set(racing).size, 'every copy learns the same first attempt').to.equal(1);
    });

    it('forgets claims older than the retention, and only those', async () => {
      await records.claim(caller, 'old', clock - RETENTION - 1);
      await records.claim(caller, 'new', clock - HOUR);
      expect(await records.purgeExpired()).to.equal(1);
      expect(await records.claim(caller, 'old', clock)).to.equal(clock);
      expect(await records.claim(caller, 'new', clock)).to.equal(clock - HOUR);
    });

    it('forgets answers older than the retention, and only those', async () => {
      await records.keep(caller, 'old', answer(clock - RETENTION - 1));
      await records.keep(caller, 'edge', answer(clock - RETENTION));
      await records.keep(caller, 'new', answer(clock - HOUR));
      expect(await records.purgeExpired()).to.equal(1);
      expect(await records.find(caller, 'old')).to.equal(null);
      expect(await records.find(caller, 'edge')).to.not.equal(null);
      expect(await records.find(caller, 'new')).to.not.equal(null);
      clock += RETENTION - HOUR + 1;
      expect(await records.purgeExpired()).to.equal(2);
      expect(await records.find(caller, 'new')).to.equal(null);
      // A forgotten key is a new key again.
      expect(await records.keep(caller, 'old', answer(clock))).to.equal(null);
    });
  });
}

describe('idempotency records', () => {
  let dir: TempDir;
  before(() => {
    dir = tempDir('market-idempotency-');
  });
  /** The MongoDB databases the suites below open, dropped with the directory at the end. */
  const databases: string[] = [];
  after(async () => {
    try {
      await dir.remove();
    } finally {
      await dropDatabases(databases);
    }
  });

  let files = 0;
  describeRecordsContract('embedded SQLite', async (now) =>
    openSqliteIdempotencyRecords(join(dir.path, `idempotency-${files++}.db`), { retentionMs: RETENTION, now }),
  );

  describe('embedded SQLite specifics', () => {
    it('purges in chunks: more expired answers than one chunk all go', async () => {
      const file = join(dir.path, 'chunks.db');
      const clock = 10 * RETENTION;
      const records = openSqliteIdempotencyRecords(file, { retentionMs: RETENTION, now: () => clock });
      try {
        await Promise.all(Array.from({ length: 2500 }, (_, i) => records.keep('caller', `k${i}`, answer(i))));
        await records.keep('caller', 'fresh', answer(clock));
        expect(await records.purgeExpired()).to.equal(2500);
        expect(await records.find('caller', 'k2499')).to.equal(null);
        expect(await records.find('caller', 'fresh')).to.not.equal(null);
      } finally {
        await records.close();
      }
    });

    it('purges in answering order: an answer kept out of order waits for the next purge, and nothing goes early', async () => {
      let clock = 10 * RETENTION;
      const records = openSqliteIdempotencyRecords(join(dir.path, 'order.db'), {
        retentionMs: RETENTION,
        now: () => clock,
      });
      try {
        await records.keep('caller', 'late-clock', answer(clock - HOUR));
        await records.keep('caller', 'expired', answer(clock - RETENTION - 1));
        expect(await records.purgeExpired()).to.equal(0);
        expect(await records.find('caller', 'late-clock')).to.not.equal(null);
        clock += RETENTION;
        expect(await records.purgeExpired()).to.equal(2);
      } finally {
        await records.close();
      }
    });

    it('commits the inserts of one turn together, and keeps them across a reopen', async () => {
      const file = join(dir.path, 'reopen.db');
      const records = openSqliteIdempotencyRecords(file, { retentionMs: RETENTION });
      const before = walFrames(file);
      await Promise.all(Array.from({ length: 20 }, (_, i) => records.keep('caller', `k${i}`, answer(Date.now()))));
      // One commit writes the table's and the index's pages once (a commit per insert: 40 frames or more).
      expect(walFrames(file) - before).to.be.at.most(4);
      await records.close();
      const reopened = openSqliteIdempotencyRecords(file, { retentionMs: RETENTION });
      try {
        expect((await reopened.find('caller', 'k19'))?.status).to.equal(204);
      } finally {
        await reopened.close();
      }
    });

    it('commits the claims of one turn together (synced when asked), and keeps them across a reopen', async () => {
      const file = join(dir.path, 'claims.db');
      const records = openSqliteIdempotencyRecords(file, { retentionMs: RETENTION, syncClaims: true });
      const before = walFrames(file);
      const at = Date.now();
      await Promise.all(Array.from({ length: 20 }, (_, i) => records.claim('caller', `k${i}`, at + i)));
      expect(walFrames(file) - before).to.be.at.most(4);
      await records.close();
      const reopened = openSqliteIdempotencyRecords(file, { retentionMs: RETENTION });
      try {
        expect(await reopened.claim('caller', 'k19', at + 1_000)).to.equal(at + 19);
      } finally {
        await reopened.close();
      }
    });

    it('refuses to keep after close instead of losing the answer silently', async () => {
      const records = openSqliteIdempotencyRecords(join(dir.path, 'closed.db'), { retentionMs: RETENTION });
      await records.close();
      let refused: unknown = null;
      await records.keep('caller', 'k', answer(Date.now())).catch((error: unknown) => (refused = error));
      expect(refused).to.be.instanceOf(Error);
    });
  });

  const uri = mongoUri;
  if (uri) {
    const open = (options: RecordsOptions) => {
      const dbName = uniqueDbName('idempotency_test');
      databases.push(dbName);
      return openMongoIdempotencyRecords(uri, dbName, options);
    };
    describeRecordsContract(mongoTitle, (now) => open({ retentionMs: RETENTION, now }));

    describe(`idempotency records on ${mongoTitle}`, () => {
      it('forget expired answers by themselves: a TTL index on MongoDB, a scheduled purge where there is none (FerretDB)', async () => {
        const clock = Date.UTC(2026, 10, 22);
        const purgeErrors: unknown[] = [];
        const records = await open({
          retentionMs: RETENTION,
          now: () => clock,
          purgeEveryMs: 20,
          onPurgeError: (e) => purgeErrors.push(e),
        });
        try {
          await records.keep('caller', 'old', answer(clock - RETENTION - 1));
          await records.keep('caller', 'new', answer(clock));
          if (onFerretDb) {
            const deadline = Date.now() + 5_000;
            while ((await records.find('caller', 'old')) !== null && Date.now() < deadline) await sleep(20);
            expect(await records.find('caller', 'old'), 'purged on schedule').to.equal(null);
            expect(await records.find('caller', 'new')).to.not.equal(null);
            expect(purgeErrors).to.deep.equal([]);
          } else {
            // MongoDB's TTL monitor runs once a minute on the server's clock: the index is what can be checked.
            const client = await MongoClient.connect(uri);
            try {
              const indexes = await client.db(databases.at(-1)!).collection('idempotency_answers').indexes();
              expect(indexes.find((i) => i.name === 'expiry')).to.deep.include({
                key: { at: 1 },
                expireAfterSeconds: RETENTION / 1000,
              });
            } finally {
              await client.close();
            }
          }
        } finally {
          await records.close();
        }
      });
    });
  } else {
    describe('idempotency records contract: MongoDB', () => {
      skipWithoutMongo('idempotency records contract on MongoDB');
    });
  }
});
