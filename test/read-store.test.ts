/**
 * The read store contract against SQLite (always) and MongoDB (when MONGODB_URI is set),
 * plus what only SQLite can show: the query plans and the all-or-nothing commit.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { mongoReadStore, openMongoReadStore } from '../infra/mongodb/mongo-read-store.js';
import type { CollectionSpec, FindQuery } from '../infra/eventsourcing/read-store/read-store.js';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';
import { storageName } from '../infra/eventsourcing/read-store/catalog.js';
import { at, describeReadStoreContract, insert, pos, remove, upsert } from './contract/read-store.contract.js';
import {
  dropDatabases,
  mongoTitle,
  mongoUri,
  onFerretDb,
  skipWithoutMongo,
  uniqueDbName,
} from './support/mongo-target.js';
import { walFrames } from './support/sqlite-wal.js';

const sqliteDir = mkdtempSync(join(tmpdir(), 'read-store-'));
let sqliteFiles = 0;

describeReadStoreContract(
  'SQLite',
  async () => openSqliteReadStore({ file: join(sqliteDir, `store-${++sqliteFiles}.db`) }),
  async () => rmSync(sqliteDir, { recursive: true, force: true }),
);

describe('SQLite read store', () => {
  const specs: CollectionSpec[] = [
    {
      name: 'deals',
      indexes: [
        { equal: ['seller'], sort: ['closedAt'] },
        { equal: ['seller', 'state'], sort: [] },
        { equal: [], sort: ['price', 'closedAt'] },
      ],
    },
  ];
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'read-store-sqlite-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every find from the declared index, without sorting afterwards', async () => {
    const store = openSqliteReadStore({ file: ':memory:' });
    await store.ensureCollections(specs);
    await store.commit(
      'p',
      [
        at(1, insert('deals', 'd1', { seller: 's', state: 'open', closedAt: 5, price: 3 })),
        at(2, insert('deals', 'd2', { seller: 's', state: 'open', closedAt: 6, price: 4 })),
      ],
      pos(2),
    );
    const first = await store.find('deals', { sort: { fields: ['price', 'closedAt'], direction: 'desc' }, limit: 1 });
    expect(first.next).to.be.a('string');
    const queries: FindQuery[] = [
      { where: { seller: 's' }, sort: { fields: ['closedAt'], direction: 'asc' } },
      { where: { seller: 's' }, range: { gte: 1, lt: 9 }, sort: { fields: ['closedAt'], direction: 'desc' } },
      { where: { seller: 's', state: null }, sort: { fields: [], direction: 'asc' } },
      { where: { seller: 's', state: 'open' }, sort: { fields: [], direction: 'desc' } },
      { sort: { fields: ['price', 'closedAt'], direction: 'asc' } },
      // With a cursor: a row-value comparison the index can seek to.
      { sort: { fields: ['price', 'closedAt'], direction: 'desc' }, after: first.next! },
    ];
    for (const query of queries) {
      const plan = store.explainFind('deals', query).join(' | ');
      expect(plan, JSON.stringify(query)).to.match(/USING INDEX rm_deals_ix_/);
      expect(plan, JSON.stringify(query)).not.to.match(/TEMP B-TREE|SCAN rm_deals\b(?! USING)/);
    }
    const seek = store.explainFind('deals', queries[5]!).join(' | ');
    expect(seek).to.match(/SEARCH rm_deals USING INDEX .*\(.*\)[<>]/);
    await store.close();
  });

  it('applies a batch and its checkpoint all or nothing', async () => {
    const store = openSqliteReadStore({ file: join(dir, 'atomic.db') });
    await store.ensureCollections([{ name: 'totals', indexes: [] }]);
    await store.commit('p', [at(1, insert('totals', 'label', { text: 'not a number' }))], pos(1));
    // The last operation fails inside the transaction (it passes the up-front checks).
    const batch = [
      at(2, upsert('totals', 'count', { inc: { n: 1 } })),
      at(3, upsert('totals', 'label', { set: { seen: true } })),
      at(4, upsert('totals', 'label', { inc: { text: 1 } })),
    ];
    let failure: unknown;
    try {
      await store.commit('p', batch, pos(4));
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(Error);
    expect(await store.get('totals', 'count')).to.equal(null);
    expect(await store.get('totals', 'label')).to.deep.equal({ id: 'label', text: 'not a number' });
    expect((await store.getCheckpoint('p')).position).to.deep.equal(pos(1));
    await store.close();
  });

  it('writes each document a batch touches once, with the state its operations leave in order', async () => {
    const file = join(dir, 'coalesced.db');
    const store = openSqliteReadStore({ file });
    await store.ensureCollections([{ name: 'totals', indexes: [] }]);
    await store.commit('p', [at(1, insert('totals', 'kept', { n: 0 }), insert('totals', 'gone', { n: 0 }))], pos(1));
    // Triggers on a second connection count the row writes the store makes.
    const raw = new Database(file);
    const table = storageName('totals');
    raw.exec(`CREATE TABLE row_writes (kind TEXT NOT NULL, id TEXT NOT NULL)`);
    for (const kind of ['INSERT', 'UPDATE', 'DELETE']) {
      const row = kind === 'DELETE' ? 'OLD' : 'NEW';
      raw.exec(
        `CREATE TRIGGER count_${kind} AFTER ${kind} ON ${table} BEGIN INSERT INTO row_writes VALUES ('${kind}', ${row}.id); END`,
      );
    }
    await store.commit(
      'p',
      [
        at(
          2,
          upsert('totals', 'kept', { inc: { n: 1 } }),
          upsert('totals', 'new', { inc: { n: 1 } }),
          remove('totals', 'gone'),
        ),
        at(
          3,
          upsert('totals', 'kept', { inc: { n: 1 } }),
          upsert('totals', 'new', { set: { last: 3 } }),
          insert('totals', 'gone', { n: 9 }),
        ),
        at(
          4,
          upsert('totals', 'kept', { inc: { n: 1 } }),
          remove('totals', 'passing'),
          insert('totals', 'passing', { n: 1 }),
          remove('totals', 'passing'),
        ),
      ],
      pos(4),
    );
    const writes = raw.prepare('SELECT kind, id FROM row_writes ORDER BY id').all();
    expect(writes).to.deep.equal([
      { kind: 'UPDATE', id: 'gone' },
      { kind: 'UPDATE', id: 'kept' },
      { kind: 'INSERT', id: 'new' },
    ]);
    raw.close();
    expect(await store.get('totals', 'kept')).to.deep.equal({ id: 'kept', n: 3 });
    expect(await store.get('totals', 'new')).to.deep.equal({ id: 'new', n: 1, last: 3 });
    expect(await store.get('totals', 'gone')).to.deep.equal({ id: 'gone', n: 9 });
    expect(await store.get('totals', 'passing')).to.equal(null);
    // The guard stored is that of the last operation applied: an older replay changes nothing.
    await store.commit('p', [at(3, upsert('totals', 'kept', { inc: { n: 100 } }))], pos(3));
    expect(await store.get('totals', 'kept')).to.deep.equal({ id: 'kept', n: 3 });
    await store.close();
  });

  it('commits what several projections ask for in one turn in one transaction; a refused commit fails alone', async () => {
    const file = join(dir, 'turn.db');
    const store = openSqliteReadStore({ file });
    const names = ['a', 'b', 'c', 'd'];
    await store.ensureCollections(names.map((n) => ({ name: `totals_${n}`, indexes: [] })));
    await store.commit('seed', [at(1, insert('totals_a', 'label', { text: 'not a number' }))], pos(1));
    const count = (n: string, p: number) =>
      store.commit(`p_${n}`, [at(p, upsert(`totals_${n}`, 'count', { inc: { n: 1 } }))], pos(p));
    let before = walFrames(file);
    for (const n of names) await count(n, 2); // one turn each
    const apart = walFrames(file) - before;
    before = walFrames(file);
    await Promise.all(names.map((n) => count(n, 3)));
    const together = walFrames(file) - before;
    // Together, the checkpoints' table and index pages are written once instead of four times.
    expect(together).to.be.at.most(apart - 2 * (names.length - 1));
    for (const n of names) expect(await store.get(`totals_${n}`, 'count'), n).to.deep.equal({ id: 'count', n: 2 });

    // p_a's write passes the up-front checks but fails in the transaction: the others land.
    const outcomes = await Promise.allSettled([
      store.commit('p_a', [at(4, upsert('totals_a', 'label', { inc: { text: 1 } }))], pos(4)),
      count('b', 4),
      count('c', 4),
    ]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'fulfilled', 'fulfilled']);
    expect((await store.getCheckpoint('p_a')).position).to.deep.equal(pos(3));
    expect(await store.get('totals_a', 'label')).to.deep.equal({ id: 'label', text: 'not a number' });
    for (const n of ['b', 'c']) {
      expect((await store.getCheckpoint(`p_${n}`)).position).to.deep.equal(pos(4));
      expect(await store.get(`totals_${n}`, 'count')).to.deep.equal({ id: 'count', n: 3 });
    }
    await store.close();
  });

  it('keeps its data in one WAL-mode file across reopening', async () => {
    const file = join(dir, 'durable.db');
    const store = openSqliteReadStore({ file });
    await store.ensureCollections(specs);
    await store.commit('p', [at(1, insert('deals', 'd1', { seller: 's', closedAt: 1 }))], pos(1));
    await store.close();

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).to.equal('wal');
    raw.close();

    const again = openSqliteReadStore({ file });
    await again.ensureCollections(specs);
    expect(await again.get('deals', 'd1')).to.deep.equal({ id: 'd1', seller: 's', closedAt: 1 });
    expect((await again.getCheckpoint('p')).position).to.deep.equal(pos(1));
    await again.close();
  });
});

const uri = mongoUri;
if (uri) {
  // A database per store opened (each test starts empty).
  const databases: string[] = [];
  const clients: MongoClient[] = [];
  after(async () => {
    await dropDatabases(databases);
    await Promise.all(clients.map((c) => c.close()));
  });
  /** The store as `openMongoReadStore` picks it for this server. */
  describeReadStoreContract(mongoTitle, async () => {
    const dbName = uniqueDbName('read_store_test');
    databases.push(dbName);
    return openMongoReadStore({ uri, dbName });
  });
  // The other way of checking guards too, so both are proven on whichever server runs here.
  const other = onFerretDb ? 'server' : 'client';
  describeReadStoreContract(
    `${mongoTitle}, guards checked by the ${other === 'server' ? 'server (as on MongoDB)' : 'client (as on FerretDB)'}`,
    async () => {
      const client = await MongoClient.connect(uri);
      clients.push(client);
      const dbName = uniqueDbName('read_store_guards');
      databases.push(dbName);
      return mongoReadStore(client.db(dbName), async () => undefined, { guards: other });
    },
  );
} else {
  describe('read store contract: MongoDB', () => {
    skipWithoutMongo('read-store contract on MongoDB');
  });
}
