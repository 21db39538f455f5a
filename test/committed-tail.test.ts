/**
 * The embedded store's in-memory tail of its own commits, which live subscriptions read
 * instead of SQLite: it may only ever answer for a stretch of the log it holds whole.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import { CommittedTail } from '../infra/sqlite/event-store/committed-tail.js';
import { EventReader, type Row } from '../infra/sqlite/event-store/reader.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { distDir, tempDir, type TempDir } from './support/process.js';

const row = (position: number, stream = 'account-1', type = 'MoneyDeposited'): Row => [
  position,
  stream,
  position - 1,
  `id-${position}`,
  type,
  `{"n":${position}}`,
  '{}',
  0,
];
const rows = (from: number, to: number, stream?: string) =>
  Array.from({ length: to - from + 1 }, (_, i) => row(from + i, stream));
const positionsOf = (events: RecordedEvent[]) => events.map((e) => Number(e.position.commit));

describe('committed tail', () => {
  it('answers for what follows a position it holds, in order, up to the limit', () => {
    const tail = new CommittedTail();
    tail.add(rows(11, 15));
    tail.add(rows(16, 20));
    const page = tail.pageAfter(12, 5, undefined)!;
    expect(positionsOf(page.events)).to.deep.equal([13, 14, 15, 16, 17]);
    expect(page.scannedUpTo).to.equal(17);
    expect(page.reachedEnd).to.equal(false);
    const rest = tail.pageAfter(17, 5, undefined)!;
    expect(positionsOf(rest.events)).to.deep.equal([18, 19, 20]);
    expect(rest.reachedEnd).to.equal(true);
    expect(rest.events[0]!.data).to.deep.equal({ n: 18 });
  });

  it('says nothing new, not unknown, at its last position', () => {
    const tail = new CommittedTail();
    tail.add(rows(1, 3));
    expect(tail.pageAfter(3, 10, undefined)).to.deep.equal({ events: [], scannedUpTo: 3, reachedEnd: true });
  });

  it('does not answer for positions before or beyond what it holds', () => {
    const tail = new CommittedTail();
    expect(tail.pageAfter(0, 10, undefined)).to.equal(null);
    tail.add(rows(11, 15));
    expect(tail.pageAfter(9, 10, undefined)).to.equal(null);
    expect(tail.pageAfter(16, 10, undefined)).to.equal(null);
    expect(tail.pageAfter(10, 10, undefined)).to.not.equal(null);
  });

  it('starts again when a commit does not follow the last one (another process wrote in between)', () => {
    const tail = new CommittedTail();
    tail.add(rows(1, 5));
    tail.add(rows(9, 10));
    expect(tail.pageAfter(5, 10, undefined)).to.equal(null);
    expect(tail.pageAfter(3, 10, undefined)).to.equal(null);
    expect(positionsOf(tail.pageAfter(8, 10, undefined)!.events)).to.deep.equal([9, 10]);
  });

  it('never answers across a break inside one commit', () => {
    const tail = new CommittedTail();
    tail.add(rows(10, 20));
    tail.add([row(15), row(21), row(22)]);
    expect(tail.pageAfter(15, 10, undefined)).to.equal(null);
    expect(tail.pageAfter(14, 10, undefined)).to.equal(null);
    expect(positionsOf(tail.pageAfter(20, 10, undefined)!.events)).to.deep.equal([21, 22]);
  });

  it('filters as SQLite does: by stream and type prefix, never system events, and still reports how far it looked', () => {
    const tail = new CommittedTail();
    tail.add([
      row(1, 'account-1'),
      row(2, 'idempotency-x', 'IdempotentRequestCompleted'),
      row(3, 'account-2', '$metadata'),
      row(4, 'user-1', 'UserRegistered'),
    ]);
    const accounts = tail.pageAfter(0, 10, { streamPrefixes: ['account-'] })!;
    expect(positionsOf(accounts.events)).to.deep.equal([1]);
    expect(accounts.scannedUpTo).to.equal(4);
    const users = tail.pageAfter(0, 10, { eventTypePrefixes: ['User'] })!;
    expect(positionsOf(users.events)).to.deep.equal([4]);
    expect(positionsOf(tail.pageAfter(0, 10, { streamPrefixes: [] })!.events)).to.deep.equal([1, 2, 3, 4]);
  });

  it('keeps a bounded number of rows, dropping the oldest', () => {
    const tail = new CommittedTail(10);
    for (let p = 1; p <= 100; p += 5) tail.add(rows(p, p + 4));
    expect(tail.pageAfter(50, 100, undefined)).to.equal(null);
    expect(positionsOf(tail.pageAfter(95, 100, undefined)!.events)).to.deep.equal([96, 97, 98, 99, 100]);
  });
});

const writerScript = join(distDir, 'test', 'support', 'embedded-writer.js');

describe('embedded subscriptions reading the tail', function () {
  this.timeout(30_000);
  let dir: TempDir;
  beforeEach(() => (dir = tempDir('market-tail-')));
  afterEach(() => dir.remove());

  it("miss nothing another process appends between and after this process's own commits", async () => {
    const file = join(dir.path, 'events.db');
    const store = openSqliteEventStore({ file, idleCheckMs: 50 });
    const subscription = store.subscribeToAll();
    const seen: RecordedEvent[] = [];
    const total = 2 * 300;
    const reading = (async () => {
      for await (const batch of subscription) {
        seen.push(...batch.events);
        if (seen.length >= total) break;
      }
    })();
    const child = spawn(process.execPath, [writerScript, file, 'elsewhere', '300'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let expected: number | 'no_stream' = 'no_stream';
    for (let i = 0; i < 300; i++) {
      const result = await store.appendToStream('here', [{ id: uuid(), type: 'Written', data: { i } }], {
        expectedRevision: expected,
      });
      expected = result.nextExpectedRevision;
    }
    expect(await exited).to.equal(0);
    await reading;
    await subscription.close();
    const all = await store.readAll();
    await store.close();
    expect(positionsOf(seen)).to.deep.equal(positionsOf(all));
    expect(seen.map((e) => e.data)).to.deep.equal(all.map((e) => e.data));
    const here = seen.filter((e) => e.streamId === 'here');
    expect(here.map((e) => e.data.i)).to.deep.equal(Array.from({ length: 300 }, (_, i) => i));
    expect(here.map((e) => e.revision)).to.deep.equal(Array.from({ length: 300 }, (_, i) => i));
  });

  it('deliver events read from the tail exactly as SQLite stores them', async () => {
    const file = join(dir.path, 'events.db');
    const store = openSqliteEventStore({ file, idleCheckMs: 60_000 });
    await store.appendToStream('first', [{ id: uuid(), type: 'Written', data: { i: 0 } }]);
    const subscription = store.subscribeToAll();
    const seen: RecordedEvent[] = [];
    const iterator = subscription[Symbol.asyncIterator]();
    seen.push(...(await iterator.next()).value.events);
    // The subscription waits before each commit, so a commit of this store wakes it and it
    // reads what the commit added from the tail.
    const afterCommit = async (append: () => Promise<unknown>) => {
      const next = iterator.next();
      await append();
      seen.push(...(await next).value.events);
    };
    const replayedId = uuid();
    const replayable = () =>
      store.appendToStream(
        's',
        [{ id: replayedId, type: 'Written', data: { i: 1 }, metadata: { correlationId: 'c' } }],
        { expectedRevision: 'no_stream' },
      );
    await afterCommit(replayable);
    // The same append again is a replay: nothing new in the log, so nothing new to deliver.
    await afterCommit(async () => {
      await replayable();
      await store.appendToStream('s', [
        { id: uuid(), type: 'Written', data: { i: 2 } },
        { id: uuid(), type: 'Written', data: { i: 3 } },
      ]);
    });
    while (seen.length < 4) seen.push(...(await iterator.next()).value.events);
    await subscription.close();
    const all = await store.readAll();
    await store.close();
    expect(seen).to.deep.equal(all);
  });

  it("read another thread's commits once for all their subscriptions, and miss nothing", async () => {
    const file = join(dir.path, 'events.db');
    // As in the server: the writer thread announces each commit to the projector thread's store.
    const writer = openSqliteEventStore({ file, announceCommits: true });
    const store = openSqliteEventStore({ file, idleCheckMs: 60_000, hearCommits: true });
    await writer.appendToStream('before', [{ id: uuid(), type: 'Written', data: { i: -1 } }]);
    const reads = { pages: 0, tail: 0 };
    const { pageForwards, rowsAfter } = EventReader.prototype;
    EventReader.prototype.pageForwards = function (...args) {
      reads.pages += 1;
      return pageForwards.apply(this, args);
    };
    EventReader.prototype.rowsAfter = function (...args) {
      reads.tail += 1;
      return rowsAfter.apply(this, args);
    };
    try {
      const subscriptions = Array.from({ length: 5 }, (_, i) =>
        store.subscribeToAll({ filter: i === 0 ? { streamPrefixes: ['odd'] } : undefined }),
      );
      const commits = 50;
      const seen = subscriptions.map((subscription, i) =>
        (async () => {
          const events: RecordedEvent[] = [];
          const wanted = i === 0 ? commits / 2 : commits + 1;
          for await (const batch of subscription) {
            events.push(...batch.events);
            if (events.length >= wanted) break;
          }
          return events;
        })(),
      );
      await new Promise((resolve) => setTimeout(resolve, 50)); // all caught up and waiting
      const pagesWhenLive = reads.pages;
      for (let i = 0; i < commits; i++) {
        await writer.appendToStream(i % 2 ? 'odd' : 'even', [{ id: uuid(), type: 'Written', data: { i } }]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const results = await Promise.all(seen);
      const all = await store.readAll();
      expect(positionsOf(results[0]!)).to.deep.equal(positionsOf(all.filter((e) => e.streamId === 'odd')));
      for (const events of results.slice(1)) expect(events).to.deep.equal(all);
      // The first wake only starts the tail (each subscription reads SQLite once more); after
      // that, one read per wake serves all five.
      expect(reads.pages - pagesWhenLive).to.be.at.most(subscriptions.length);
      expect(reads.tail).to.be.at.most(commits);
      await Promise.all(subscriptions.map((s) => s.close()));
    } finally {
      EventReader.prototype.pageForwards = pageForwards;
      EventReader.prototype.rowsAfter = rowsAfter;
      await store.close();
      await writer.close();
    }
  });

  it('hears the commits of a writer that commits in its own thread (inline)', async () => {
    const file = join(dir.path, 'events.db');
    const writer = openSqliteEventStore({ file, writer: 'inline', announceCommits: true });
    const store = openSqliteEventStore({ file, idleCheckMs: 60_000, hearCommits: true });
    const subscription = store.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    try {
      while (!(await iterator.next()).value.caughtUp);
      const appended = await writer.appendToStream('s', [{ id: uuid(), type: 'Written', data: { i: 1 } }]);
      const batch = (await iterator.next()).value;
      expect(positionsOf(batch.events)).to.deep.equal([Number(appended.position.commit)]);
    } finally {
      await subscription.close();
      await Promise.all([store.close(), writer.close()]);
    }
  });
});
