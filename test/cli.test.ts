/**
 * The operator's CLI (`dist/infra/cli/main.js`) run as a child process against an embedded
 * DATA_DIR, the way an operator runs it.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationTable } from '../infra/config/config.js';
import { formatPosition, type Position } from '../infra/eventsourcing/event-store/position.js';
import type { EventToAppend } from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import type { Doc } from '../infra/eventsourcing/read-store/read-store.js';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';
import { billingProjection } from '../projections/billing.js';
import { projections } from '../projections/index.js';
import { cleanEnv, distDir, runNode, tempDir, type Finished, type TempDir } from './support/process.js';

const cliScript = join(distDir, 'infra', 'cli', 'main.js');
const EX_USAGE = 64;

function cli(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return runNode(cliScript, args, cleanEnv({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'normal', ...env }));
}

function expectUsage(output: string): void {
  expect(output).to.include('usage: npm run cli -- <command>');
  expect(output).to.include('projections status');
  expect(output).to.include('projections rebuild <name>');
  expect(output).to.include('projections rebuild --all');
  expect(output).to.include(`projections: ${projections.map((h) => h.name).join(', ')}`);
}

/** What one seeded account should look like in the billing projection's `accounts` view. */
interface Expected {
  amount: number;
  revision: number;
}

/**
 * Appends `streams` billing accounts of `perStream` events each (one append per stream) to
 * the embedded store in `dataDir`: the account opened, then deposits of 1.00.
 */
async function seed(dataDir: string, streams: number, perStream: number, userPrefix = 'seeded-') {
  const store = openSqliteEventStore({ file: join(dataDir, 'events.db'), durability: 'normal' });
  const expected = new Map<string, Expected>();
  let head: Position | null = null;
  const at = '2026-11-21T10:00:00.000Z';
  try {
    for (let s = 0; s < streams; s++) {
      const userId = `${userPrefix}${s}`;
      const accountId = randomUUID();
      const events = Array.from(
        { length: perStream },
        (_, i): EventToAppend =>
          i === 0
            ? { id: randomUUID(), type: 'AccountOpened', data: { accountId, userId, at } }
            : {
                id: randomUUID(),
                type: 'MoneyDeposited',
                data: { accountId, userId, operationId: randomUUID(), amount: 100, balance: 100 * i, at },
              },
      );
      expected.set(userId, { amount: 100 * (perStream - 1), revision: perStream - 1 });
      head = (await store.appendToStream(`account-${userId}`, events)).position;
    }
  } finally {
    await store.close();
  }
  return { expected, head: head!, total: streams * perStream };
}

interface StatusRow {
  name: string;
  checkpoint: string;
  lag: string;
  parked: string;
  runBy: string;
}

/** Parses `projections status`'s table (columns are separated by two or more spaces). */
function parseStatus(stdout: string): StatusRow[] {
  const [header, ...lines] = stdout.trimEnd().split('\n');
  expect(header).to.match(/^PROJECTION\s+CHECKPOINT\s+LAG \(events\)\s+PARKED\s+RUN BY$/);
  return lines
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [name, checkpoint, lag, parked, runBy] = line.split(/\s{2,}/) as [string, string, string, string, string];
      return { name, checkpoint, lag, parked, runBy };
    });
}

async function status(dataDir: string): Promise<StatusRow> {
  const result = await cli(dataDir, ['projections', 'status']);
  expect(result.code, result.stderr).to.equal(0);
  const rows = parseStatus(result.stdout);
  expect(rows.map((r) => r.name)).to.deep.equal([
    ...projections.map((h) => h.name),
    'account-opening',
    'deal-settlement',
    'order-placement',
    'order-payment',
    'blocked-user-orders',
    'personal-data-erasure',
  ]);
  return rows.find((r) => r.name === billingProjection.name)!;
}

/** The billing projection's `accounts` documents of `userIds`, read straight from read.db. */
async function accountsView(dataDir: string, userIds: string[]): Promise<Map<string, Doc | null>> {
  const readStore = openSqliteReadStore({ file: join(dataDir, 'read.db') });
  try {
    await readStore.ensureCollections(billingProjection.collections);
    const docs = new Map<string, Doc | null>();
    for (const userId of userIds) docs.set(userId, await readStore.get('accounts', userId));
    return docs;
  } finally {
    await readStore.close();
  }
}

async function expectAccounts(dataDir: string, expected: Map<string, Expected>): Promise<void> {
  const docs = await accountsView(dataDir, [...expected.keys(), 'never-seeded']);
  for (const [userId, { amount, revision }] of expected) {
    expect(docs.get(userId), userId).to.deep.include({ id: userId, userId, amount, revision });
  }
  expect(docs.get('never-seeded')).to.equal(null);
}

describe('operator CLI (dist/infra/cli/main.js)', function () {
  this.timeout(20_000);
  let dir: TempDir;

  beforeEach(() => {
    dir = tempDir('market-cli-');
  });
  afterEach(() => dir.remove());

  describe('usage', () => {
    it('`help`, `--help`, `-h` and no command print the usage on stdout and exit 0', async () => {
      const variants = [['help'], ['--help'], ['-h'], []];
      const results = await Promise.all(variants.map((args) => cli(dir.path, args)));
      results.forEach((result, i) => {
        expect(result.code, variants[i]!.join(' ')).to.equal(0);
        expectUsage(result.stdout);
        expect(result.stderr).to.equal('');
      });
    });

    it('prints the usage even when the configuration is wrong (help reads no configuration)', async () => {
      const result = await cli(dir.path, ['help'], { EVENT_STORE: 'foo' });
      expect(result.code).to.equal(0);
      expectUsage(result.stdout);
    });

    it('exits 64 on an unknown command, naming it and printing the usage on stderr', async () => {
      const results = await Promise.all([cli(dir.path, ['frobnicate']), cli(dir.path, ['projections', 'explode'])]);
      const [unknownGroup, unknownCommand] = results as [Finished, Finished];
      expect(unknownGroup.code).to.equal(EX_USAGE);
      expect(unknownGroup.stderr).to.include('unknown command "frobnicate"');
      expectUsage(unknownGroup.stderr);
      expect(unknownGroup.stdout).to.equal('');
      expect(unknownCommand.code).to.equal(EX_USAGE);
      expect(unknownCommand.stderr).to.include('unknown command "projections explode"');
    });

    it('exits 64 on `projections rebuild nope`, naming the known projections', async () => {
      const result = await cli(dir.path, ['projections', 'rebuild', 'nope']);
      expect(result.code).to.equal(EX_USAGE);
      expect(result.stderr).to.include(
        `unknown projection "nope"; known: ${projections.map((h) => h.name).join(', ')}`,
      );
      expectUsage(result.stderr);
    });

    it('exits 64 when `projections rebuild` gets no name or more than one', async () => {
      const results = await Promise.all([
        cli(dir.path, ['projections', 'rebuild']),
        cli(dir.path, ['projections', 'rebuild', 'billing', '--all']),
      ]);
      for (const result of results) {
        expect(result.code).to.equal(EX_USAGE);
        expect(result.stderr).to.include('projections rebuild takes one projection name or --all');
      }
    });

    it('`config` prints the configuration table (the one in README.md)', async () => {
      const result = await cli(dir.path, ['config']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout.trimEnd()).to.equal(configurationTable());
    });
  });

  describe('failures', () => {
    it('exits 1 on a wrong setting with "configuration error: EVENT_STORE=…" naming what is allowed', async () => {
      const result = await cli(dir.path, ['projections', 'status'], { EVENT_STORE: 'foo' });
      expect(result.code).to.equal(1);
      expect(result.stderr.trim()).to.equal(
        'configuration error: EVENT_STORE="foo" is not valid: expected one of embedded, esdb',
      );
      expect(result.stdout).to.equal('');
    });

    it('exits 1 when EVENT_STORE=esdb has no connection string', async () => {
      const result = await cli(dir.path, ['projections', 'status'], { EVENT_STORE: 'esdb' });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.include(
        'configuration error: EVENTSTORE_CONNECTION_STRING is required when EVENT_STORE=esdb',
      );
    });

    it('exits 1 with a configuration error naming DATA_DIR when it cannot be used', async () => {
      const notADirectory = join(dir.path, 'a-file');
      writeFileSync(notADirectory, 'not a directory');
      const result = await cli(notADirectory, ['projections', 'status']);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.include(`configuration error: DATA_DIR (${notADirectory}) is not a directory`);
    });
  });

  describe('projections on an empty store', () => {
    it('status shows no checkpoint and no lag', async () => {
      expect(await status(dir.path)).to.deep.equal({
        name: billingProjection.name,
        checkpoint: 'none',
        lag: '0',
        parked: '0',
        runBy: 'nobody',
      });
    });

    it('rebuild --all succeeds with 0 events', async () => {
      const result = await cli(dir.path, ['projections', 'rebuild', '--all']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.match(/billing: done, 0 events in \d+\.\d s/);
    });
  });

  describe('projections on a seeded store (steps run in order)', () => {
    // One DATA_DIR for the whole sequence: seed, status, rebuild, status, view, more events.
    let seeded: TempDir;
    let seededData: Awaited<ReturnType<typeof seed>>;

    before(async () => {
      seeded = tempDir('market-cli-seeded-');
      seededData = await seed(seeded.path, 40, 9); // 360 events in 40 accounts
    });
    after(() => seeded.remove());

    it('status before any run: no checkpoint, lag = every event appended', async () => {
      expect(seededData.total).to.equal(360);
      expect(await status(seeded.path)).to.deep.equal({
        name: billingProjection.name,
        checkpoint: 'none',
        lag: '360',
        parked: '0',
        runBy: 'nobody',
      });
    });

    it('rebuild --all exits 0 and reports plain progress lines ending in "done, 360 events"', async () => {
      const result = await cli(seeded.path, ['projections', 'rebuild', '--all']);
      expect(result.code, result.stderr).to.equal(0);
      // Not a terminal: no carriage returns or escape sequences, one line per write.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts every terminal escape sequence; that none is written is what this checks.
      expect(result.stderr).to.not.match(/[\r\u001b]/);
      // Every projection is rebuilt in turn; billing is the one that reads these events.
      const lines = result.stderr
        .trimEnd()
        .split('\n')
        .filter((line) => line.startsWith('billing'));
      expect(lines.length, 'at least one progress line before the summary').to.be.at.least(2);
      expect(lines.at(-1)).to.match(/^billing: done, 360 events in \d+\.\d s \([\d,]+ events\/s\)$/);
      for (const line of lines.slice(0, -1))
        expect(line).to.match(/^billing \[[#.]{30}\] +\d+\.\d% [\d,]+ events [\d,]+ events\/s ETA (\d+:)?\d+:\d\d$/);
      for (const name of projections.map((p) => p.name))
        expect(result.stderr).to.match(new RegExp(`^${name}: done, `, 'm'));
    });

    it('status after the rebuild: checkpoint at the last position, no lag, nobody holding the lease', async () => {
      expect(await status(seeded.path)).to.deep.equal({
        name: billingProjection.name,
        checkpoint: formatPosition(seededData.head),
        lag: '0',
        parked: '0',
        runBy: 'nobody',
      });
    });

    it('the billing view holds every seeded account with its balance and revision', async () => {
      expect(seededData.expected.size).to.equal(40);
      await expectAccounts(seeded.path, seededData.expected);
    });

    it('rebuilding one projection by name again gives the same counts (replay, not double counting)', async () => {
      const result = await cli(seeded.path, ['projections', 'rebuild', billingProjection.name]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.match(/billing: done, 360 events in/);
      await expectAccounts(seeded.path, seededData.expected);
    });

    it('status counts only the events appended after the checkpoint as lag', async () => {
      const more = await seed(seeded.path, 5, 5, 'late-');
      expect(await status(seeded.path)).to.deep.include({
        checkpoint: formatPosition(seededData.head),
        lag: String(more.total),
      });
    });
  });
});
