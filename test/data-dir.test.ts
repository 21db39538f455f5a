/**
 * The data directory is private to the account the server runs as: created 0700, every
 * file of the embedded stores (their `-wal` and `-shm` too) and the generated signing key
 * 0600, even under a lax umask; files an earlier build left open are closed down at start;
 * a directory or a key file others can open is reported in the log.
 */
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { depositMoney, openAccount } from '../command-handlers/billing.js';
import { loadSigningKeys } from '../infra/auth/keys.js';
import { loadConfig } from '../infra/config/config.js';
import { ConfigError } from '../infra/config/settings.js';
import { prepareDataDir } from '../infra/composition-root/data-dir.js';
import { openSystem } from '../infra/composition-root/system.js';
import { capturedLogger, flushed, type Line } from './support/captured-log.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** A throwaway parent directory; the data directory inside it does not exist yet. */
function scratch(): { parent: string; dataDir: string; remove(): void } {
  const parent = mkdtempSync(join(tmpdir(), 'market-datadir-'));
  return {
    parent,
    dataDir: join(parent, 'data', 'nested'),
    remove: () => rmSync(parent, { recursive: true, force: true }),
  };
}

/** Opens a whole embedded system on `dataDir`, runs a few commands (so WAL files exist), calls `whileOpen`, closes it. */
async function runOnce(
  dataDir: string,
  logger = capturedLogger().logger,
  whileOpen: () => void = () => undefined,
): Promise<void> {
  const system = await openSystem(
    loadConfig({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'normal', PROJECTION_THREAD: 'main' }),
    logger,
  );
  try {
    system.startProjections();
    await openAccount(system.services, 'u1');
    await depositMoney(system.services, { userId: 'u1', amount: 100, operationId: 'op-1' });
    await system.services.idempotency.keep('u1', 'key-1', {
      fingerprint: 'f',
      status: 204,
      body: null,
      headers: {},
      at: Date.now(),
    });
    whileOpen();
  } finally {
    await system.close();
  }
}

describe('the data directory is private', function () {
  this.timeout(30_000);
  if (process.platform === 'win32') return;
  let dir: ReturnType<typeof scratch>;
  let savedUmask: number;

  beforeEach(() => {
    dir = scratch();
    // As lax as a umask gets: what the server creates must be private regardless.
    savedUmask = process.umask(0o000);
  });
  afterEach(() => {
    process.umask(savedUmask);
    dir.remove();
  });

  it('creates DATA_DIR 0700 and every file in it 0600: the databases, their WAL and shared-memory files, the signing key', async () => {
    const seen: string[] = [];
    // While it runs, the WAL and shared-memory files are there (closing folds them back).
    await runOnce(dir.dataDir, undefined, () => {
      for (const file of readdirSync(dir.dataDir)) {
        seen.push(file);
        expect(modeOf(join(dir.dataDir, file)).toString(8), file).to.equal('600');
      }
    });
    expect(modeOf(dir.dataDir).toString(8)).to.equal('700');
    for (const name of ['events.db', 'read.db', 'idempotency.db']) {
      expect(seen).to.include(name);
      expect(seen).to.include(`${name}-wal`);
      expect(seen).to.include(`${name}-shm`);
    }
    expect(seen).to.include('jwt-signing-key.json');
    for (const file of readdirSync(dir.dataDir))
      expect(modeOf(join(dir.dataDir, file)).toString(8), file).to.equal('600');
  });

  it('makes the files an earlier build left open private at the next start, saying so; a second start says nothing', async () => {
    await runOnce(dir.dataDir);
    const files = readdirSync(dir.dataDir);
    for (const file of files) chmodSync(join(dir.dataDir, file), 0o644);
    const first = capturedLogger();
    await runOnce(dir.dataDir, first.logger);
    for (const file of readdirSync(dir.dataDir))
      expect(modeOf(join(dir.dataDir, file)).toString(8), file).to.equal('600');
    await flushed();
    const told = first.lines.filter((l) => String(l.msg).startsWith('made '));
    expect(told.map((l) => l.file).sort()).to.deep.equal(files.map((f) => join(dir.dataDir, f)).sort());
    expect(told[0]).to.include({ level: 30, was: '0644', mode: '0600' });

    const second = capturedLogger();
    await runOnce(dir.dataDir, second.logger);
    await flushed();
    expect(second.lines.filter((l) => String(l.msg).startsWith('made ') || l.level === 40)).to.deep.equal([]);
  });

  it('warns about an existing DATA_DIR others can enter, and leaves it as the operator made it', async () => {
    mkdirSync(dir.dataDir, { recursive: true, mode: 0o755 });
    const log = capturedLogger();
    prepareDataDir({ dataDir: dir.dataDir, eventStore: 'embedded', readStore: 'embedded' }, log.logger);
    await flushed();
    const warnings = log.lines.filter((l: Line) => l.level === 40);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include({ dataDir: dir.dataDir, mode: '0755' });
    expect(String(warnings[0]!.msg)).to.match(/^DATA_DIR \(.+\) is open to users other than its owner \(mode 0755\)/);
    expect(modeOf(dir.dataDir).toString(8)).to.equal('755');
    // Its files are ours: private all the same.
    for (const file of readdirSync(dir.dataDir))
      expect(modeOf(join(dir.dataDir, file)).toString(8), file).to.equal('600');
  });

  it('creates nothing for stores kept elsewhere, and refuses a DATA_DIR that is a file, naming it', () => {
    const log = capturedLogger();
    prepareDataDir({ dataDir: dir.dataDir, eventStore: 'esdb', readStore: 'mongo' }, log.logger);
    expect(() => statSync(dir.dataDir)).to.throw();
    const file = join(dir.parent, 'a-file');
    writeFileSync(file, '');
    expect(() => prepareDataDir({ dataDir: file, eventStore: 'embedded', readStore: 'embedded' }, log.logger))
      .to.throw(ConfigError)
      .with.property('message', `DATA_DIR (${file}) is not a directory`);
  });

  describe('signing key files', () => {
    it('warns about a JWT_KEY_FILE others can read (and still uses it)', async () => {
      // A key generated into one directory, then handed over as a JWK file readable by all.
      const kept = join(dir.parent, 'kept');
      const keys = await loadSigningKeys({ dataDir: kept });
      const jwkFile = join(dir.parent, 'key.json');
      writeFileSync(jwkFile, readFileSync(join(kept, 'jwt-signing-key.json'), 'utf8'), { mode: 0o644 });
      chmodSync(jwkFile, 0o644);
      const warnings: string[] = [];
      const loaded = await loadSigningKeys({ dataDir: dir.dataDir, jwkFile, warn: (m) => warnings.push(m) });
      expect(loaded.kid).to.equal(keys.kid);
      expect(warnings).to.deep.equal([
        `JWT_KEY_FILE (${jwkFile}) is open to users other than its owner (mode 0644): it holds the private key access tokens are signed with; chmod 600 it`,
      ]);
      chmodSync(jwkFile, 0o600);
      warnings.length = 0;
      await loadSigningKeys({ dataDir: dir.dataDir, jwkFile, warn: (m) => warnings.push(m) });
      expect(warnings).to.deep.equal([]);
    });

    it('warns about a kept key others can read when it cannot be made private first', async () => {
      await loadSigningKeys({ dataDir: dir.dataDir });
      const key = join(dir.dataDir, 'jwt-signing-key.json');
      expect(modeOf(key).toString(8)).to.equal('600');
      chmodSync(key, 0o640);
      const warnings: string[] = [];
      await loadSigningKeys({ dataDir: dir.dataDir, warn: (m) => warnings.push(m) });
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/^the kept signing key \(.+\) is open to users other than its owner \(mode 0640\)/);
    });
  });
});
