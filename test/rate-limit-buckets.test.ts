/**
 * The rate limits' token buckets (infra/http/overload/token-buckets.ts): the algorithm,
 * and each store — this process's, and MongoDB's (shared by API processes; with
 * MONGODB_URI, as `npm run test:mongo` gives) — holding to the same contract.
 */
import { expect } from 'chai';
import { openMongoBuckets } from '../infra/mongodb/mongo-rate-limits.js';
import { inProcessBuckets, takeToken, type BucketStore } from '../infra/http/overload/token-buckets.js';
import { dropDatabases, mongoTitle, mongoUri, uniqueDbName } from './support/mongo-target.js';

describe('token buckets', () => {
  it('lets a full bucket of N a minute pass N at once, then one every 60/N seconds', () => {
    let tat: number | undefined;
    const at = 1_000_000;
    for (let i = 0; i < 6; i++) {
      const taken = takeToken(tat, at, 6);
      expect(taken.allowed, `request ${i + 1}`).to.equal(true);
      tat = taken.tat;
    }
    const refused = takeToken(tat, at, 6);
    expect(refused).to.include({ allowed: false, retryAfterMs: 10_000 });
    expect(takeToken(tat, at + 9_999, 6).allowed).to.equal(false);
    expect(takeToken(tat, at + 10_000, 6).allowed).to.equal(true);
  });

  it('is full again after a minute without requests', () => {
    let tat: number | undefined;
    for (let i = 0; i < 6; i++) tat = takeToken(tat, 0, 6).tat;
    expect(takeToken(tat, 60_000, 6).allowed).to.equal(true);
    let later = tat;
    for (let i = 0; i < 6; i++) {
      const taken = takeToken(later, 60_000, 6);
      expect(taken.allowed, `request ${i + 1} a minute later`).to.equal(true);
      later = taken.tat;
    }
    expect(takeToken(later, 60_000, 6).allowed).to.equal(false);
  });

  describeBucketContract('in this process', async () => inProcessBuckets());

  it('in this process: memory stays bounded, full buckets swept first', async () => {
    const buckets = inProcessBuckets(3);
    for (const key of ['a', 'b', 'c', 'd', 'e']) expect((await buckets.take(key, 1, 0)).allowed).to.equal(true);
    // 'a' and 'b' were let go to make room: their clients start with a full bucket again.
    expect((await buckets.take('e', 1, 0)).allowed).to.equal(false);
    expect((await buckets.take('a', 1, 0)).allowed).to.equal(true);
  });

  const uri = mongoUri;
  if (uri) {
    const databases: string[] = [];
    after(() => dropDatabases(databases));
    describeBucketContract(mongoTitle, async () => {
      const dbName = uniqueDbName('buckets_test');
      databases.push(dbName);
      return openMongoBuckets(uri, dbName);
    });
  }
});

function describeBucketContract(name: string, open: () => Promise<BucketStore>): void {
  describe(`bucket store contract: ${name}`, () => {
    let buckets: BucketStore;
    beforeEach(async () => {
      buckets = await open();
    });
    afterEach(() => buckets.close());

    it('takes N of a bucket of N a minute, then refuses with the time to the next token', async () => {
      const outcomes = [];
      for (let i = 0; i < 4; i++) outcomes.push(await buckets.take('address:203.0.113.1', 3, 5_000));
      expect(outcomes.map((o) => o.allowed)).to.deep.equal([true, true, true, false]);
      expect(outcomes[3]!.retryAfterMs).to.equal(20_000);
      expect((await buckets.take('address:203.0.113.1', 3, 25_000)).allowed).to.equal(true);
    });

    it('keeps each key to its own bucket', async () => {
      expect((await buckets.take('k1', 1, 0)).allowed).to.equal(true);
      expect((await buckets.take('k1', 1, 0)).allowed).to.equal(false);
      expect((await buckets.take('k2', 1, 0)).allowed).to.equal(true);
    });

    it('gives out no more than N when requests race', async () => {
      const outcomes = await Promise.all(Array.from({ length: 12 }, () => buckets.take('race', 5, 0)));
      expect(outcomes.filter((o) => o.allowed)).to.have.length(5);
    });
  });
}
