import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LeaseStore } from '../infra/eventsourcing/subscriptions/leases.js';
import { openMongoLeases } from '../infra/mongodb/mongo-leases.js';
import { openSqliteLeases } from '../infra/sqlite/sqlite-leases.js';
import {
  dropDatabases,
  itNeedsMongoDb,
  mongoTitle,
  mongoUri,
  skipWithoutMongo,
  uniqueDbName,
} from './support/mongo-target.js';

/** How a store's suite runs the test that needs one atomic step per acquire. */
type Atomicity = { run: 'always' } | { run: 'on MongoDB only'; why: string };

/** The same rules for every lease store; `now` is a settable clock so expiry needs no waiting. */
function describeLeaseContract(
  name: string,
  open: (now: () => number) => Promise<LeaseStore>,
  atomicity: Atomicity = { run: 'always' },
) {
  describe(`lease store contract: ${name}`, () => {
    let clock: number;
    let leases: LeaseStore;
    let lease: string;

    beforeEach(async () => {
      lease = `projection-${Math.random().toString(36).slice(2)}`;
      clock = 1_000_000;
      leases = await open(() => clock);
    });
    afterEach(() => leases.close());

    it('gives a free lease to the first asker, renews it for its holder, refuses it to others', async () => {
      expect(await leases.acquire(lease, 'a', 1000)).to.equal(true);
      expect(await leases.acquire(lease, 'b', 1000)).to.equal(false);
      clock += 900;
      expect(await leases.acquire(lease, 'a', 1000)).to.equal(true);
      clock += 900;
      expect(await leases.acquire(lease, 'b', 1000)).to.equal(false);
      const [record] = (await leases.list()).filter((l) => l.name === lease);
      expect(record).to.deep.include({ holder: 'a', handoverTo: null });
    });

    it('lets another take over an expired lease, or a released one at once', async () => {
      await leases.acquire(lease, 'a', 1000);
      clock += 1001;
      expect(await leases.acquire(lease, 'b', 1000)).to.equal(true);
      await leases.release(lease, 'a'); // not the holder any more: changes nothing
      expect(await leases.acquire(lease, 'a', 1000)).to.equal(false);
      await leases.release(lease, 'b');
      expect(await leases.acquire(lease, 'a', 1000)).to.equal(true);
    });

    it('reserves the lease for whoever asked for a handover: the holder loses its renewal, others wait', async () => {
      await leases.acquire(lease, 'server', 1000);
      await leases.requestHandover(lease, 'rebuild', 5000);
      expect(await leases.acquire(lease, 'server', 1000)).to.equal(false);
      await leases.release(lease, 'server');
      expect(await leases.acquire(lease, 'other', 1000)).to.equal(false);
      expect(await leases.acquire(lease, 'rebuild', 1000)).to.equal(true);
      await leases.release(lease, 'rebuild');
      expect(await leases.acquire(lease, 'server', 1000)).to.equal(true);
    });

    it('forgets a handover request that was never taken up', async () => {
      await leases.requestHandover(lease, 'rebuild', 500);
      expect(await leases.acquire(lease, 'server', 1000)).to.equal(false);
      clock += 501;
      expect(await leases.acquire(lease, 'server', 1000)).to.equal(true);
    });

    const racing = async () => {
      // Rounds over a free lease and an expired one: each time exactly one of the racers gets it.
      for (let round = 0; round < 10; round++) {
        const name = `${lease}-${round}`;
        if (round % 2 === 1) {
          await leases.acquire(name, 'gone', 1000);
          clock += 1001;
        }
        const got = await Promise.all(Array.from({ length: 8 }, (_, i) => leases.acquire(name, `racer-${i}`, 1000)));
        expect(got.filter(Boolean), `round ${round}`).to.have.length(1);
      }
    };
    const title = 'gives a lease that many ask for at once to exactly one of them';
    if (atomicity.run === 'always') it(title, racing);
    else itNeedsMongoDb(title, atomicity.why, racing);
  });
}

describe('leases', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-leases-'));
  });
  /** The MongoDB databases the suites below open, dropped with the directory at the end. */
  const databases: string[] = [];
  after(async () => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await dropDatabases(databases);
    }
  });

  describeLeaseContract('embedded SQLite', async (now) => openSqliteLeases(join(dir, 'read.db'), { now }));

  const uri = mongoUri;
  if (uri) {
    describeLeaseContract(
      mongoTitle,
      (now) => {
        const dbName = uniqueDbName('leases_test');
        databases.push(dbName);
        return openMongoLeases(uri, dbName, now);
      },
      {
        run: 'on MongoDB only',
        why: 'FerretDB updates conditionally with a read, then a write, so racing owners can all get one lease (the product runs projections in one process there)',
      },
    );
  } else {
    describe('lease store contract: MongoDB', () => {
      skipWithoutMongo('lease store contract on MongoDB');
    });
  }
});
