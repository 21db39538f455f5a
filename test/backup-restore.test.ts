/**
 * `npm run cli -- backup <dir>` while a server process takes deposits, then `restore` into
 * a new DATA_DIR (infra/cli/backup.ts): every deposit acknowledged before the backup began
 * is in the restored events, the read models copied are never ahead of the events copied,
 * and once a server on the restored directory has caught up its read models are exactly
 * what a rebuild from the restored events gives. Files are private (0700 / 0600).
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseSortablePosition } from '../infra/eventsourcing/event-store/position.js';
import { MANIFEST, type Manifest } from '../infra/cli/backup.js';
import { Client, type Trader } from './http/client.js';
import { cleanEnv, distDir, runNode, tempDir, type TempDir } from './support/process.js';
import { pollUntil, startRoleProcess, type RoleProcess } from './support/role-process.js';

const cliScript = join(distDir, 'infra', 'cli', 'main.js');
const BROKER = { BROKER_EMAIL: 'broker@backup.test', BROKER_PASSWORD: 'broker-secret' };

interface Acked {
  userId: string;
  cents: number;
}

/** Every collection's documents (id, fields, guard) and every checkpoint of a read.db. */
function readModels(dataDir: string): Record<string, unknown[]> {
  const db = new Database(join(dataDir, 'read.db'), { fileMustExist: true });
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((t) => t.name);
    const dump: Record<string, unknown[]> = {};
    for (const table of tables) {
      const columns = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all();
      if (columns.some((c) => c.name === 'guard')) {
        dump[table] = db.prepare(`SELECT id, doc, guard FROM "${table}" ORDER BY id`).all();
      }
    }
    dump.checkpoints = db.prepare('SELECT name, position FROM read_checkpoints ORDER BY name').all();
    return dump;
  } finally {
    db.close();
  }
}

/** `userId:cents` of every deposit in an events.db. */
function depositsIn(dataDir: string): Set<string> {
  const db = new Database(join(dataDir, 'events.db'), { fileMustExist: true });
  try {
    const rows = db.prepare<[], { data: string }>("SELECT data FROM events WHERE type = 'MoneyDeposited'").all();
    return new Set(
      rows.map((r) => {
        const data = JSON.parse(r.data) as { userId: string; amount: number };
        return `${data.userId}:${data.amount}`;
      }),
    );
  } finally {
    db.close();
  }
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

function expectPrivate(dir: string): void {
  expect(modeOf(dir), dir).to.equal(0o700);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) expectPrivate(path);
    else expect(modeOf(path), path).to.equal(0o600);
  }
}

describe('backup and restore of the embedded stores', function () {
  this.timeout(180_000);
  let dir: TempDir;
  let server: RoleProcess | undefined;
  const at = (name: string) => join(dir.path, name);
  const cli = (dataDir: string, args: string[], env: Record<string, string> = {}) =>
    runNode(cliScript, args, cleanEnv({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'normal', ...env }), 60_000);

  beforeEach(() => {
    dir = tempDir('market-backup-');
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    dir.remove();
  });

  /** Deposits from `traders` one after another each, until `stop()`; what was acknowledged. */
  function depositsUnderLoad(api: Client, traders: Trader[]) {
    const acked: Acked[] = [];
    let running = true;
    const workers = traders.map(async (trader) => {
      for (let i = 1; running; i++) {
        const cents = 100 + i;
        const answer = await api.deposit(trader.token, cents / 100, { 'idempotency-key': randomUUID() });
        expect(answer.status, answer.text).to.equal(204);
        acked.push({ userId: trader.id, cents });
      }
    });
    return {
      acked,
      async stop() {
        running = false;
        await Promise.all(workers);
      },
    };
  }

  it('copies while deposits go on; the restore holds every acknowledged one and read models that catch up to a rebuild', async () => {
    server = await startRoleProcess({ ROLE: 'all', DATA_DIR: at('live'), ...BROKER });
    const api = new Client(server.baseUrl);
    const traders = await Promise.all([1, 2, 3, 4].map(() => api.newTrader()));
    const load = depositsUnderLoad(api, traders);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const ackedBefore = [...load.acked];
    const backup = await cli(at('live'), ['backup', at('backup')]);
    const ackedDuring = load.acked.length - ackedBefore.length;
    await load.stop();
    await server.stop();
    server = undefined;
    expect(backup.code, backup.stderr).to.equal(0);
    expect(ackedBefore.length, 'deposits acknowledged before the backup').to.be.greaterThan(10);
    expect(ackedDuring, 'deposits acknowledged while the backup ran').to.be.greaterThan(0);

    // The backup: private, complete, its read models never ahead of its events.
    expectPrivate(at('backup'));
    const manifest = JSON.parse(readFileSync(join(at('backup'), MANIFEST), 'utf8')) as Manifest;
    expect(manifest.files.map((f) => f.name)).to.include.members([
      'read.db',
      'idempotency.db',
      'events.db',
      'personal-keys.db',
      'email-claim.secret',
      'jwt-signing-key.json',
    ]);
    for (const checkpoint of readModels(at('backup')).checkpoints as Array<{ position: string }>)
      expect(parseSortablePosition(checkpoint.position).commit <= BigInt(manifest.eventsUpTo)).to.equal(true);

    const restored = await cli(at('restored'), ['restore', at('backup')]);
    expect(restored.code, restored.stderr).to.equal(0);
    expectPrivate(at('restored'));
    const deposits = depositsIn(at('restored'));
    const missing = ackedBefore.filter((a) => !deposits.has(`${a.userId}:${a.cents}`));
    expect(missing, 'acknowledged deposits missing from the restored events').to.deep.equal([]);

    // A server on the restored directory catches up; its read models then equal a rebuild's.
    server = await startRoleProcess({ ROLE: 'all', DATA_DIR: at('restored'), READY_MAX_LAG_EVENTS: '0', ...BROKER });
    const ready = await pollUntil(`${server.baseUrl}/ready`, (status) => status === 200, 60_000);
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
    const account = await new Client(server.baseUrl).account(traders[0]!.token);
    expect(account.status, 'a token issued before the backup is still valid after the restore').to.equal(200);
    await server.stop();
    server = undefined;
    const caughtUp = readModels(at('restored'));
    const rebuilt = await cli(at('restored'), ['projections', 'rebuild', '--all']);
    expect(rebuilt.code, rebuilt.stderr).to.equal(0);
    expect(caughtUp).to.deep.equal(readModels(at('restored')));
  });

  describe('refuses', () => {
    /** A backup of a data directory the CLI made (empty stores and a signing key): no server needed to refuse. */
    async function aBackup(): Promise<string> {
      const made = await cli(at('live'), ['projections', 'status']);
      expect(made.code, made.stderr).to.equal(0);
      const backup = await cli(at('live'), ['backup', at('backup')]);
      expect(backup.code, backup.stderr).to.equal(0);
      return at('backup');
    }

    it('to restore into a DATA_DIR that holds anything, or from a damaged backup; restores into an empty one', async () => {
      const backup = await aBackup();
      mkdirSync(at('occupied'));
      writeFileSync(join(at('occupied'), 'notes.txt'), 'mine');
      const occupied = await cli(at('occupied'), ['restore', backup]);
      expect(occupied.code).to.equal(1);
      expect(occupied.stderr).to.include('is not empty');
      expect(readdirSync(at('occupied'))).to.deep.equal(['notes.txt']);

      cpSync(backup, at('damaged'), { recursive: true });
      const events = join(at('damaged'), 'events.db');
      const bytes = readFileSync(events);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
      writeFileSync(events, bytes);
      const damaged = await cli(at('fresh'), ['restore', at('damaged')]);
      expect(damaged.code).to.equal(1);
      expect(damaged.stderr).to.include('not the file backed up');
      expect(existsSync(at('fresh'))).to.equal(false);

      mkdirSync(at('empty'), { mode: 0o755 });
      const intoEmpty = await cli(at('empty'), ['restore', backup]);
      expect(intoEmpty.code, intoEmpty.stderr).to.equal(0);
      expectPrivate(at('empty'));
    });

    it('to back up into a directory that holds anything, or stores that are not embedded', async () => {
      const backup = await aBackup();
      const again = await cli(at('live'), ['backup', backup]);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.include('is not empty');
      const mongo = await cli(at('live'), ['backup', at('other')], {
        READ_STORE: 'mongo',
        MONGODB_URI: 'mongodb://127.0.0.1:9',
      });
      expect(mongo.code).to.equal(1);
      expect(mongo.stderr).to.include('their own tools');
    });
  });
});
