import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LeaseStore } from '../infra/subscriptions/leases.js';
import { openMongoLeases } from '../infra/subscriptions/mongo-leases.js';
import { openSqliteLeases } from '../infra/subscriptions/sqlite-leases.js';

/** The same rules for every lease store; `now` is a settable clock so expiry needs no waiting. */
function describeLeaseContract(name: string, open: (now: () => number) => Promise<LeaseStore>) {
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
  });
}

describe('leases', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-leases-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describeLeaseContract('embedded SQLite', async (now) => openSqliteLeases(join(dir, 'read.db'), { now }));

  const uri = process.env.MONGODB_URI;
  if (uri) {
    describeLeaseContract('MongoDB', (now) => openMongoLeases(uri, `market_leases_test_${process.pid}`, now));
  } else {
    describe('lease store contract: MongoDB', () => {
      it('runs against MongoDB when MONGODB_URI is set', function () {
        console.warn('SKIPPED lease store contract on MongoDB: MONGODB_URI is not set (start one with docker compose up -d mongodb)');
        this.skip();
      });
    });
  }
});
