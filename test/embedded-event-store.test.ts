/** What only the embedded store has to prove: durability across kill -9 and sharing a file between processes. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteEventStore } from '../infra/event-store/sqlite/sqlite-event-store.js';
import type { RecordedEvent } from '../infra/event-store/event-store.js';

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
    const child = spawn(process.execPath, [writerScript, file, 'orders-1', '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
      new Promise((resolve) => spawn(process.execPath, [writerScript, file, stream, '300'], { stdio: 'ignore' }).once('exit', resolve));
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
      const appends = Array.from({ length: 50 }, (_, i) => store.appendToStream(`s-${i % 5}`, [{ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'Written', data: { i } }]));
      await store.close();
      const results = await Promise.all(appends);
      expect(results.map((r) => Number(r.position.commit)).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
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
