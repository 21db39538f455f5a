import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import {
  EventStoreUnavailable,
  type EventStore,
  type RecordedEvent,
} from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';
import type { LeaseStore } from '../infra/eventsourcing/subscriptions/leases.js';
import { ProjectionRunner, type RunnerLog, type RunnerOptions } from '../infra/eventsourcing/subscriptions/runner.js';
import { openSqliteLeases } from '../infra/sqlite/sqlite-leases.js';

const quiet: RunnerLog = { info() {}, warn() {}, error() {} };

/** Counts deposits per account by reading its document and writing the new total (read-modify-write). */
function depositCounter(overrides: Partial<EventHandler> = {}): EventHandler {
  return {
    name: 'deposit-counter',
    filter: { eventTypePrefixes: ['Deposited'] },
    collections: [{ name: 'deposit_totals', indexes: [] }],
    async handle(event, view) {
      const account = String(event.data.account);
      const current = await view.get('deposit_totals', account);
      const count = ((current?.count as number | undefined) ?? 0) + 1;
      const total = ((current?.total as number | undefined) ?? 0) + Number(event.data.amount);
      return [{ op: 'upsert', collection: 'deposit_totals', id: account, set: { count, total } }];
    },
    ...overrides,
  };
}

/** A process manager of deposits, partitioned by account, that writes no read model: `react` is its step. */
function depositReactor(react: (event: RecordedEvent) => Promise<void> | void): EventHandler {
  return {
    name: 'reactor',
    kind: 'process-manager',
    filter: { eventTypePrefixes: ['Deposited'] },
    collections: [],
    partitionKey: (event) => String(event.data.account),
    async handle(event) {
      await react(event);
      return [];
    },
  };
}

/** A process manager of deposits that records the redelivery floor it is handed with each event; `fail` makes an event fail for good. */
function floorRecorder(
  name: string,
  floors: Array<[amount: number, floor: number]>,
  fail: (amount: number) => boolean = () => false,
): EventHandler {
  return {
    name,
    kind: 'process-manager',
    filter: { eventTypePrefixes: ['Deposited'] },
    collections: [],
    partitionKey: (event) => String(event.data.account),
    handle(event, _view, context) {
      const amount = Number(event.data.amount);
      floors.push([amount, context.redeliveryFloor]);
      if (fail(amount)) throw new Error(`amount ${amount} cannot be handled`);
      return [];
    },
  };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('projection runner', function () {
  this.timeout(30_000);
  let dir: string;
  let eventStore: EventStore;
  let readStore: ReadStore;
  let leases: LeaseStore;
  let runners: ProjectionRunner[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-runner-'));
    eventStore = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal', idleCheckMs: 20 });
    readStore = openSqliteReadStore({ file: join(dir, 'read.db') });
    leases = openSqliteLeases(join(dir, 'read.db'));
    runners = [];
  });

  afterEach(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await leases.close();
    await readStore.close();
    await eventStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function runner(handler: EventHandler, options: Partial<RunnerOptions> = {}): ProjectionRunner {
    const r = new ProjectionRunner(handler, {
      eventStore,
      readStore,
      leases,
      owner: `test-${runners.length}`,
      log: quiet,
      batchSize: 50,
      ...options,
    });
    runners.push(r);
    return r;
  }

  async function deposit(account: string, amount: number) {
    return eventStore.appendToStream(`account-${account}`, [
      { id: uuid(), type: 'Deposited', data: { account, amount } },
    ]);
  }

  async function totals(account: string) {
    return readStore.get('deposit_totals', account);
  }

  it('applies every event once, in batches, and reports read-your-writes positions', async () => {
    for (let i = 0; i < 120; i++) await deposit(i % 2 ? 'a' : 'b', 10);
    const r = runner(depositCounter());
    r.start();
    const last = await deposit('a', 5);
    await r.waitFor(last.position);
    expect(await totals('a')).to.deep.include({ count: 61, total: 605 });
    expect(await totals('b')).to.deep.include({ count: 60, total: 600 });
    expect((await readStore.getCheckpoint('deposit-counter')).position).to.deep.equal(last.position);
    await until(() => r.status().state === 'live', 'live');
  });

  it('resumes from its checkpoint after a restart without counting anything twice', async () => {
    const first = runner(depositCounter());
    first.start();
    await first.waitFor((await deposit('a', 1)).position);
    await first.stop();
    await deposit('a', 2);
    await deposit('a', 3);
    const second = runner(depositCounter());
    second.start();
    await second.waitFor((await deposit('a', 4)).position);
    expect(await totals('a')).to.deep.include({ count: 4, total: 10 });
  });

  it('runs a process manager’s partitions past a slow one, and moves its position only past what is handled', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    const r = runner(
      depositReactor(async (event) => {
        if (event.data.amount === 1) await held;
        handled.push(`${String(event.data.account)}${String(event.data.amount)}`);
      }),
      { idleCheckpointMs: 0 },
    );
    r.start();
    const slow = await deposit('a', 1);
    await deposit('a', 2);
    await deposit('b', 3);
    await until(() => handled.includes('b3'), 'b handled while a waits');
    // Appended after the slow event's batch was read: handled all the same, without waiting for it.
    const last = await deposit('c', 4);
    await until(() => handled.includes('c4'), 'a later batch handled while a waits');
    expect(handled).to.deep.equal(['b3', 'c4']);
    expect(r.hasReached(slow.position), 'position past an event still in hand').to.equal(false);
    release();
    await r.waitFor(last.position);
    expect(handled).to.deep.equal(['b3', 'c4', 'a1', 'a2']);
    await until(
      async () => (await readStore.getCheckpoint('reactor')).position?.commit === last.position.commit,
      'stored checkpoint',
    );
  });

  it('a process manager stopped and started again (the same runner) goes on from where it stopped, handling each event once', async () => {
    const handled: number[] = [];
    const r = runner(
      depositReactor((event) => void handled.push(Number(event.data.amount))),
      { idleCheckpointMs: 0 },
    );
    r.start();
    await r.waitFor((await deposit('a', 1)).position);
    await r.stop();
    expect(r.status().state).to.equal('stopped');
    await deposit('a', 2);
    await deposit('b', 3);
    r.start();
    await r.waitFor((await deposit('a', 4)).position);
    await r.stop();
    r.start();
    await r.waitFor((await deposit('c', 5)).position);
    expect(handled).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('moves its checkpoint past events its filter skips', async () => {
    const r = runner(depositCounter(), { idleCheckpointMs: 0 });
    r.start();
    const unrelated = await eventStore.appendToStream('orders-1', [{ id: uuid(), type: 'OrderPlaced', data: {} }]);
    await r.waitFor(unrelated.position);
    await until(
      async () => (await readStore.getCheckpoint('deposit-counter')).position?.commit === unrelated.position.commit,
      'stored checkpoint',
    );
  });

  it('parks an event that keeps failing and goes on with the next ones', async () => {
    let tries = 0;
    const base = depositCounter();
    const r = runner(
      depositCounter({
        handle(event, view, context) {
          if (event.data.amount === 13) {
            tries += 1;
            throw new Error('unlucky amount');
          }
          return base.handle(event, view, context);
        },
      }),
      { maxAttempts: 3 },
    );
    await deposit('a', 1);
    await deposit('a', 13);
    const last = await deposit('a', 2);
    r.start();
    await r.waitFor(last.position);
    expect(tries).to.equal(3);
    expect(await totals('a')).to.deep.include({ count: 2, total: 3 });
    const parked = await readStore.listParked('deposit-counter');
    expect(parked).to.have.length(1);
    expect(parked[0]).to.deep.include({
      eventType: 'Deposited',
      streamId: 'account-a',
      attempts: 3,
      error: 'unlucky amount',
    });
  });

  it('parks the one event whose writes the store refuses, and commits the rest of its batch', async () => {
    const base = depositCounter();
    const r = runner(
      depositCounter({
        async handle(event, view, context) {
          // A field name the read store refuses: a projection bug tied to one event.
          if (event.data.amount === 13)
            return [{ op: 'upsert', collection: 'deposit_totals', id: 'x', set: { 'bad.field': 1 } }];
          return base.handle(event, view, context);
        },
      }),
      { maxAttempts: 2 },
    );
    await deposit('a', 1);
    await deposit('a', 13);
    const last = await deposit('a', 2);
    r.start();
    await r.waitFor(last.position);
    expect(await totals('a')).to.deep.include({ count: 2, total: 3 });
    const parked = await readStore.listParked('deposit-counter');
    expect(parked.map((p) => p.eventType)).to.deep.equal(['Deposited']);
    expect(parked[0]!.error).to.match(/bad\.field/);
    expect((await readStore.getCheckpoint('deposit-counter')).position).to.deep.equal(last.position);
  });

  it('waits out transient failures without parking', async () => {
    let failures = 2;
    const base = depositCounter();
    const r = runner(
      depositCounter({
        handle(event, view, context) {
          if (failures-- > 0) throw new EventStoreUnavailable('store restarting');
          return base.handle(event, view, context);
        },
      }),
      { maxAttempts: 1 },
    );
    const last = await deposit('a', 7);
    r.start();
    await r.waitFor(last.position);
    expect(await totals('a')).to.deep.include({ count: 1, total: 7 });
    expect(await readStore.listParked()).to.deep.equal([]);
  });

  it('replays a batch whose commit failed without applying any of it twice', async () => {
    let failCommits = 1;
    const flaky: ReadStore = Object.create(readStore, {
      commit: {
        value: async (...args: Parameters<ReadStore['commit']>) => {
          // Half of the batch lands, then the process "crashes" before the checkpoint moves.
          if (failCommits-- > 0) {
            await readStore.commit(args[0], args[1].slice(0, Math.ceil(args[1].length / 2)), args[1][0]!.position);
            throw new Error('connection lost mid-batch');
          }
          return readStore.commit(...args);
        },
      },
    });
    for (let i = 0; i < 20; i++) await deposit('a', 1);
    const r = runner(depositCounter(), { readStore: flaky, maxAttempts: 1 });
    r.start();
    await r.waitFor((await deposit('a', 1)).position);
    expect(await totals('a')).to.deep.include({ count: 21, total: 21 });
  });

  it('rebuilds a view while another process runs it: the runner hands over, then resumes', async () => {
    const live = runner(depositCounter(), { leaseTtlMs: 300 });
    live.start();
    await live.waitFor((await deposit('a', 5)).position);
    await leases.list().then((l) => expect(l[0]?.holder).to.equal('test-0'));

    // Corrupt the view behind the runner's back: the rebuild must restore it from the events.
    await readStore.commit(
      'deposit-counter',
      [
        {
          position: { commit: 10n ** 12n, prepare: 10n ** 12n },
          ops: [{ op: 'delete', collection: 'deposit_totals', id: 'a' }],
        },
      ],
      (await eventStore.headPosition())!,
    );
    expect(await totals('a')).to.equal(null);

    const rebuilder = runner(depositCounter(), { leaseTtlMs: 300, owner: 'cli' });
    const progress: number[] = [];
    await rebuilder.rebuild((p) => progress.push(p.events));
    expect(await totals('a')).to.deep.include({ count: 1, total: 5 });
    expect(progress.at(-1)).to.equal(1);

    const after = await deposit('a', 6);
    await live.waitFor(after.position);
    await until(async () => ((await totals('a'))?.count as number | undefined) === 2, 'live runner resumed');
    expect(await totals('a')).to.deep.include({ count: 2, total: 11 });
    expect((await leases.list())[0]?.holder).to.equal('test-0');
  });
  describe('redelivery floor of a process manager', () => {
    const commitOf = (position: { commit: bigint }) => Number(position.commit);
    const storedAt = (name: string, position: { commit: bigint }) =>
      until(
        async () => ((await readStore.getCheckpoint(name)).position?.commit ?? -1n) >= position.commit,
        `${name}'s checkpoint stored at ${position.commit}`,
      );

    it('is -1 before any checkpoint, then the commit position of the stored checkpoint; a restarted runner starts from the stored one', async () => {
      const floors: Array<[number, number]> = [];
      // Appended before the runner starts: handled in its first batch, before anything is stored.
      const one = await deposit('a', 1);
      const first = runner(floorRecorder('floors', floors), { idleCheckpointMs: 0 });
      first.start();
      await first.waitFor(one.position);
      await storedAt('floors', one.position);
      const two = await deposit('b', 2);
      await first.waitFor(two.position);
      await storedAt('floors', two.position);
      await first.stop();
      expect(floors).to.deep.equal([
        [1, -1],
        [2, commitOf(one.position)],
      ]);
      // Restarted: nothing handled yet in this run, and still the stored checkpoint, not -1.
      const three = await deposit('a', 3);
      const second = runner(floorRecorder('floors', floors), { idleCheckpointMs: 0 });
      second.start();
      await second.waitFor(three.position);
      expect(floors.at(-1)).to.deep.equal([3, commitOf(two.position)]);
    });

    it('stays at a parked event while the checkpoint moves past it, and is loaded again with the parked events after a restart', async () => {
      const floors: Array<[number, number]> = [];
      const unlucky = (amount: number) => amount === 13;
      const first = runner(floorRecorder('parking', floors, unlucky), { idleCheckpointMs: 0, maxAttempts: 1 });
      first.start();
      const one = await deposit('a', 1);
      await first.waitFor(one.position);
      await storedAt('parking', one.position);
      const parked = await deposit('b', 13);
      await first.waitFor(parked.position);
      expect((await readStore.listParked('parking')).map((p) => p.eventId)).to.have.length(1);
      const three = await deposit('a', 3);
      await first.waitFor(three.position);
      await storedAt('parking', three.position);
      const four = await deposit('c', 4);
      await first.waitFor(four.position);
      await storedAt('parking', four.position);
      await first.stop();
      expect(floors.find(([amount]) => amount === 13)).to.deep.equal([13, commitOf(one.position)]);
      // The checkpoint is past the parked event, the floor is not.
      expect(floors.at(-1)).to.deep.equal([4, commitOf(parked.position)]);

      const five = await deposit('a', 5);
      const second = runner(floorRecorder('parking', floors, unlucky), { idleCheckpointMs: 0, maxAttempts: 1 });
      second.start();
      await second.waitFor(five.position);
      expect(
        (await readStore.getCheckpoint('parking')).position!.commit > parked.position.commit,
        'checkpoint past the parked event',
      ).to.equal(true);
      expect(floors.at(-1)).to.deep.equal([5, commitOf(parked.position)]);
    });
  });
});
