/**
 * Crash safety of a deal, with a real `kill -9`: the whole product runs in a child process
 * (test/support/crash-server.ts) that SIGKILLs itself right after a chosen event of the
 * deal is durably appended — above all the buyer's payment, before the accrual. The
 * same data (and, for EventStoreDB, the same store: the gRPC double lives in this test
 * process) is then opened by a fresh process without the crash point, and the deal must
 * complete exactly once: one payment, one accrual, the broker's commission once, exact
 * balances, one DealCompleted in `$all`, one history entry per side, one letter each.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { EventStore, RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { openEsdbEventStore } from '../infra/esdb/esdb-event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { BROKER } from './support/api-server.js';
import { startEsdbDouble, type EsdbDouble } from './support/esdb-double/index.js';
import { cleanEnv, distDir, RunningNode, tempDir, type TempDir } from './support/process.js';
import { Client, eventStores } from './http/client.js';
import { DESCRIPTIONS, eventually, LETTERS, Market } from './http/trading-client.js';

const crashServer = join(distDir, 'test', 'support', 'crash-server.js');
const ITEM = 'Crash-proof Shield';

/** Where the first process dies, and what must (not yet) be in the log when it has. */
interface CrashPoint {
  after: string;
  /** Event types of the deal that must be stored when the process is dead. */
  stored: string[];
  /** …and those that must not be stored yet. */
  notYet: string[];
}

const crashPoints: CrashPoint[] = [
  // The one the deal's design is about: the buyer paid, the seller not credited yet.
  {
    after: 'PaymentMade',
    stored: ['DealOpened', 'PaymentMade'],
    notYet: ['CommissionReceived', 'DealPaid', 'AccrualReceived', 'DealCompleted'],
  },
  // The placement recorded in the trader's stream, the market never told (the HTTP answer never sent).
  { after: 'OrderSubmitted', stored: ['OrderSubmitted'], notYet: ['PurchaseOrderPlaced', 'DealOpened', 'PaymentMade'] },
  // The market matched, nobody paid yet.
  { after: 'DealOpened', stored: ['DealOpened'], notYet: ['PaymentMade', 'DealCompleted'] },
  // The broker got the buyer's commission (marking the deal paid and crediting the seller run
  // alongside it, so they may or may not be stored yet); the deal is not completed.
  { after: 'CommissionReceived', stored: ['PaymentMade', 'CommissionReceived'], notYet: ['DealCompleted'] },
  // The seller was credited; the deal is not completed.
  {
    after: 'AccrualReceived',
    stored: ['PaymentMade', 'CommissionReceived', 'DealPaid', 'AccrualReceived'],
    notYet: ['DealCompleted'],
  },
];

/** The events that belong to this one deal (or to its buyer's placement). */
function dealEvents(all: RecordedEvent[], itemId: string): RecordedEvent[] {
  return all.filter((e) => {
    const data = e.data as { itemId?: unknown; purpose?: { itemId?: unknown } };
    if (data.itemId === itemId) return true;
    if (data.purpose?.itemId === itemId) return true;
    if (e.type === 'CommissionReceived') return true; // the broker's only income in this data directory
    return false;
  });
}

function countTypes(events: RecordedEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return counts;
}

for (const eventStore of eventStores) {
  describe(`crash safety of a deal: kill -9 of the server process (${eventStore} event store)`, function () {
    this.timeout(60_000);
    let dir: TempDir;
    let double: EsdbDouble | null = null;
    const children: RunningNode[] = [];

    beforeEach(async () => {
      dir = tempDir('market-crash-');
      double = eventStore === 'esdb' ? await startEsdbDouble() : null;
    });
    afterEach(async () => {
      for (const child of children.splice(0)) {
        child.kill();
        await child.exited;
      }
      await double?.stop();
      double = null;
      dir.remove();
    });

    function start(env: Record<string, string> = {}): RunningNode {
      const child = new RunningNode(
        crashServer,
        [],
        cleanEnv({
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dir.path,
          EMBEDDED_DURABILITY: 'normal',
          LOG_LEVEL: 'error',
          BROKER_EMAIL: BROKER.email,
          BROKER_PASSWORD: BROKER.password,
          ...(double ? { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: double.connectionString } : {}),
          ...env,
        }),
      );
      children.push(child);
      return child;
    }

    async function listening(child: RunningNode): Promise<Client> {
      const line = await child.waitForLine((l) => l.includes('"crashServerListening"'), 20_000);
      const { crashServerListening: port } = JSON.parse(line) as { crashServerListening: number };
      return new Client(`http://127.0.0.1:${port}`);
    }

    /** Every event in `$all`, read by this process with the server process gone. */
    async function readEverything(): Promise<RecordedEvent[]> {
      const store: EventStore = double
        ? openEsdbEventStore({ connectionString: double.connectionString })
        : openSqliteEventStore({ file: join(dir.path, 'events.db'), durability: 'normal' });
      try {
        return await store.readAll({ maxCount: 1_000_000 });
      } finally {
        await store.close();
      }
    }

    for (const point of crashPoints) {
      // Nobody frees the dead process's projection leases for the restarted server: it sees
      // their holder is gone (same host, no such pid) and takes them over at once.
      const title = `killed right after ${point.after} is stored, the restarted server completes the deal exactly once`;
      it(title, async () => {
        // ---- first life: set up over HTTP, bid, die ----------------------------------
        const first = start({ CRASH_AFTER: point.after });
        const api1 = await listening(first);
        const market1 = new Market(api1);
        const broker = await market1.broker();
        const item = await market1.newItem({ name: ITEM, initialCount: 1, initialPrice: 200, commissionPercent: 10 });
        const buyer = await market1.trader(1000, { firstName: 'Dana', lastName: 'Crash' });
        // The answer may or may not make it out before the process dies.
        const bid = await market1
          .place(buyer.token, 'purchase', item.id, 200)
          .catch((error: unknown) => error as Error);
        if (!(bid instanceof Error)) {
          expect(bid.status, bid.text).to.equal(202);
          expect(bid.body).to.include({ status: 'paymentPending', price: 200, commission: 20 });
        }
        const death = await Promise.race([
          first.exited,
          new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000)),
        ]);
        expect(death, `the server did not die; stderr:\n${first.stderr}`).to.not.equal(null);
        expect(death!.signal, `exit ${JSON.stringify(death)}; stderr:\n${first.stderr}`).to.equal('SIGKILL');
        expect(
          first.lines.some((l) => l.includes(`"crashing":"${point.after}"`)),
          'it died at the crash point',
        ).to.equal(true);

        // ---- the log as the crash left it ------------------------------------------------
        const atCrash = countTypes(dealEvents(await readEverything(), item.id));
        for (const type of point.stored)
          expect(atCrash[type] ?? 0, `${type} stored before the crash`).to.be.at.least(1);
        for (const type of point.notYet) expect(atCrash[type] ?? 0, `${type} not stored before the crash`).to.equal(0);

        // ---- second life: same data, no crash point ---------------------------------------
        const second = start({});
        const settleMs = 15_000;
        const api2 = await listening(second);
        const market2 = new Market(api2);
        const buyerOps = await eventually(
          async () => {
            expect(await market2.balance(buyer.token), 'the buyer paid 200 + 20 once').to.equal(780);
            expect(await market2.balance(broker.token), 'the broker got 200 + 20 once').to.equal(220);
            const ops = await market2.operations(buyer.token);
            expect(ops.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['payment', 220, DESCRIPTIONS.buying(ITEM, '20.00')],
              ['deposit', 1000, 'money deposit by user'],
            ]);
            return ops;
          },
          settleMs,
          'the deal completed after the restart',
        );
        await eventually(
          async () => {
            const brokerOps = await market2.operations(broker.token);
            expect(brokerOps.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['accrual', 200, DESCRIPTIONS.selling(ITEM, '0.00')],
              ['commission', 20, DESCRIPTIONS.commission(buyer.id, 'payment', buyerOps[0].id)],
            ]);
            expect(
              (await market2.deals(buyer.token)).map((d) => [d.type, d.itemId, d.amount, d.commission]),
            ).to.deep.equal([['purchase', item.id, 200, 20]]);
            expect(
              (await market2.deals(broker.token)).map((d) => [d.type, d.itemId, d.amount, d.commission]),
            ).to.deep.equal([['sale', item.id, 200, 0]]);
            expect(await market2.portfolio(buyer.token)).to.deep.equal([
              { id: item.id, name: ITEM, count: 1, onSaleCount: 0 },
            ]);
            expect(await market2.portfolio(broker.token)).to.deep.equal([]);
            expect(await market2.activeOrders(buyer.token, 'purchase')).to.deep.equal([]);
            expect((await market2.notifications(buyer.token)).map((n) => n.message)).to.deep.equal([
              LETTERS.bought('Dana', 'Crash', ITEM, '200.00', '20.00'),
            ]);
            expect(await market2.statistics('top10')).to.deep.equal([
              { itemId: item.id, itemName: ITEM, count: 1, amount: 200 },
            ]);
            expect(await market2.statistics('total-daily-stats')).to.have.length(1);
            expect((await market2.statistics('total-daily-stats'))[0]).to.include({ count: 1, amount: 200 });
          },
          settleMs,
          'the read models after the restart',
        );

        // ---- stop cleanly, then count in `$all` --------------------------------------------
        second.child.kill('SIGTERM');
        const stopped = await second.exited;
        expect(stopped.code, `clean stop; stderr:\n${second.stderr}`).to.equal(0);
        const events = dealEvents(await readEverything(), item.id);
        const counts = countTypes(events);
        expect(counts, 'each step of the deal exactly once').to.deep.include({
          OrderSubmitted: 1,
          PurchaseOrderPlaced: 1,
          DealOpened: 1,
          PaymentMade: 1,
          CommissionReceived: 1,
          DealPaid: 1,
          AccrualReceived: 1,
          DealCompleted: 1,
        });
        expect(counts.PaymentDeclined ?? 0, 'no payment declined').to.equal(0);
        expect(counts.DealFailed ?? 0, 'no deal failed').to.equal(0);
        const completed = events.find((e) => e.type === 'DealCompleted')!;
        expect(completed.data).to.include({
          price: 20000,
          buyerCommission: 2000,
          sellerCommission: 0,
          buyerId: buyer.id,
          sellerId: broker.id,
        });
      });
    }
  });
}
