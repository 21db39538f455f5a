/**
 * Exactly-once settlement with bounded memory: the process managers of settlement.test.ts
 * again, driven by hand over the embedded store, but with snapshots (every 5 events) and
 * restarts between redeliveries, and with a redelivery floor that rises the way a stored
 * checkpoint does — so that the accounts really forget the steps no redelivery can repeat.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import { depositMoney, openAccount } from '../command-handlers/billing.js';
import { loadStream } from '../infra/eventsourcing/command-handling/handle-command.js';
import {
  dealSettlement,
  orderPayment,
  orderPlacement,
  type SettlementEnvironment,
} from '../command-handlers/settlement.js';
import type { SnapshotObservation } from '../infra/eventsourcing/command-handling/snapshots.js';
import { StreamStateCache } from '../infra/eventsourcing/command-handling/stream-state-cache.js';
import { cancelOrder, listItem, loadMarket, placeOrder } from '../command-handlers/trading.js';
import { account } from '../domain/billing/account.js';
import { accountStream } from '../domain/billing/events.js';
import type { Cents } from '../domain/money.js';
import { operationIdsSize } from '../domain/operation-memory.js';
import type { Side } from '../domain/trading/events.js';
import { holdingOf } from '../domain/trading/market.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { formatPosition } from '../infra/eventsourcing/event-store/position.js';
import { openSqliteEventStore, type EmbeddedEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import type { EventHandler, ProjectionView } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { wants } from './support/handlers.js';
import { random } from './support/random.js';

const noView: ProjectionView = { get: async () => null };
const broker = 'broker';

/** What `$all` holds, comparable with deep equality. */
const contents = (events: RecordedEvent[]) =>
  events.map((e) => ({
    id: e.id,
    type: e.type,
    streamId: e.streamId,
    revision: e.revision,
    position: formatPosition(e.position),
    data: e.data,
  }));

describe('settlement with snapshots, restarts and redelivery floors', function () {
  this.timeout(300_000);
  let dir: string;
  let store: EmbeddedEventStore;
  let clock: number;
  let observed: SnapshotObservation[];
  let env: SettlementEnvironment;

  /** A process: a cache of its own (a new one is a restart), the shared store and its snapshots, taken every 5 events. */
  const processEnv = (): SettlementEnvironment => ({
    eventStore: store,
    cache: new StreamStateCache(),
    newId: uuid,
    now: () => new Date(clock++ * 1000),
    snapshots: { store: store.snapshots, every: 5, observe: (o) => observed.push(o) },
  });
  const processManagers = (e: SettlementEnvironment) => [dealSettlement(e), orderPlacement(e), orderPayment(e)];

  /** `$all`, read incrementally. */
  const log: RecordedEvent[] = [];
  async function readLog(): Promise<RecordedEvent[]> {
    const from = log.at(-1)?.position;
    const more = await store.readAll(from ? { fromPosition: from } : {});
    log.push(
      ...(from
        ? more.filter(
            (e) =>
              e.position.commit > from.commit ||
              (e.position.commit === from.commit && e.position.prepare > from.prepare),
          )
        : more),
    );
    return log;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-settlement-memory-'));
    store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal' });
    clock = Date.parse('2026-11-21T10:00:00Z') / 1000;
    observed = [];
    env = processEnv();
    log.splice(0);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs the handlers over what they have not seen, in `$all` order, until nothing new is
   * appended. `floorOf` gives each delivery's redelivery floor (default: none yet).
   */
  async function settle(
    handlers: EventHandler[],
    cursors: Map<EventHandler, number>,
    floorOf: (handler: EventHandler) => number = () => -1,
    onHandled?: (handler: EventHandler, event: RecordedEvent) => void,
  ) {
    for (let pass = 0; pass < 10_000; pass++) {
      const all = await readLog();
      let progressed = false;
      for (const handler of handlers) {
        const from = cursors.get(handler) ?? 0;
        for (let i = from; i < all.length; i++) {
          const event = all[i]!;
          if (!wants(handler, event)) continue;
          await handler.handle(event, noView, { redeliveryFloor: floorOf(handler) });
          onHandled?.(handler, event);
        }
        if (all.length > from) progressed = true;
        cursors.set(handler, all.length);
      }
      if (!progressed) return;
    }
    throw new Error('the process managers never came to rest');
  }

  const balanceOf = async (e: SettlementEnvironment, userId: string) =>
    (await loadStream(e, account, accountStream(userId))).state.balance;

  it('redelivering every settlement event, in any order, any number of times, to processes restarted from snapshots changes nothing', async () => {
    const pms = processManagers(env);
    const cursors = new Map<EventHandler, number>();
    const place = (userId: string, side: Side, itemId: string, price: Cents) =>
      placeOrder(env, { userId, side, itemId, price, uniqueId: uuid() });
    let deposited = 0;
    const deposit = async (userId: string, amount: Cents) => {
      await depositMoney(env, { userId, amount, operationId: uuid() });
      deposited += amount;
    };
    // The worked example of the specification, and a few more deals on a second item.
    for (const user of [broker, 't1', 't2', 't3']) await openAccount(env, user);
    const sword = (
      await listItem(env, broker, uuid(), {
        name: 'sword',
        initialCount: 1,
        initialPrice: 20_000,
        commissionBasisPoints: 1000,
      })
    ).item.id;
    const shield = (
      await listItem(env, broker, uuid(), {
        name: 'shield',
        initialCount: 6,
        initialPrice: 5_000,
        commissionBasisPoints: 500,
      })
    ).item.id;
    await place('t1', 'purchase', sword, 20_000); // declined: no money
    await settle(pms, cursors);
    await deposit('t1', 100_000);
    await place('t1', 'purchase', sword, 20_000);
    await settle(pms, cursors);
    await place('t1', 'sell', sword, 25_000);
    await deposit('t2', 100_000);
    const low = await place('t2', 'purchase', sword, 20_000);
    await cancelOrder(env, { userId: 't2', orderId: low.order.orderId, side: 'purchase' });
    await place('t2', 'purchase', sword, 26_000);
    await deposit('t3', 30_000);
    for (let i = 0; i < 6; i++) await place(i % 2 ? 't3' : 't2', 'purchase', shield, 5_000);
    await settle(pms, cursors);
    // Money arriving late must not turn a declined payment into a charge.
    await deposit('t1', 500_000);
    await settle(pms, cursors);

    const users = [broker, 't1', 't2', 't3'];
    const before = contents(await readLog());
    const balances = await Promise.all(users.map((u) => balanceOf(env, u)));
    expect(balances.reduce((a, b) => a + b, 0)).to.equal(deposited);
    expect(before.filter((e) => e.type === 'DealCompleted').length, 'deals completed').to.be.at.least(5);
    expect(before.filter((e) => e.type === 'DealFailed').length, 'deals failed').to.be.at.least(1);
    expect(observed.filter((o) => o.kind === 'written').length, 'snapshots taken').to.be.greaterThan(5);

    const events = [...log];
    const rnd = random(2026);
    const orders = [events, [...events].reverse(), rnd.shuffle(events), rnd.shuffle(events), rnd.shuffle(events)];
    for (const order of orders) {
      // A restart: new caches, so every stream is loaded again, from its snapshot.
      const restarted = processManagers(processEnv());
      for (const event of order)
        for (const handler of restarted)
          if (wants(handler, event)) await handler.handle(event, noView, { redeliveryFloor: -1 });
    }
    // And several restarted processes at once.
    await Promise.all(
      [1, 2, 3].map(async (n) => {
        const restarted = processManagers(processEnv());
        for (const event of random(n).shuffle(events))
          for (const handler of restarted)
            if (wants(handler, event)) await handler.handle(event, noView, { redeliveryFloor: -1 });
      }),
    );
    expect(observed.filter((o) => o.kind === 'loaded').length, 'streams loaded from snapshots').to.be.greaterThan(10);
    expect(observed.filter((o) => o.kind === 'ignored' || o.kind === 'unavailable')).to.deep.equal([]);
    expect(contents(await readLog())).to.deep.equal(before);
    const fresh = processEnv();
    expect(await Promise.all(users.map((u) => balanceOf(fresh, u)))).to.deep.equal(balances);
    const shieldMarket = await loadMarket(fresh, shield);
    expect([
      holdingOf(shieldMarket, 't2').owned + holdingOf(shieldMarket, 't3').owned,
      shieldMarket.deals.size,
    ]).to.deep.equal([6, 0]);
    expect(holdingOf(await loadMarket(fresh, sword), 't2')).to.deep.equal({ owned: 1, onSale: 0 });
  });

  it('with a floor that rises like a checkpoint: 500 deals, the last events redelivered change nothing, and the broker’s memory stays small', async () => {
    const BEHIND = 50;
    const pms = processManagers(env);
    const cursors = new Map<EventHandler, number>();
    /** The positions each handler handled, in order: its floor is the one handled BEHIND events ago. */
    const handled = new Map<EventHandler, RecordedEvent[]>(pms.map((h) => [h, []]));
    const floorOf = (handler: EventHandler) => {
      const seen = handled.get(handler)!;
      return seen.length > BEHIND ? Number(seen[seen.length - 1 - BEHIND]!.position.commit) : -1;
    };
    const buyers = Array.from({ length: 10 }, (_, i) => `b${i}`);
    for (const user of [broker, ...buyers]) await openAccount(env, user);
    for (const user of buyers) await depositMoney(env, { userId: user, amount: 50 * 110, operationId: uuid() });
    const itemId = (
      await listItem(env, broker, uuid(), {
        name: 'coin',
        initialCount: 500,
        initialPrice: 100,
        commissionBasisPoints: 1000,
      })
    ).item.id;
    let largest = 0;
    for (let deal = 0; deal < 500; deal++) {
      await placeOrder(env, {
        userId: buyers[deal % buyers.length]!,
        side: 'purchase',
        itemId,
        price: 100,
        uniqueId: uuid(),
      });
      if (deal % 10 === 9) {
        await settle(pms, cursors, floorOf, (h, e) => handled.get(h)!.push(e));
        largest = Math.max(
          largest,
          operationIdsSize((await loadStream(env, account, accountStream(broker))).state.operations),
        );
      }
    }
    const all = await readLog();
    expect(all.filter((e) => e.type === 'DealCompleted')).to.have.length(500);
    expect(await balanceOf(env, broker)).to.equal(500 * 110);
    for (const user of buyers) expect(await balanceOf(env, user), user).to.equal(0);
    // Two steps per deal on the broker's account (commission, accrual): 1,000 ids if nothing were forgotten.
    expect(largest, 'ids the broker’s account remembers').to.be.below(150);
    expect(largest, 'it does remember the steps above the floor').to.be.at.least(20);

    // A restart: every handler is given again what came after its floor (the last BEHIND events it handled), from a process with empty caches.
    const before = contents(all);
    const restarted = processEnv();
    const again = processManagers(restarted);
    const rnd = random(500);
    for (const [i, handler] of pms.entries()) {
      const floor = floorOf(handler);
      const after = all.filter((e) => wants(handler, e) && Number(e.position.commit) > floor);
      expect(after.length, `${handler.name}: events after its floor`).to.be.within(1, BEHIND);
      for (const order of [after, [...after].reverse(), rnd.shuffle(after)]) {
        for (const event of order) await again[i]!.handle(event, noView, { redeliveryFloor: floor });
      }
    }
    expect(contents(await readLog())).to.deep.equal(before);
    expect(await balanceOf(restarted, broker)).to.equal(500 * 110);
  });
});
