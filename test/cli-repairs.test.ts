/**
 * The operator's repairs and audit (`parked list|retry|skip`, `check`), run as a child
 * process against an embedded DATA_DIR the way an operator runs them. The store is seeded
 * with events written as a server would, and the parked events with what a runner records.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { EventToAppend, RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';
import { cleanEnv, distDir, runNode, tempDir, type Finished, type TempDir } from './support/process.js';

const cliScript = join(distDir, 'infra', 'cli', 'main.js');
const EX_USAGE = 64;
const at = '2026-11-21T10:00:00.000Z';

function cli(dataDir: string, args: string[]): Promise<Finished> {
  return runNode(cliScript, args, cleanEnv({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'normal' }), 30_000);
}

const event = (type: string, data: Record<string, unknown>): EventToAppend => ({
  id: randomUUID(),
  type,
  data: data as EventToAppend['data'],
});

/** A registered user, and a deal opened (the item listed, nobody paid yet). */
function history(dealId: string) {
  const user = event('UserRegistered', {
    userId: 'u-1',
    email: 'u1@example.com',
    passwordHash: 'scrypt$x',
    role: 'trader',
    at,
    firstName: 'U',
    lastName: 'One',
    phone: null,
  });
  const listed = event('ItemListed', {
    itemId: 'item-1',
    name: 'Lamp',
    initialCount: 1,
    initialPrice: 10_000,
    commissionBasisPoints: 1000,
    brokerId: 'broker',
    at,
  });
  const opened = event('DealOpened', {
    dealId,
    itemId: 'item-1',
    itemName: 'Lamp',
    purchaseOrderId: 'po-1',
    sellOrderId: 'item-1-u1',
    buyerId: 'u-1',
    sellerId: 'broker',
    brokerId: 'broker',
    price: 10_000,
    buyerCommission: 1000,
    sellerCommission: 0,
    at,
  });
  return { user, listed, opened };
}

async function seed(dir: string, streams: Array<[string, EventToAppend[]]>): Promise<RecordedEvent[]> {
  const store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal' });
  try {
    for (const [stream, events] of streams) await store.appendToStream(stream, events);
    return await store.readAll({ maxCount: 1000 });
  } finally {
    await store.close();
  }
}

async function park(dir: string, projection: string, recorded: RecordedEvent): Promise<void> {
  const readStore = await openSqliteReadStore({ file: join(dir, 'read.db') });
  try {
    await readStore.park({
      projection,
      eventId: recorded.id,
      eventType: recorded.type,
      streamId: recorded.streamId,
      position: recorded.position,
      error: 'the step failed for a business reason',
      attempts: 5,
      parkedAt: new Date(at),
    });
  } finally {
    await readStore.close();
  }
}

async function storedEvents(dir: string): Promise<RecordedEvent[]> {
  const store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal' });
  try {
    return await store.readAll({ maxCount: 1000 });
  } finally {
    await store.close();
  }
}

describe('operator CLI: parked events and the consistency check', function () {
  this.timeout(120_000);
  let dir: TempDir;
  const dealId = randomUUID();
  let recorded: RecordedEvent[];
  const byType = (type: string) => recorded.find((e) => e.type === type)!;

  before(async () => {
    dir = tempDir('market-cli-repairs-');
    const { user, listed, opened } = history(dealId);
    recorded = await seed(dir.path, [
      ['user-u-1', [user]],
      ['market-item-1', [listed, opened]],
    ]);
    await park(dir.path, 'account-opening', byType('UserRegistered'));
    await park(dir.path, 'deal-settlement', byType('DealOpened'));
    await park(dir.path, 'identity', byType('UserRegistered'));
  });
  after(() => dir.remove());

  it('`parked list` shows every parked event with its id and, for a process manager, the deal it holds up', async () => {
    const { code, stdout, stderr } = await cli(dir.path, ['parked', 'list']);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.include(`account-opening/${byType('UserRegistered').id}`);
    expect(stdout).to.include(`deal-settlement/${byType('DealOpened').id}`);
    expect(stdout).to.include(`stuck: deal-settlement ${dealId}`);
    expect(stdout).to.include(`identity/${byType('UserRegistered').id}`);
    const one = await cli(dir.path, ['parked', 'list', 'identity']);
    expect(one.stdout).to.include('identity/').and.not.include('deal-settlement/');
  });

  it('`check` finds the deal neither completed nor failed and exits 2', async () => {
    const { code, stdout } = await cli(dir.path, ['check', '--grace-seconds', '0']);
    expect(code, stdout).to.equal(2);
    expect(stdout).to.include(`deal ${dealId} opened ${at}, neither completed nor failed`);
    expect(stdout).to.match(/^ok {7} money: /m);
    expect(stdout).to.include('INCONSISTENT: deals');
  });

  it('`parked retry <id>` handles a process manager’s event again and unparks it; a projection’s is rebuilt', async () => {
    const { code, stdout, stderr } = await cli(dir.path, ['parked', 'retry', byType('UserRegistered').id]);
    expect(code, stdout + stderr).to.equal(0);
    expect(stdout).to.include(`account-opening/${byType('UserRegistered').id}: handled, unparked`);
    expect(stdout).to.include('identity: rebuilt to retry its parked events; 0 parked again');
    const opened = (await storedEvents(dir.path)).filter((e) => e.type === 'AccountOpened');
    expect(opened.map((e) => e.streamId)).to.deep.equal(['account-u-1']);
    const list = await cli(dir.path, ['parked', 'list']);
    expect(list.stdout).to.not.include('account-opening/').and.not.include('identity/');
  });

  it('`parked skip` needs a reason, and refuses an unknown id', async () => {
    const noReason = await cli(dir.path, ['parked', 'skip', byType('DealOpened').id]);
    expect(noReason.code).to.equal(EX_USAGE);
    expect(noReason.stderr).to.include('--reason');
    const unknown = await cli(dir.path, ['parked', 'retry', 'nope']);
    expect(unknown.code).to.equal(EX_USAGE);
    expect(unknown.stderr).to.include('no parked event "nope"');
  });

  it('`parked skip <id> --reason` keeps the reason as an event; `check` then lists the deal as left open on purpose', async () => {
    const id = `deal-settlement/${byType('DealOpened').id}`;
    const { code, stdout, stderr } = await cli(dir.path, ['parked', 'skip', id, '--reason', 'refunded by hand']);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.include(`${id}: skipped: refunded by hand`);
    const skipped = (await storedEvents(dir.path)).filter((e) => e.type === 'ParkedEventSkipped');
    expect(skipped.map((e) => [e.streamId, e.data.eventId, e.data.reason])).to.deep.equal([
      ['repairs-deal-settlement', byType('DealOpened').id, 'refunded by hand'],
    ]);
    expect((await cli(dir.path, ['parked', 'list'])).stdout.trim()).to.equal('no parked events');
    const check = await cli(dir.path, ['check', '--grace-seconds', '0']);
    expect(check.code, check.stdout).to.equal(0);
    expect(check.stdout).to.include(`deal ${dealId} left open: an operator skipped its event (refunded by hand)`);
    expect(check.stdout.trim().split('\n').at(-1)).to.equal('consistent');
  });

  it('`check` finds money that does not add up (a balance its amounts do not explain)', async () => {
    const bad = tempDir('market-cli-check-');
    try {
      await seed(bad.path, [
        [
          'account-u-2',
          [
            event('AccountOpened', { accountId: 'a-2', userId: 'u-2', at }),
            event('MoneyDeposited', {
              accountId: 'a-2',
              userId: 'u-2',
              operationId: 'd1',
              amount: 100,
              balance: 100,
              at,
            }),
            event('MoneyDeposited', {
              accountId: 'a-2',
              userId: 'u-2',
              operationId: 'd2',
              amount: 100,
              balance: 900,
              at,
            }),
          ],
        ],
      ]);
      const { code, stdout } = await cli(bad.path, ['check']);
      expect(code, stdout).to.equal(2);
      expect(stdout).to.include('VIOLATED  money');
      expect(stdout).to.include('account a-2: MoneyDeposited of 100 leaves 200 by its amounts, the event says 900');
    } finally {
      bad.remove();
    }
  });

  it('`check` takes only --grace-seconds', async () => {
    const { code, stderr } = await cli(dir.path, ['check', '--grace-seconds', 'soon']);
    expect(code).to.equal(EX_USAGE);
    expect(stderr).to.include('check takes only --grace-seconds');
  });
});
