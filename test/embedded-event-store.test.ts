/** What only the embedded store has to prove: durability across kill -9 and sharing a file between processes. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { v4 as uuid } from 'uuid';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { WrongExpectedVersion, type RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { tempDir, type TempDir } from './support/process.js';

const writerScript = join(dirname(fileURLToPath(import.meta.url)), 'support', 'embedded-writer.js');

describe('embedded event store across processes', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-es-proc-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged append when the writer is killed with SIGKILL', async () => {
    const file = join(dir, 'events.db');
    const child = spawn(process.execPath, [writerScript, file, 'orders-1', '100000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acknowledged = -1;
    let buffered = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) acknowledged = Number(line.split(' ')[1]);
        if (acknowledged >= 300 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));

    const store = openSqliteEventStore({ file });
    const read = await store.readStream('orders-1');
    await store.close();
    if (read.status !== 'found') throw new Error('stream lost');
    expect(read.events.length - 1).to.be.at.least(acknowledged);
    expect(read.events.map((e) => e.revision)).to.deep.equal(read.events.map((_, i) => i));
  });

  it('lets a subscription in one process catch up with appends made by another', async () => {
    const file = join(dir, 'events.db');
    const store = openSqliteEventStore({ file, idleCheckMs: 50 });
    const subscription = store.subscribeToAll();
    const seen: RecordedEvent[] = [];
    const reading = (async () => {
      for await (const batch of subscription) {
        seen.push(...batch.events);
        if (seen.length >= 200) break;
      }
    })();
    const child = spawn(process.execPath, [writerScript, file, 'from-elsewhere', '200'], { stdio: 'ignore' });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).to.equal(0);
    await reading;
    await subscription.close();
    await store.close();
    expect(seen.map((e) => e.data.i)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
  });

  it('serialises appends from two processes on the same streams', async () => {
    const file = join(dir, 'events.db');
    openSqliteEventStore({ file }).close();
    const run = (stream: string) =>
      new Promise((resolve) =>
        spawn(process.execPath, [writerScript, file, stream, '300'], { stdio: 'ignore' }).once('exit', resolve),
      );
    expect(await Promise.all([run('a'), run('b')])).to.deep.equal([0, 0]);
    const store = openSqliteEventStore({ file });
    const all = await store.readAll();
    await store.close();
    expect(all).to.have.length(600);
    expect(all.map((e) => Number(e.position.commit))).to.deep.equal(all.map((_, i) => i + 1));
  });
});

describe('embedded event store, closing', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-es-close-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const writer of ['thread', 'inline'] as const) {
    it(`answers and keeps every append accepted before close (commits ${writer})`, async () => {
      const file = join(dir, 'events.db');
      const store = openSqliteEventStore({ file, writer });
      const appends = Array.from({ length: 50 }, (_, i) =>
        store.appendToStream(`s-${i % 5}`, [
          { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'Written', data: { i } },
        ]),
      );
      await store.close();
      const results = await Promise.all(appends);
      expect(results.map((r) => Number(r.position.commit)).sort((a, b) => a - b)).to.deep.equal(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      try {
        await store.appendToStream('s-0', [{ id: '00000000-0000-4000-8000-999999999999', type: 'Written', data: {} }]);
        expect.fail('an append after close was accepted');
      } catch (error) {
        expect((error as Error).name).to.equal('EventStoreUnavailable');
      }
      const reopened = openSqliteEventStore({ file });
      expect(await reopened.readAll()).to.have.length(50);
      await reopened.close();
    });
  }
});

describe('embedded event store, groups in flight', () => {
  let dir: TempDir;
  beforeEach(() => (dir = tempDir('market-es-flight-')));
  afterEach(() => dir.remove());

  for (const writer of ['thread', 'inline'] as const) {
    it(`answers each append of groups handed over turn after turn on its own, as if run one by one (commits ${writer})`, async () => {
      const store = openSqliteEventStore({ file: join(dir.path, 'events.db'), writer });
      const id = (turn: number, k: number) => `00000000-0000-4000-8000-${String(turn * 100 + k).padStart(12, '0')}`;
      // 12 turns of the event loop, each adding one group: on every stream of the turn, one
      // append at the revision the earlier turns left (accepted) and one at a stale one (refused).
      const outcomes: Array<Promise<'written' | 'refused'>> = [];
      for (let turn = 0; turn < 12; turn++) {
        for (let s = 0; s < 4; s++) {
          const stream = `stream-${s}`;
          const fresh = turn === 0 ? 'no_stream' : turn - 1;
          const stale = turn === 0 ? 5 : turn - 2 < 0 ? 'no_stream' : turn - 2;
          for (const [k, expectedRevision] of [
            [s * 2, fresh],
            [s * 2 + 1, stale],
          ] as const) {
            outcomes.push(
              store
                .appendToStream(stream, [{ id: id(turn, k), type: 'Written', data: { turn, k } }], { expectedRevision })
                .then(
                  () => 'written' as const,
                  (error: Error) => {
                    expect(error.name).to.equal('WrongExpectedVersion');
                    return 'refused' as const;
                  },
                ),
            );
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const answered = await Promise.all(outcomes);
      expect(answered).to.deep.equal(answered.map((_, i) => (i % 2 === 0 ? 'written' : 'refused')));
      for (let s = 0; s < 4; s++) {
        const read = await store.readStream(`stream-${s}`);
        if (read.status !== 'found') throw new Error(`stream-${s} missing`);
        expect(read.events.map((e) => e.data)).to.deep.equal(
          Array.from({ length: 12 }, (_, turn) => ({ turn, k: s * 2 })),
        );
      }
      const all = await store.readAll();
      expect(all.map((e) => Number(e.position.commit))).to.deep.equal(all.map((_, i) => i + 1));
      await store.close();
    });
  }
});

describe('embedded event store, files written by earlier versions', () => {
  let dir: TempDir;
  beforeEach(() => (dir = tempDir('market-es-old-')));
  afterEach(() => dir.remove());

  it("reads a stream's revision from its events: an older file's `streams.revision` column is dropped, and appends check the right revision", async () => {
    const file = join(dir.path, 'events.db');
    // The layout before: each stream's revision kept in `streams` too.
    const old = new Database(file);
    old.exec(`CREATE TABLE streams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, revision INTEGER NOT NULL);
      CREATE TABLE events (position INTEGER PRIMARY KEY, stream INTEGER NOT NULL, revision INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, created INTEGER NOT NULL);
      CREATE UNIQUE INDEX events_by_stream ON events (stream, revision);
      INSERT INTO streams (id, name, revision) VALUES (1, 'orders-1', 1);
      INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES
        (1, 0, '${uuid()}', 'Placed', '{}', '{}', 0), (1, 1, '${uuid()}', 'Placed', '{}', '{}', 0);`);
    old.close();
    const store = openSqliteEventStore({ file });
    try {
      const refused = await store
        .appendToStream('orders-1', [{ id: uuid(), type: 'Placed', data: {} }], { expectedRevision: 0 })
        .catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(WrongExpectedVersion);
      expect((refused as WrongExpectedVersion).actual).to.equal(1);
      const appended = await store.appendToStream('orders-1', [{ id: uuid(), type: 'Placed', data: {} }], {
        expectedRevision: 1,
      });
      expect(appended.nextExpectedRevision).to.equal(2);
      await store.appendToStream('orders-2', [{ id: uuid(), type: 'Placed', data: {} }], {
        expectedRevision: 'no_stream',
      });
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare("SELECT name FROM pragma_table_info('streams')").all()).to.deep.equal([
        { name: 'id' },
        { name: 'name' },
      ]);
    } finally {
      after.close();
    }
  });
});
