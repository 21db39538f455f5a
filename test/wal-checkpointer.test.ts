import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';
import { BACKSTOP_CHECKPOINT_PAGES, startWalCheckpointer } from '../infra/sqlite/read-store/wal-checkpointer.js';
import { at, insert, pos } from './contract/read-store.contract.js';
import { cleanEnv, distDir, runNode } from './support/process.js';

/** Frames in the file's WAL now (a PASSIVE checkpoint reports them; with nothing new to copy it copies nothing). */
function framesInWal(file: string): number {
  const probe = new Database(file);
  try {
    return (probe.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>)[0]!.log;
  } finally {
    probe.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('read.db checkpointer (a thread of its own)', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'market-checkpointer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Commits `count` documents of ~2 KB in commits of 10, as projections do. */
  async function write(store: ReturnType<typeof openSqliteReadStore>, from: number, count: number) {
    for (let n = from; n < from + count; n += 10) {
      const ops = Array.from({ length: 10 }, (_, i) =>
        insert('docs', `doc-${n + i}`, { text: randomBytes(1000).toString('hex') }),
      );
      await store.commit('p', [at(n, ...ops)], pos(n));
    }
  }

  it('copies the WAL back while the writer commits on, and the WAL starts over, with no checkpoint of the writer’s own', async () => {
    const file = join(dir, 'read.db');
    const store = openSqliteReadStore({ file, inlineCheckpointPages: BACKSTOP_CHECKPOINT_PAGES });
    await store.ensureCollections([{ name: 'docs', indexes: [] }]);
    await write(store, 1, 2000);
    const unaided = framesInWal(file);
    // The writer alone leaves everything in the WAL (the backstop is far out): the database file holds none of it.
    expect(unaided).to.be.greaterThan(1000);
    const sizeBefore = statSync(file).size;

    const errors: unknown[] = [];
    const checkpointer = startWalCheckpointer(file, { everyMs: 50, onError: (e) => errors.push(e) });
    try {
      await write(store, 2001, 2000); // committing on while it works
      await sleep(300);
      await write(store, 4001, 10); // the first commit after a checkpoint that copied everything starts the WAL over
      expect(framesInWal(file), 'frames left in the WAL').to.be.lessThan(100);
      expect(statSync(file).size, 'the database file holds the documents').to.be.greaterThan(sizeBefore + 4_000_000);
      expect((await store.get('docs', 'doc-4001'))?.id).to.equal('doc-4001');
      expect((await store.getCheckpoint('p')).position).to.deep.equal(pos(4001));
    } finally {
      await checkpointer.close();
      await store.close();
    }
    expect(errors).to.deep.equal([]);
  });

  it('reports a file it cannot checkpoint, and closes all the same', async () => {
    const file = join(dir, 'not-a-database.db');
    writeFileSync(file, 'plain text, long enough to be read as a header and refused as one '.repeat(20));
    const errors: unknown[] = [];
    const checkpointer = startWalCheckpointer(file, { everyMs: 50, onError: (e) => errors.push(e) });
    for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(20);
    await checkpointer.close();
    expect(errors.map(String).join('\n')).to.match(/not a database/);
  });

  it('holds the process open until it has stopped, even when nothing else does (the end of a shutdown)', async () => {
    const file = join(dir, 'read.db');
    new Database(file).close();
    const module = pathToFileURL(join(distDir, 'infra/sqlite/read-store/wal-checkpointer.js')).href;
    const script = join(dir, 'close-last.mjs');
    writeFileSync(
      script,
      `import { startWalCheckpointer } from ${JSON.stringify(module)};
       const checkpointer = startWalCheckpointer(${JSON.stringify(file)}, { everyMs: 50, onError: (e) => console.error(e) });
       await new Promise((resolve) => setTimeout(resolve, 100));
       await checkpointer.close();
       console.log('closed');`,
    );
    const run = await runNode(script, [], cleanEnv());
    expect(run, run.stderr).to.include({ code: 0, stdout: 'closed\n' });
  });
});
