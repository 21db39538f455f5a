/**
 * The read store contract: the same tests against every adapter, so projections and
 * query endpoints can rely on one behaviour whichever store runs underneath.
 *
 * `open` must give a fresh, empty store each time (it is called before every test; the
 * suite closes the store after it). `cleanup` runs once after the whole suite.
 */
import { expect } from 'chai';
import type { Position } from '../../infra/eventsourcing/event-store/position.js';
import {
  InvalidCursor,
  ReadStoreQueryError,
  type CollectionSpec,
  type Doc,
  type DocFields,
  type FindQuery,
  type ParkedEvent,
  type PositionedWrites,
  type ReadStore,
  type WriteOp,
} from '../../infra/eventsourcing/read-store/read-store.js';

// ---- building batches -------------------------------------------------------------

/** Positions with distinct commit and prepare parts, as EventStoreDB gives them. */
export function pos(n: number): Position {
  return { commit: BigInt(n) * 100n, prepare: BigInt(n) * 100n - 7n };
}

export function at(n: number, ...ops: WriteOp[]): PositionedWrites {
  return { position: pos(n), ops };
}

export const insert = (collection: string, id: string, doc: DocFields): WriteOp => ({
  op: 'insert',
  collection,
  id,
  doc,
});
export const upsert = (
  collection: string,
  id: string,
  change: { set?: DocFields; setOnInsert?: DocFields; inc?: Record<string, number> },
): WriteOp => ({ op: 'upsert', collection, id, ...change });
export const update = (
  collection: string,
  id: string,
  change: { set?: DocFields; inc?: Record<string, number> },
): WriteOp => ({
  op: 'update',
  collection,
  id,
  ...change,
});
export const remove = (collection: string, id: string): WriteOp => ({ op: 'delete', collection, id });

const SPECS: CollectionSpec[] = [
  {
    name: 'accounts',
    indexes: [
      { equal: ['owner'], sort: ['createdAt'] },
      { equal: [], sort: ['balance', 'createdAt'] },
      { equal: ['owner', 'status'], sort: [] },
      { equal: ['vip'], sort: ['createdAt'] },
      { equal: [], sort: [] },
    ],
  },
  {
    name: 'history',
    indexes: [
      { equal: ['account'], sort: ['at'] },
      { equal: [], sort: ['at'] },
    ],
  },
  { name: 'totals', indexes: [] },
  { name: 'reference', indexes: [{ equal: [], sort: [] }] },
  { name: 'replica', indexes: [{ equal: [], sort: [] }] },
];

async function rejectsWith(promise: Promise<unknown>, type?: new (...args: never[]) => Error): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (type) expect(error, String(error)).to.be.instanceOf(type);
    else expect(error).to.be.instanceOf(Error);
    return error as Error;
  }
  expect.fail('expected a rejection');
}

/** Every page of a query, following `next`, checking each page's size. */
async function allPages(
  store: ReadStore,
  collection: string,
  query: FindQuery,
): Promise<{ items: Doc[]; pages: number }> {
  const items: Doc[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await store.find(collection, { ...query, ...(after ? { after } : {}) });
    pages++;
    expect(page.items.length).to.be.at.most(query.limit ?? 50);
    items.push(...page.items);
    if (!page.next) return { items, pages };
    expect(page.items.length, 'a page with a next is full').to.equal(query.limit ?? 50);
    after = page.next;
    if (pages > 1000) expect.fail('pagination does not end');
  }
}

type Scalar = string | number | boolean;
/** The order both stores promise: sort fields then id, in one direction (ids here are ASCII). */
function sortedBy(docs: Doc[], fields: string[], direction: 'asc' | 'desc'): Doc[] {
  const sign = direction === 'asc' ? 1 : -1;
  const key = (d: Doc): Scalar[] => [...fields.map((f) => d[f] as Scalar), d.id];
  return [...docs].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      if (ka[i]! < kb[i]!) return -sign;
      if (ka[i]! > kb[i]!) return sign;
    }
    return 0;
  });
}

const ids = (docs: Doc[]): string[] => docs.map((d) => d.id);

// ---- the suite ------------------------------------------------------------------------

export function describeReadStoreContract(
  name: string,
  open: () => Promise<ReadStore>,
  cleanup?: () => Promise<void>,
): void {
  describe(`read store contract: ${name}`, () => {
    let store: ReadStore;

    beforeEach(async () => {
      store = await open();
      await store.ensureCollections(SPECS);
    });

    afterEach(async () => {
      await store?.close();
    });

    if (cleanup) after(cleanup);

    describe('collections', () => {
      it('ensureCollections is idempotent and get answers null for an absent document', async () => {
        await store.ensureCollections(SPECS);
        await store.ensureCollections([SPECS[0]!]);
        expect(await store.get('accounts', 'nobody')).to.equal(null);
      });

      it('refuses undeclared collections and malformed names', async () => {
        await rejectsWith(store.get('nowhere', 'x'), ReadStoreQueryError);
        await rejectsWith(store.find('nowhere', { sort: { fields: [], direction: 'asc' } }), ReadStoreQueryError);
        await rejectsWith(store.ensureCollections([{ name: 'Bad-Name', indexes: [] }]), ReadStoreQueryError);
        await rejectsWith(
          store.ensureCollections([{ name: 'ok', indexes: [{ equal: ['a.b'], sort: [] }] }]),
          ReadStoreQueryError,
        );
        await rejectsWith(
          store.ensureCollections([{ name: 'ok', indexes: [{ equal: ['a'], sort: ['a'] }] }]),
          ReadStoreQueryError,
        );
      });

      it('ping answers', async () => {
        await store.ping();
      });
    });

    describe('write operations', () => {
      it('insert creates a document; inserting the same id again is ignored', async () => {
        await store.commit('p', [at(1, insert('accounts', 'a1', { owner: 'ann', balance: 10 }))], pos(1));
        await store.commit('p', [at(2, insert('accounts', 'a1', { owner: 'bob', balance: 99 }))], pos(2));
        expect(await store.get('accounts', 'a1')).to.deep.equal({ id: 'a1', owner: 'ann', balance: 10 });
      });

      it('upsert creates with setOnInsert, set and inc (a missing field counts as 0), then changes with set and inc only', async () => {
        const op = (name: string, n: number): WriteOp =>
          upsert('totals', 't', { setOnInsert: { createdAt: n }, set: { name }, inc: { count: 1, amount: 2.5 } });
        await store.commit('p', [at(1, op('first', 1))], pos(1));
        expect(await store.get('totals', 't')).to.deep.equal({
          id: 't',
          createdAt: 1,
          name: 'first',
          count: 1,
          amount: 2.5,
        });
        await store.commit(
          'p',
          [at(2, op('second', 2)), at(3, upsert('totals', 't', { inc: { count: -5, other: 3 } }))],
          pos(3),
        );
        expect(await store.get('totals', 't')).to.deep.equal({
          id: 't',
          createdAt: 1,
          name: 'second',
          count: -3,
          amount: 5,
          other: 3,
        });
      });

      it('upsert with only inc, or with nothing, creates the document', async () => {
        await store.commit('p', [at(1, upsert('totals', 'a', { inc: { n: 4 } }), upsert('totals', 'b', {}))], pos(1));
        expect(await store.get('totals', 'a')).to.deep.equal({ id: 'a', n: 4 });
        expect(await store.get('totals', 'b')).to.deep.equal({ id: 'b' });
      });

      it('update changes an existing document and ignores an absent one', async () => {
        await store.commit(
          'p',
          [
            at(1, insert('accounts', 'a1', { owner: 'ann', balance: 10, tags: ['x'] })),
            at(2, update('accounts', 'a1', { set: { status: 'open', tags: [] }, inc: { balance: -4, deposits: 1 } })),
            at(3, update('accounts', 'ghost', { set: { owner: 'nobody' }, inc: { balance: 1 } })),
          ],
          pos(3),
        );
        expect(await store.get('accounts', 'a1')).to.deep.equal({
          id: 'a1',
          owner: 'ann',
          balance: 6,
          tags: [],
          status: 'open',
          deposits: 1,
        });
        expect(await store.get('accounts', 'ghost')).to.equal(null);
      });

      it('delete removes a document; deleting an absent one is fine', async () => {
        await store.commit('p', [at(1, insert('accounts', 'a1', { owner: 'ann' }))], pos(1));
        await store.commit('p', [at(2, remove('accounts', 'a1'), remove('accounts', 'never'))], pos(2));
        expect(await store.get('accounts', 'a1')).to.equal(null);
      });

      it('getStored gives the document with a guard that grows with every write applied to it', async () => {
        expect(await store.getStored('totals', 'g')).to.equal(null);
        await store.commit('p', [at(1, upsert('totals', 'g', { inc: { n: 1 } }))], pos(1));
        const first = await store.getStored('totals', 'g');
        await store.commit(
          'p',
          [at(2, upsert('totals', 'g', { inc: { n: 1 } }), upsert('totals', 'g', { inc: { n: 1 } }))],
          pos(2),
        );
        const second = await store.getStored('totals', 'g');
        expect(first?.doc).to.deep.equal({ id: 'g', n: 1 });
        expect(second?.doc).to.deep.equal({ id: 'g', n: 3 });
        expect(second!.guard > first!.guard, `${second!.guard} > ${first!.guard}`).to.equal(true);
        await store.commit('p', [at(1, upsert('totals', 'g', { inc: { n: 1 } }))], pos(1));
        expect((await store.getStored('totals', 'g'))?.guard).to.equal(second!.guard);
      });

      it('the operations of one event on one document apply in order', async () => {
        await store.commit(
          'p',
          [
            at(
              1,
              upsert('totals', 'x', { set: { v: 'one' }, inc: { n: 1 } }),
              update('totals', 'x', { inc: { n: 10 } }),
              remove('totals', 'x'),
              insert('totals', 'x', { v: 'two', n: 100 }),
              upsert('totals', 'x', { setOnInsert: { lost: true }, inc: { n: 1 } }),
            ),
          ],
          pos(1),
        );
        expect(await store.get('totals', 'x')).to.deep.equal({ id: 'x', v: 'two', n: 101 });
      });

      it('keeps JSON values as they were written, and gives back id and the fields only', async () => {
        const doc: DocFields = {
          text: 'héllo "quoted" \u2603',
          int: -42,
          float: 0.1,
          big: 2 ** 40,
          yes: true,
          no: false,
          nothing: null,
          list: [1, 'two', { three: [3] }, { four: 4 }, null],
          nested: { a: { b: { c: [true] } }, empty: {} },
        };
        await store.commit('p', [at(1, insert('totals', 'j', doc), upsert('totals', 'k', { set: doc }))], pos(1));
        expect(await store.get('totals', 'j')).to.deep.equal({ id: 'j', ...doc });
        const k = await store.get('totals', 'k');
        expect(Object.keys(k!).sort()).to.deep.equal(['id', ...Object.keys(doc)].sort());
      });

      it('set replaces a nested value whole', async () => {
        await store.commit('p', [at(1, insert('totals', 'n', { nested: { a: 1, b: 2 } }))], pos(1));
        await store.commit('p', [at(2, update('totals', 'n', { set: { nested: { c: 3 } } }))], pos(2));
        expect(await store.get('totals', 'n')).to.deep.equal({ id: 'n', nested: { c: 3 } });
      });

      it('the same id in two collections names two documents', async () => {
        await store.commit(
          'p',
          [at(1, insert('accounts', 'same', { owner: 'ann' }), insert('totals', 'same', { n: 1 }))],
          pos(1),
        );
        expect(await store.get('accounts', 'same')).to.deep.equal({ id: 'same', owner: 'ann' });
        expect(await store.get('totals', 'same')).to.deep.equal({ id: 'same', n: 1 });
      });

      it('refuses a malformed batch whole, before writing anything', async () => {
        const good = insert('accounts', 'a1', { owner: 'ann' });
        const bad: WriteOp[] = [
          insert('nowhere', 'x', {}),
          insert('accounts', '', {}),
          insert('accounts', 'x', { id: 'clash' }),
          insert('accounts', 'x', { _pos: 'forged' }),
          insert('accounts', 'x', { 'a.b': 1 }),
          insert('accounts', 'x', { $where: 1 }),
          insert('accounts', 'x', { nested: { $bad: 1 } }),
          insert('accounts', 'x', { n: Number.NaN }),
          // FerretDB cannot store an array inside an array: no store takes one.
          insert('accounts', 'x', { grid: [[1, 2], [3]] }),
          upsert('accounts', 'x', { set: { deep: { list: [1, [2]] } } }),
          insert('accounts', 'x', { when: new Date() as unknown as DocFields[string] }),
          insert('accounts', 'x', { u: undefined as unknown as DocFields[string] }),
          upsert('accounts', 'x', { set: { a: 1 }, inc: { a: 1 } }),
          upsert('accounts', 'x', { setOnInsert: { a: 1 }, inc: { a: 1 } }),
          upsert('accounts', 'x', { setOnInsert: { a: 1 }, set: { a: 2 } }),
          update('accounts', 'x', { inc: { a: 'one' as unknown as number } }),
          { op: 'merge', collection: 'accounts', id: 'x' } as unknown as WriteOp,
        ];
        for (const op of bad) {
          await rejectsWith(store.commit('p', [at(1, good), at(2, op)], pos(2)), ReadStoreQueryError);
        }
        expect(await store.get('accounts', 'a1')).to.equal(null);
        expect((await store.getCheckpoint('p')).position).to.equal(null);
      });

      it('refuses positions that do not strictly increase within a batch', async () => {
        const op = insert('accounts', 'a1', { owner: 'ann' });
        await rejectsWith(store.commit('p', [at(2, op), at(1, op)], pos(2)), ReadStoreQueryError);
        await rejectsWith(store.commit('p', [at(2, op), at(2, op)], pos(2)), ReadStoreQueryError);
        expect(await store.get('accounts', 'a1')).to.equal(null);
      });

      it('refuses to increment a field that is not a number', async () => {
        await store.commit('p', [at(1, insert('totals', 't', { label: 'text', nothing: null }))], pos(1));
        await rejectsWith(store.commit('p', [at(2, update('totals', 't', { inc: { label: 1 } }))], pos(2)));
        await rejectsWith(store.commit('p', [at(3, upsert('totals', 't', { inc: { nothing: 1 } }))], pos(3)));
        expect(await store.get('totals', 't')).to.deep.equal({ id: 't', label: 'text', nothing: null });
      });
    });

    describe('exactly once', () => {
      it('replaying a committed batch changes nothing', async () => {
        const batch = [
          at(1, upsert('totals', 't', { inc: { count: 1 } }), insert('history', 'h1', { account: 'a', at: '1' })),
          at(2, upsert('totals', 't', { inc: { count: 1 } }), remove('history', 'h1')),
        ];
        await store.commit('p', batch, pos(2));
        await store.commit('p', batch, pos(2));
        expect(await store.get('totals', 't')).to.deep.equal({ id: 't', count: 2 });
        expect(await store.get('history', 'h1')).to.equal(null);
        expect((await store.getCheckpoint('p')).position).to.deep.equal(pos(2));
      });

      it('replaying an older batch after newer ones changes nothing', async () => {
        const first = [at(1, upsert('totals', 't', { set: { last: 1 }, inc: { count: 1 } }))];
        const second = [at(2, upsert('totals', 't', { set: { last: 2 }, inc: { count: 1 } }))];
        await store.commit('p', first, pos(1));
        await store.commit('p', second, pos(2));
        await store.commit('p', first, pos(1));
        await store.commit('p', [...first, ...second], pos(2));
        expect(await store.get('totals', 't')).to.deep.equal({ id: 't', last: 2, count: 2 });
        expect((await store.getCheckpoint('p')).position).to.deep.equal(pos(2));
      });

      it('a batch cut short after any operation, then replayed whole, ends as if applied once', async () => {
        const scenario = (c: string): PositionedWrites[] => [
          at(101, upsert(c, 'a', { set: { name: 'a' }, setOnInsert: { created: 101 }, inc: { n: 1 } })),
          at(102, upsert(c, 'a', { inc: { n: 1 } }), upsert(c, 'b', { inc: { n: 5 } }), insert(c, 'h1', { k: 1 })),
          at(103, update(c, 'missing', { set: { x: 1 } }), remove(c, 'b')),
          at(104, upsert(c, 'b', { inc: { n: 2 } }), insert(c, 'h1', { k: 2 })),
          at(105, remove(c, 'h1'), insert(c, 'h1', { k: 3 }), update(c, 'h1', { inc: { k: 10 } })),
          at(106, upsert(c, 'a', { set: { name: 'A' }, inc: { n: 1 } }), upsert(c, 'a', { inc: { n: 100 } })),
          at(107),
          at(108, update(c, 'a', { inc: { n: -3 } }), remove(c, 'c'), upsert(c, 'c', { setOnInsert: { z: true } })),
        ];
        const everything = { sort: { fields: [], direction: 'asc' as const }, limit: 500 };

        await store.commit('reference', scenario('reference'), pos(108));
        const expected = (await store.find('reference', everything)).items;
        expect(expected).to.deep.equal([
          { id: 'a', name: 'A', created: 101, n: 100 },
          { id: 'b', n: 2 },
          { id: 'c', z: true },
          { id: 'h1', k: 13 },
        ]);

        const batch = scenario('replica');
        const cuts: PositionedWrites[][] = [];
        for (let e = 0; e < batch.length; e++) {
          for (let k = 0; k <= batch[e]!.ops.length; k++) {
            cuts.push([...batch.slice(0, e), { position: batch[e]!.position, ops: batch[e]!.ops.slice(0, k) }]);
          }
        }
        cuts.push(batch);
        for (const applied of cuts) {
          await store.reset('replay', ['replica']);
          await store.commit('replay', [], pos(100));
          // What a crash leaves behind: some operations applied, the checkpoint not moved.
          await store.commit('replay', applied, pos(100));
          await store.commit('replay', batch, pos(108));
          const label = `cut after ${applied.flatMap((w) => w.ops).length} operations`;
          expect((await store.find('replica', everything)).items, label).to.deep.equal(expected);
          expect((await store.getCheckpoint('replay')).position, label).to.deep.equal(pos(108));
        }
      });

      it('after a reset the same events apply again (rebuild)', async () => {
        const batch = [
          at(1, upsert('totals', 't', { inc: { count: 1 } })),
          at(2, upsert('totals', 't', { inc: { count: 1 } })),
        ];
        await store.commit('p', batch, pos(2));
        await store.reset('p', ['totals']);
        await store.commit('p', batch, pos(2));
        expect(await store.get('totals', 't')).to.deep.equal({ id: 't', count: 2 });
      });
    });

    describe('find', () => {
      const owners = ['ann', 'bob', 'cy'];
      /** 90 accounts with many ties on createdAt and balance, ids not in createdAt order. */
      const accounts: Doc[] = Array.from({ length: 90 }, (_, i) => {
        const doc: Doc = {
          id: `acc-${String((i * 37) % 90).padStart(3, '0')}`,
          owner: owners[i % 3]!,
          createdAt: Math.floor(i / 4),
          balance: (i * 7) % 5,
          vip: i % 4 === 0,
          status: i % 2 === 0 ? 'open' : 'closed',
        };
        if (i % 10 === 3) doc.status = null; // null and missing both count as null
        if (i % 10 === 7) delete doc.status;
        return doc;
      });

      async function seed(): Promise<void> {
        const writes = accounts.map((doc, i) => {
          const { id, ...fields } = doc;
          return at(i + 1, insert('accounts', id, fields));
        });
        await store.commit('p', writes, pos(accounts.length));
      }

      it('serves equality and sort from an index, ties broken by id, in both directions', async () => {
        await seed();
        for (const direction of ['asc', 'desc'] as const) {
          const page = await store.find('accounts', {
            where: { owner: 'bob' },
            sort: { fields: ['createdAt'], direction },
            limit: 500,
          });
          const expected = sortedBy(
            accounts.filter((a) => a.owner === 'bob'),
            ['createdAt'],
            direction,
          );
          expect(page.items).to.deep.equal(expected);
          expect(page.next).to.equal(undefined);
        }
      });

      it('pages through everything without gaps or duplicates, both directions, several sizes', async () => {
        await seed();
        for (const direction of ['asc', 'desc'] as const) {
          for (const limit of [1, 7, 30, 90]) {
            const expected = sortedBy(accounts, ['balance', 'createdAt'], direction);
            const { items, pages } = await allPages(store, 'accounts', {
              sort: { fields: ['balance', 'createdAt'], direction },
              limit,
            });
            expect(ids(items), `${direction} by ${limit}`).to.deep.equal(ids(expected));
            // A last page exactly full carries no next: `next` only when more may follow.
            expect(pages, `${direction} by ${limit}`).to.equal(Math.ceil(accounts.length / limit));
          }
        }
      });

      it('pages with an equality condition', async () => {
        await seed();
        for (const owner of owners) {
          const { items } = await allPages(store, 'accounts', {
            where: { owner },
            sort: { fields: ['createdAt'], direction: 'desc' },
            limit: 4,
          });
          expect(items).to.deep.equal(
            sortedBy(
              accounts.filter((a) => a.owner === owner),
              ['createdAt'],
              'desc',
            ),
          );
        }
      });

      it('bounds the first sort field with gt, gte, lt and lte, across pages', async () => {
        await seed();
        const cases: Array<[FindQuery['range'], (v: number) => boolean]> = [
          [{ gt: 5 }, (v) => v > 5],
          [{ gte: 5 }, (v) => v >= 5],
          [{ lt: 5 }, (v) => v < 5],
          [{ lte: 5 }, (v) => v <= 5],
          [{ gte: 3, lt: 12 }, (v) => v >= 3 && v < 12],
          [{ gt: 100 }, () => false],
        ];
        for (const [range, keep] of cases) {
          for (const direction of ['asc', 'desc'] as const) {
            const { items } = await allPages(store, 'accounts', {
              where: { owner: 'ann' },
              range,
              sort: { fields: ['createdAt'], direction },
              limit: 3,
            });
            const expected = sortedBy(
              accounts.filter((a) => a.owner === 'ann' && keep(a.createdAt as number)),
              ['createdAt'],
              direction,
            );
            expect(ids(items), JSON.stringify(range)).to.deep.equal(ids(expected));
          }
        }
      });

      it('serves an index with equality fields only, ordered by id; null matches null and missing', async () => {
        await seed();
        for (const status of ['open', 'closed', null]) {
          const { items } = await allPages(store, 'accounts', {
            where: { status, owner: 'cy' },
            sort: { fields: [], direction: 'asc' },
            limit: 5,
          });
          const expected = accounts.filter((a) => a.owner === 'cy' && (a.status ?? null) === status);
          expect(ids(items), String(status)).to.deep.equal(ids(expected).sort());
        }
      });

      it('matches booleans', async () => {
        await seed();
        const page = await store.find('accounts', {
          where: { vip: true },
          sort: { fields: ['createdAt'], direction: 'asc' },
          limit: 500,
        });
        expect(ids(page.items)).to.deep.equal(
          ids(
            sortedBy(
              accounts.filter((a) => a.vip === true),
              ['createdAt'],
              'asc',
            ),
          ),
        );
      });

      it('sorts strings, defaults to 50 items and allows up to 500', async () => {
        const writes = Array.from({ length: 520 }, (_, i) =>
          at(
            i + 1,
            insert('history', `h${String(i).padStart(4, '0')}`, {
              account: 'a',
              at: `2024-01-01T00:${String(i % 60).padStart(2, '0')}:00Z`,
            }),
          ),
        );
        await store.commit('p', writes, pos(520));
        const first = await store.find('history', {
          where: { account: 'a' },
          sort: { fields: ['at'], direction: 'desc' },
        });
        expect(first.items).to.have.length(50);
        expect(first.next).to.be.a('string');
        expect(first.items[0]!.at).to.equal('2024-01-01T00:59:00Z');
        const big = await store.find('history', { sort: { fields: ['at'], direction: 'asc' }, limit: 500 });
        expect(big.items).to.have.length(500);
        const rest = await store.find('history', {
          sort: { fields: ['at'], direction: 'asc' },
          limit: 500,
          after: big.next!,
        });
        expect(rest.items).to.have.length(20);
        expect(rest.next).to.equal(undefined);
        const all = [...big.items, ...rest.items];
        expect(ids(all)).to.deep.equal(ids(sortedBy(all, ['at'], 'asc')));
        expect(new Set(ids(all)).size).to.equal(520);
      });

      it('keeps its place when documents are added or removed between pages', async () => {
        await seed();
        const query: FindQuery = {
          where: { owner: 'ann' },
          sort: { fields: ['createdAt'], direction: 'asc' },
          limit: 5,
        };
        const first = await store.find('accounts', query);
        const seen = ids(first.items);
        // One that sorts before the cursor (never shown), one after (shown), one removed ahead.
        const ahead = sortedBy(
          accounts.filter((a) => a.owner === 'ann'),
          ['createdAt'],
          'asc',
        )[8]!;
        await store.commit(
          'p',
          [
            at(1000, insert('accounts', 'new-early', { owner: 'ann', createdAt: -1 })),
            at(1001, insert('accounts', 'new-late', { owner: 'ann', createdAt: 1000 })),
            at(1002, remove('accounts', ahead.id)),
          ],
          pos(1002),
        );
        const { items } = await allPages(store, 'accounts', { ...query, after: first.next! });
        const rest = ids(items);
        expect(rest).to.include('new-late');
        expect(rest).not.to.include('new-early');
        expect(rest).not.to.include(ahead.id);
        expect(seen.filter((id) => rest.includes(id))).to.deep.equal([]);
        // Every one of ann's accounts once: the seeded ones, plus new-late, less the removed one.
        const annCount = accounts.filter((a) => a.owner === 'ann').length;
        expect(seen.length + rest.length).to.equal(annCount + 1 - 1);
      });

      it('rejects cursors it did not produce for this query with InvalidCursor', async () => {
        await seed();
        const query: FindQuery = {
          where: { owner: 'ann' },
          sort: { fields: ['createdAt'], direction: 'asc' },
          limit: 5,
        };
        const { next } = await store.find('accounts', query);
        expect(next).to.be.a('string');
        const b64 = (text: string): string => Buffer.from(text).toString('base64url');
        const bad = [
          '',
          'not a cursor!',
          'x'.repeat(5000),
          b64('not json'),
          b64('{}'),
          b64('null'),
          b64(JSON.stringify({ v: [1], id: 'acc-001' })),
          `${next}x`,
          next!.slice(0, -3),
        ];
        for (const after of bad) await rejectsWith(store.find('accounts', { ...query, after }), InvalidCursor);
        // A cursor fits only the query it came from: not another owner, direction or collection.
        await rejectsWith(store.find('accounts', { ...query, where: { owner: 'bob' }, after: next! }), InvalidCursor);
        await rejectsWith(
          store.find('accounts', { ...query, sort: { fields: ['createdAt'], direction: 'desc' }, after: next! }),
          InvalidCursor,
        );
        await rejectsWith(store.find('accounts', { ...query, range: { gt: 1 }, after: next! }), InvalidCursor);
        await rejectsWith(
          store.find('history', {
            where: { account: 'ann' },
            sort: { fields: ['at'], direction: 'asc' },
            after: next!,
          }),
          InvalidCursor,
        );
        // The limit may change from page to page.
        const page = await store.find('accounts', { ...query, limit: 2, after: next! });
        expect(page.items).to.have.length(2);
      });

      it('refuses a query that no declared index serves, and limits out of range', async () => {
        const refused: FindQuery[] = [
          { sort: { fields: ['createdAt'], direction: 'asc' } }, // missing the equality field
          { where: { owner: 'ann', status: 'open' }, sort: { fields: ['createdAt'], direction: 'asc' } },
          { where: { status: 'open' }, sort: { fields: [], direction: 'asc' } },
          { sort: { fields: ['createdAt', 'balance'], direction: 'asc' } }, // wrong order
          { sort: { fields: ['balance'], direction: 'asc' } }, // a prefix is not the index
          { where: { owner: 'ann' }, sort: { fields: ['balance'], direction: 'asc' } },
          { where: { owner: 'ann', status: 'open' }, range: { gt: 1 }, sort: { fields: [], direction: 'asc' } },
          { where: { owner: { name: 'ann' } }, sort: { fields: ['createdAt'], direction: 'asc' } },
          { where: { owner: ['ann'] }, sort: { fields: ['createdAt'], direction: 'asc' } },
          { where: { owner: 'ann' }, range: { gt: null }, sort: { fields: ['createdAt'], direction: 'asc' } },
          {
            where: { owner: 'ann' },
            range: { above: 1 } as unknown as FindQuery['range'],
            sort: { fields: ['createdAt'], direction: 'asc' },
          },
          { where: { owner: 'ann' }, sort: { fields: ['createdAt'], direction: 'up' as 'asc' } },
          { where: { owner: 'ann' }, sort: { fields: ['createdAt'], direction: 'asc' }, limit: 0 },
          { where: { owner: 'ann' }, sort: { fields: ['createdAt'], direction: 'asc' }, limit: 501 },
          { where: { owner: 'ann' }, sort: { fields: ['createdAt'], direction: 'asc' }, limit: 2.5 },
        ];
        for (const query of refused) await rejectsWith(store.find('accounts', query), ReadStoreQueryError);
      });

      it('refuses to page past a document whose sort field is missing', async () => {
        await store.commit(
          'p',
          [at(1, insert('history', 'h1', { account: 'a' }), insert('history', 'h2', { account: 'a', at: 'x' }))],
          pos(1),
        );
        // Missing sorts first ascending in both stores, so it ends this one-item page.
        await rejectsWith(
          store.find('history', { where: { account: 'a' }, sort: { fields: ['at'], direction: 'asc' }, limit: 1 }),
          ReadStoreQueryError,
        );
        const all = await store.find('history', {
          where: { account: 'a' },
          sort: { fields: ['at'], direction: 'asc' },
        });
        expect(ids(all.items)).to.deep.equal(['h1', 'h2']);
      });
    });

    describe('deleteBefore', () => {
      const stamp = (i: number) => `t${String(i).padStart(5, '0')}`;

      it('deletes exactly the documents whose field sorts before the bound, however many (chunks past 1,000)', async function () {
        this.timeout(60_000);
        const total = 3_000;
        for (let batch = 0; batch < total / 500; batch++) {
          const ops = Array.from({ length: 500 }, (_, j) =>
            insert('history', `h${batch * 500 + j}`, { account: 'a', at: stamp(batch * 500 + j) }),
          );
          await store.commit('p', [at(batch + 1, ...ops)], pos(batch + 1));
        }
        await store.commit(
          'p',
          [
            at(
              100,
              insert('history', 'no-at', { account: 'a' }),
              insert('accounts', 'other', { owner: 'ann', createdAt: stamp(0) }),
            ),
          ],
          pos(100),
        );

        expect(await store.deleteBefore('history', 'at', stamp(2_100))).to.equal(2_100);
        for (const i of [0, 999, 1_000, 2_000, 2_099])
          expect(await store.get('history', `h${i}`), `h${i}`).to.equal(null);
        for (const i of [2_100, 2_101, 2_999]) expect(await store.get('history', `h${i}`), `h${i}`).to.not.equal(null);
        expect(await store.get('history', 'no-at'), 'a document without the field stays').to.not.equal(null);
        expect(await store.get('accounts', 'other'), 'other collections are untouched').to.not.equal(null);
        const { items } = await allPages(store, 'history', { sort: { fields: ['at'], direction: 'asc' }, limit: 200 });
        expect(items.filter((d) => d.at !== undefined).map((d) => d.at)).to.deep.equal(
          Array.from({ length: 900 }, (_, i) => stamp(2_100 + i)),
        );
        expect(await store.deleteBefore('history', 'at', stamp(2_100)), 'nothing left before the bound').to.equal(0);
        expect(await store.deleteBefore('history', 'at', stamp(2_101))).to.equal(1);
      });

      it('refuses a field that no index starts with (or a collection it does not know), deleting nothing', async () => {
        await store.commit(
          'p',
          [
            at(
              1,
              insert('history', 'h1', { account: 'a', at: stamp(1) }),
              insert('accounts', 'a1', { owner: 'ann', createdAt: stamp(1), balance: 1 }),
            ),
          ],
          pos(1),
        );
        // `account` leads an index as an equality field; `createdAt` comes after one, or after `balance`; `totals` has no index.
        await rejectsWith(store.deleteBefore('history', 'account', 'z'), ReadStoreQueryError);
        await rejectsWith(store.deleteBefore('accounts', 'createdAt', 'z'), ReadStoreQueryError);
        await rejectsWith(store.deleteBefore('totals', 'at', 'z'), ReadStoreQueryError);
        await rejectsWith(store.deleteBefore('nowhere', 'at', 'z'));
        expect(await store.get('history', 'h1')).to.not.equal(null);
        expect(await store.get('accounts', 'a1')).to.not.equal(null);
      });
    });

    describe('checkpoints', () => {
      it('are null until a commit moves them, then give the position and when it moved', async () => {
        expect(await store.getCheckpoint('p')).to.deep.equal({ name: 'p', position: null, updatedAt: null });
        const before = Date.now();
        await store.commit('p', [at(1, insert('totals', 't', {}))], pos(3));
        const checkpoint = await store.getCheckpoint('p');
        expect(checkpoint.position).to.deep.equal(pos(3));
        expect(checkpoint.updatedAt).to.be.instanceOf(Date);
        expect(checkpoint.updatedAt!.getTime()).to.be.within(before - 1000, Date.now() + 1000);
      });

      it('move with a commit without writes, compare as positions (9 < 10), and never move back', async () => {
        await store.commit('p', [], pos(9));
        expect((await store.getCheckpoint('p')).position).to.deep.equal(pos(9));
        await store.commit('p', [], pos(10));
        expect((await store.getCheckpoint('p')).position).to.deep.equal(pos(10));
        await store.commit('p', [], pos(2));
        expect((await store.getCheckpoint('p')).position).to.deep.equal(pos(10));
        const big: Position = { commit: 18446744073709551615n, prepare: 18446744073709551615n };
        await store.commit('p', [], big);
        expect((await store.getCheckpoint('p')).position).to.deep.equal(big);
      });

      it('are listed by name, one per projection', async () => {
        await store.commit('zeta', [], pos(1));
        await store.commit('alpha', [], pos(2));
        await store.commit('mid', [], pos(3));
        const list = await store.listCheckpoints();
        expect(list.map((c) => [c.name, c.position])).to.deep.equal([
          ['alpha', pos(2)],
          ['mid', pos(3)],
          ['zeta', pos(1)],
        ]);
      });
    });

    describe('parked events', () => {
      const parked = (projection: string, eventId: string, n: number, attempts = 3): ParkedEvent => ({
        projection,
        eventId,
        eventType: 'DealClosed',
        streamId: `deal-${eventId}`,
        position: pos(n),
        error: `boom ${eventId}`,
        attempts,
        parkedAt: new Date(1_700_000_000_000 + n),
      });

      it('are listed by position, all or for one projection; parking the same event again replaces it', async () => {
        await store.park(parked('balances', 'e2', 20));
        await store.park(parked('balances', 'e1', 10));
        await store.park(parked('stats', 'e3', 15));
        await store.park(parked('balances', 'e2', 20, 5));
        expect(await store.listParked('balances')).to.deep.equal([
          parked('balances', 'e1', 10),
          parked('balances', 'e2', 20, 5),
        ]);
        expect(await store.listParked('stats')).to.deep.equal([parked('stats', 'e3', 15)]);
        expect(await store.listParked('nobody')).to.deep.equal([]);
        expect((await store.listParked()).map((p) => p.eventId)).to.deep.equal(['e1', 'e3', 'e2']);
      });

      it('unparks one event of one projection, telling whether it was parked', async () => {
        await store.park(parked('balances', 'e1', 10));
        await store.park(parked('balances', 'e2', 20));
        await store.park(parked('stats', 'e1', 10));
        expect(await store.unpark('balances', 'e1')).to.equal(true);
        expect(await store.unpark('balances', 'e1')).to.equal(false);
        expect(await store.unpark('nobody', 'e2')).to.equal(false);
        expect((await store.listParked()).map((p) => [p.projection, p.eventId])).to.deep.equal([
          ['stats', 'e1'],
          ['balances', 'e2'],
        ]);
      });
    });

    describe('reset', () => {
      it('empties only the named collections and forgets only that projection', async () => {
        await store.commit(
          'balances',
          [at(1, insert('accounts', 'a1', { owner: 'ann' }), insert('totals', 't1', { n: 1 }))],
          pos(1),
        );
        await store.commit('history', [at(2, insert('history', 'h1', { account: 'a1', at: 'x' }))], pos(2));
        await store.park({
          projection: 'balances',
          eventId: 'e1',
          eventType: 'T',
          streamId: 's',
          position: pos(1),
          error: 'e',
          attempts: 1,
          parkedAt: new Date(0),
        });
        await store.park({
          projection: 'history',
          eventId: 'e2',
          eventType: 'T',
          streamId: 's',
          position: pos(2),
          error: 'e',
          attempts: 1,
          parkedAt: new Date(0),
        });

        await store.reset('balances', ['accounts', 'totals']);

        expect(await store.get('accounts', 'a1')).to.equal(null);
        expect(await store.get('totals', 't1')).to.equal(null);
        expect(await store.get('history', 'h1')).to.deep.equal({ id: 'h1', account: 'a1', at: 'x' });
        expect((await store.getCheckpoint('balances')).position).to.equal(null);
        expect((await store.getCheckpoint('history')).position).to.deep.equal(pos(2));
        expect((await store.listParked()).map((p) => p.eventId)).to.deep.equal(['e2']);
        expect((await store.listCheckpoints()).map((c) => c.name)).to.deep.equal(['history']);
      });

      it('refuses an unknown collection before deleting anything', async () => {
        await store.commit('balances', [at(1, insert('accounts', 'a1', { owner: 'ann' }))], pos(1));
        await rejectsWith(store.reset('balances', ['accounts', 'nowhere']), ReadStoreQueryError);
        expect(await store.get('accounts', 'a1')).to.not.equal(null);
        expect((await store.getCheckpoint('balances')).position).to.deep.equal(pos(1));
      });
    });
  });
}
