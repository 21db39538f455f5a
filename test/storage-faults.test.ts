/**
 * Storage faults in the middle of deals, on both event stores (and the read store of the
 * run): the process managers' appends fail again and again — a full disk, an I/O error, a
 * read-only file, a busy database, the event store unreachable, MongoDB's disk full — and
 * so do the read models' commits. Every fault is waited out: every deal ends completed or
 * failed exactly once, money and units add up (domain/audit.ts, what `npm run cli -- check`
 * runs), nothing is parked, and the wait was visible (the runner retrying in `/ready`,
 * `/metrics` and the log).
 */
import { expect } from 'chai';
import type { EventToAppend } from '../infra/eventsourcing/event-store/event-store.js';
import { EventStoreUnavailable } from '../infra/eventsourcing/event-store/event-store.js';
import { isTransient } from '../infra/eventsourcing/subscriptions/transient.js';
import { auditEventStore } from '../infra/cli/check.js';
import { startApiServer, type ApiServer } from './support/api-server.js';
import { capturedLogger, type Line } from './support/captured-log.js';
import { Client, eventStores } from './http/client.js';
import { eventually, Market } from './http/trading-client.js';

/** The faults injected, in turn: each is a storage or connection fault, never a reason to park. */
const FAULTS: Array<() => Error> = [
  () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
  () => Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }),
  () => Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' }),
  () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
  () => new EventStoreUnavailable('EventStoreDB is unavailable'),
  () => Object.assign(new Error('No space left on device'), { name: 'MongoServerError', code: 14031 }),
  () => Object.assign(new Error('connection reset'), { name: 'MongoNetworkError' }),
  () => Object.assign(new Error('waiting for replication timed out'), { name: 'MongoWriteConcernError', code: 64 }),
];

interface Injected {
  failures(): number;
  restore(): void;
}

/** Fails calls of one method of `target` while `shouldFail` says so, one fault of FAULTS after the other. */
function injectFaults<T extends object, K extends keyof T>(
  target: T,
  method: K,
  shouldFail: (...args: unknown[]) => boolean,
): Injected {
  const original = target[method] as (...args: unknown[]) => Promise<unknown>;
  let failures = 0;
  const faulty = async (...args: unknown[]) => {
    if (shouldFail(...args)) throw FAULTS[failures++ % FAULTS.length]!();
    return original.apply(target, args);
  };
  target[method] = faulty as T[K];
  return {
    failures: () => failures,
    restore: () => {
      target[method] = original as T[K];
    },
  };
}

describe('transient faults', () => {
  it('counts every storage and connection fault as transient, and a business refusal or a bug as not', () => {
    for (const fault of FAULTS) expect(isTransient(fault()), fault().message).to.equal(true);
    expect(isTransient(new Error('wrapped', { cause: FAULTS[0]!() }))).to.equal(true);
    expect(
      isTransient(Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' })),
    ).to.equal(false);
    expect(
      isTransient(Object.assign(new Error('E11000 duplicate key'), { name: 'MongoServerError', code: 11000 })),
    ).to.equal(false);
    expect(isTransient(new TypeError('cannot read properties of undefined'))).to.equal(false);
  });
});

for (const eventStore of eventStores) {
  describe(`storage faults in the middle of deals (${eventStore} event store)`, function () {
    this.timeout(60_000);
    let server: ApiServer;
    let market: Market;
    let lines: Line[];

    beforeEach(async () => {
      const captured = capturedLogger('info');
      lines = captured.lines;
      // Two tries before parking: a fault taken for a failure of the event would park it at once.
      server = await startApiServer({ eventStore, logger: captured.logger, env: { PROJECTION_MAX_ATTEMPTS: '2' } });
      market = new Market(new Client(server.baseUrl));
    });
    afterEach(async () => {
      await server.close();
    });

    it('waits every fault out: each deal ends once, money and units add up, nothing parked', async () => {
      const item = await market.newItem({ initialCount: 6, initialPrice: 100, commissionPercent: 10 });
      const buyers = await Promise.all([1, 2, 3, 4, 5].map(() => market.trader(200)));
      const poor = await market.trader(50);
      const { eventStore: events, readStore } = server.system;
      // Every second append of a process manager (it names its cause) fails, 40 times in all;
      // the read models' commits fail 12 times.
      let appends = 0;
      const appendFaults: Injected = injectFaults(events, 'appendToStream', (_stream, batch) => {
        const caused = (batch as EventToAppend[]).some((e) => e.metadata?.causationId !== undefined);
        return caused && appendFaults.failures() < 40 && appends++ % 2 === 0;
      });
      const commitFaults: Injected = injectFaults(readStore, 'commit', () => commitFaults.failures() < 12);
      try {
        await Promise.all([...buyers, poor].map((b) => market.placed(b.token, 'purchase', item.id, 100)));
        await eventually(
          async () => {
            const types = (await events.readAll({ maxCount: 100_000 })).map((e) => e.type);
            const opened = types.filter((t) => t === 'DealOpened').length;
            const ended = types.filter((t) => t === 'DealCompleted' || t === 'DealFailed').length;
            expect([opened, ended]).to.deep.equal([6, 6]);
          },
          30_000,
          'every deal ended',
        );
      } finally {
        appendFaults.restore();
        commitFaults.restore();
      }
      expect(appendFaults.failures(), 'appends failed').to.be.greaterThan(5);
      expect(commitFaults.failures(), 'commits failed').to.equal(12);

      const findings = await auditEventStore(events, new Date(), 0);
      expect(
        findings.filter((f) => !f.ok),
        JSON.stringify(findings, null, 2),
      ).to.deep.equal([]);
      const deals = findings.find((f) => f.check === 'deals')!;
      expect(deals.summary).to.include('6 deals opened: 5 completed, 1 failed, 0 open');
      expect(await readStore.listParked()).to.deep.equal([]);
      // 200 deposited, 100 + 10 % paid; the one with 50 could not pay.
      for (const b of [...buyers, poor])
        await eventually(async () => expect(await market.balance(b.token)).to.equal(b === poor ? 50 : 90), 5000);
      const faultLines = lines.filter((l) => l.msg === 'waiting out a storage fault; retrying with backoff');
      expect(faultLines.length, 'faults logged').to.be.greaterThan(0);
      expect(faultLines.map((l) => l.fault)).to.include.members(['SQLITE_FULL']);
    });

    it('shows a fault being waited out in /ready, /metrics and the log until it is over', async () => {
      const trader = await market.trader();
      let failing = true;
      const faults = injectFaults(server.system.readStore, 'commit', () => failing);
      try {
        const deposit = market.api.funded(trader.token, 10);
        const ready = await eventually(
          async () => {
            const answer = await fetch(`${server.baseUrl}/ready`);
            expect(answer.status).to.equal(503);
            return answer;
          },
          10_000,
          '/ready unready',
        );
        expect(await ready.json()).to.deep.equal({ status: 'unavailable' });
        const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
        expect(metrics).to.match(/marketplace_subscription_retrying\{subscription="billing",kind="projection"\} 1/);
        failing = false;
        await deposit;
      } finally {
        faults.restore();
      }
      // The store's retries back off up to 10 s apart.
      await eventually(async () => expect((await fetch(`${server.baseUrl}/ready`)).status).to.equal(200), 30_000);
      await eventually(async () => expect(await market.balance(trader.token)).to.equal(10), 5000);
      expect(await server.system.readStore.listParked()).to.deep.equal([]);
      expect(lines.map((l) => l.msg)).to.include.members([
        'waiting out a storage fault; retrying with backoff',
        'storage fault over',
      ]);
    });
  });
}
