/**
 * The process managers that settle deals, placements and plain orders, driven directly
 * (`handle(event, view)`) over a real embedded event store, the way a subscription would:
 * every event of `$all`, in order, until nothing new is appended.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import { depositMoney, openAccount, withdrawMoney } from '../command-handlers/billing.js';
import { handleCommand, loadStream } from '../infra/eventsourcing/command-handling/handle-command.js';
import { createCustomerOrder } from '../command-handlers/ordering.js';
import {
  dealOperationId,
  dealSettlement,
  orderPayment,
  orderPlacement,
  type SettlementEnvironment,
} from '../command-handlers/settlement.js';
import { StreamStateCache } from '../infra/eventsourcing/command-handling/stream-state-cache.js';
import { cancelOrder, listItem, loadMarket, placeOrder } from '../command-handlers/trading.js';
import { account } from '../domain/billing/account.js';
import { accountStream } from '../domain/billing/events.js';
import { BusinessRuleViolation } from '../domain/decider.js';
import type { Cents } from '../domain/money.js';
import { customerOrderOf, customerOrders } from '../domain/ordering/customer-orders.js';
import { customerOrdersStream } from '../domain/ordering/events.js';
import {
  orderIdFor,
  initialSellOrderId,
  marketStream,
  traderOrdersStream,
  type DealTerms,
  type Side,
} from '../domain/trading/events.js';
import { findOrder, holdingOf, type MarketState } from '../domain/trading/market.js';
import { traderOrders } from '../domain/trading/trader-orders.js';
import {
  WrongExpectedVersion,
  type EventStore,
  type JsonObject,
  type RecordedEvent,
} from '../infra/eventsourcing/event-store/event-store.js';
import { formatPosition } from '../infra/eventsourcing/event-store/position.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import type {
  EventHandler,
  HandlingContext,
  ProjectionView,
} from '../infra/eventsourcing/subscriptions/event-handler.js';
import { wants } from './support/handlers.js';
import { random } from './support/random.js';

const noView: ProjectionView = { get: async () => null };
/** Handled outside a runner: nothing stored, so nothing can be forgotten yet. */
const noFloor: HandlingContext = { redeliveryFloor: -1 };
const broker = 'broker';

/** What `$all` holds, comparable with deep equality. */
function snapshot(events: RecordedEvent[]) {
  return events.map((e) => ({
    id: e.id,
    type: e.type,
    streamId: e.streamId,
    revision: e.revision,
    position: formatPosition(e.position),
    data: e.data,
    metadata: e.metadata,
  }));
}

describe('settlement process managers on the embedded store', function () {
  this.timeout(120_000);
  let dir: string;
  let store: EventStore;
  let env: SettlementEnvironment;
  let clock: number;
  /** Where each handler has got to in `$all` (an index: `$all` only grows). */
  let cursors: Map<EventHandler, number>;
  let pms: EventHandler[];

  const freshEnv = (): SettlementEnvironment => ({
    eventStore: store,
    cache: new StreamStateCache(),
    newId: uuid,
    now: () => new Date(clock++ * 1000),
  });
  const processManagers = (e: SettlementEnvironment) => [dealSettlement(e), orderPlacement(e), orderPayment(e)];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-settlement-'));
    store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal' });
    clock = Date.parse('2026-11-21T10:00:00Z') / 1000;
    env = freshEnv();
    cursors = new Map();
    pms = processManagers(env);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the handlers over every event of `$all` they have not seen, in order, until nothing new is appended. */
  async function settle(handlers: EventHandler[] = pms): Promise<void> {
    for (let pass = 0; pass < 10_000; pass++) {
      const all = await store.readAll();
      let progressed = false;
      for (const handler of handlers) {
        const from = cursors.get(handler) ?? 0;
        for (let i = from; i < all.length; i++)
          if (wants(handler, all[i]!)) await handler.handle(all[i]!, noView, noFloor);
        if (all.length > from) progressed = true;
        cursors.set(handler, all.length);
      }
      if (!progressed) return;
    }
    throw new Error('the process managers never came to rest');
  }

  /** Delivers these events again to every handler that wants them, one after the other. */
  async function redeliver(events: RecordedEvent[], handlers: EventHandler[] = pms): Promise<void> {
    for (const event of events)
      for (const handler of handlers) if (wants(handler, event)) await handler.handle(event, noView, noFloor);
  }

  const all = async () => store.readAll();
  const ofType = async (type: string) => (await all()).filter((e) => e.type === type);
  const streamEvents = async (streamId: string) => {
    const read = await store.readStream(streamId);
    return read.status === 'found' ? read.events : [];
  };
  const balanceOf = async (userId: string) => (await loadStream(env, account, accountStream(userId))).state.balance;
  const amounts = (events: RecordedEvent[]) => events.map((e) => [e.type, (e.data as { amount: Cents }).amount]);
  const place = (userId: string, side: Side, itemId: string, price: Cents, uniqueId = uuid()) =>
    placeOrder(env, { userId, side, itemId, price, uniqueId });
  const list = async (initialCount = 1, initialPrice: Cents = 20_000, commissionBasisPoints = 1000, name = 'sword') =>
    (await listItem(env, broker, env.newId(), { name, initialCount, initialPrice, commissionBasisPoints })).item.id;
  const deposit = (userId: string, amount: Cents) => depositMoney(env, { userId, amount, operationId: uuid() });
  const market = (itemId: string): Promise<MarketState> => loadMarket(env, itemId);
  const dealOf = async (orderId: string): Promise<DealTerms & { at: string }> => {
    const opened = (await ofType('DealOpened')).map((e) => e.data as unknown as DealTerms & { at: string });
    const deal = opened.filter((d) => d.purchaseOrderId === orderId || d.sellOrderId === orderId).at(-1);
    if (!deal) throw new Error(`no deal for order ${orderId}`);
    return deal;
  };
  /** The events a deal caused after it was opened, in `$all` order. */
  const stepsOf = async (dealId: string) =>
    (await all())
      .filter((e) => {
        const d = e.data as { dealId?: string; purpose?: { dealId?: string }; source?: { dealId?: string } };
        return d.dealId === dealId || d.purpose?.dealId === dealId || d.source?.dealId === dealId;
      })
      .map((e) => `${e.type}@${e.streamId}`);

  /** The worked example of the specification, up to trader 2's withdrawal. */
  async function workedExample() {
    for (const user of [broker, 't1', 't2']) await openAccount(env, user);
    const itemId = await list();
    const declined = await place('t1', 'purchase', itemId, 20_000);
    await settle();
    await deposit('t1', 100_000);
    const bought = await place('t1', 'purchase', itemId, 20_000);
    await settle();
    const offer = await place('t1', 'sell', itemId, 25_000);
    await deposit('t2', 100_000);
    const low = await place('t2', 'purchase', itemId, 20_000);
    await cancelOrder(env, { userId: 't2', orderId: low.order.orderId, side: 'purchase' });
    const high = await place('t2', 'purchase', itemId, 26_000);
    await settle();
    return { itemId, declined, bought, offer, low, high };
  }

  describe('deal settlement', () => {
    it('settles the worked example with its exact amounts', async () => {
      for (const user of [broker, 't1', 't2']) await openAccount(env, user);
      const itemId = await list();

      // Trader 1 (balance 0) bids 200 → paymentPending, price 200, commission 20 → declined.
      const first = await place('t1', 'purchase', itemId, 20_000);
      expect(first.order).to.include({ status: 'paymentPending', price: 20_000, commission: 2000 });
      await settle();
      const firstDeal = await dealOf(first.order.orderId);
      expect(await stepsOf(firstDeal.dealId)).to.deep.equal([
        `DealOpened@${marketStream(itemId)}`,
        'PaymentDeclined@account-t1',
        `DealFailed@${marketStream(itemId)}`,
      ]);
      expect((await ofType('DealFailed'))[0]!.data).to.include({
        buyerId: 't1',
        price: 20_000,
        reason: 'insufficient_funds',
        itemName: 'sword',
      });
      expect(await balanceOf('t1')).to.equal(0);

      // Trader 1 deposits 1000, bids 200 again → deal.
      await deposit('t1', 100_000);
      const second = await place('t1', 'purchase', itemId, 20_000);
      await settle();
      const deal = await dealOf(second.order.orderId);
      expect(deal).to.include({
        sellerId: broker,
        buyerId: 't1',
        price: 20_000,
        buyerCommission: 2000,
        sellerCommission: 0,
      });
      expect(await stepsOf(deal.dealId)).to.deep.equal([
        `DealOpened@${marketStream(itemId)}`,
        'PaymentMade@account-t1',
        'CommissionReceived@account-broker',
        `DealPaid@${marketStream(itemId)}`,
        'AccrualReceived@account-broker',
        `DealCompleted@${marketStream(itemId)}`,
      ]);
      expect(await balanceOf('t1')).to.equal(78_000);
      const t1Last = (await streamEvents(accountStream('t1'))).at(-1)!;
      expect(t1Last.type).to.equal('PaymentMade');
      expect(t1Last.data).to.deep.include({ amount: 22_000, operationId: dealOperationId(deal.dealId, 'payment') });
      expect(t1Last.data.purpose).to.deep.equal({
        kind: 'deal',
        dealId: deal.dealId,
        itemId,
        itemName: 'sword',
        commission: 2000,
      });
      expect(amounts((await streamEvents(accountStream(broker))).slice(-2))).to.deep.equal([
        ['CommissionReceived', 2000],
        ['AccrualReceived', 20_000],
      ]);
      expect((await streamEvents(accountStream(broker))).at(-2)!.data.source).to.deep.equal({
        fromUserId: 't1',
        kind: 'payment',
        operationId: dealOperationId(deal.dealId, 'payment'),
        dealId: deal.dealId,
      });
      let state = await market(itemId);
      expect(holdingOf(state, 't1')).to.deep.equal({ owned: 1, onSale: 0 });
      expect(findOrder(state, second.order.orderId)!.status).to.equal('approved');

      // Trader 1 offers the unit at 250 → pending, commission 25.
      const offer = await place('t1', 'sell', itemId, 25_000);
      expect(offer.order).to.include({ status: 'pending', price: 25_000, commission: 2500 });

      // Trader 2 deposits 1000, bids 200 → pending; cancels it; bids 260 → paymentPending, 260 / 26.
      await deposit('t2', 100_000);
      const low = await place('t2', 'purchase', itemId, 20_000);
      expect(low.order.status).to.equal('pending');
      const canceled = await cancelOrder(env, { userId: 't2', orderId: low.order.orderId, side: 'purchase' });
      expect(canceled!.order.status).to.equal('canceled');
      const high = await place('t2', 'purchase', itemId, 26_000);
      expect(high.order).to.include({ status: 'paymentPending', price: 26_000, commission: 2600 });
      await settle();

      // The deal runs at the resting ask.
      const resale = await dealOf(high.order.orderId);
      expect(resale).to.include({
        sellerId: 't1',
        buyerId: 't2',
        price: 25_000,
        buyerCommission: 2500,
        sellerCommission: 2500,
      });
      expect(await stepsOf(resale.dealId)).to.deep.equal([
        `DealOpened@${marketStream(itemId)}`,
        'PaymentMade@account-t2',
        'CommissionReceived@account-broker',
        `DealPaid@${marketStream(itemId)}`,
        'AccrualReceived@account-t1',
        'CommissionReceived@account-broker',
        `DealCompleted@${marketStream(itemId)}`,
      ]);
      expect(await balanceOf('t2')).to.equal(72_500);
      expect(await balanceOf('t1')).to.equal(100_500);
      expect(amounts((await streamEvents(accountStream('t2'))).slice(-1))).to.deep.equal([['PaymentMade', 27_500]]);
      expect(amounts((await streamEvents(accountStream('t1'))).slice(-1))).to.deep.equal([['AccrualReceived', 22_500]]);
      const brokerLast = (await streamEvents(accountStream(broker))).slice(-2);
      expect(amounts(brokerLast)).to.deep.equal([
        ['CommissionReceived', 2500],
        ['CommissionReceived', 2500],
      ]);
      expect(brokerLast.map((e) => (e.data.source as JsonObject).kind)).to.deep.equal(['payment', 'accrual']);
      expect(brokerLast.map((e) => (e.data.source as JsonObject).fromUserId)).to.deep.equal(['t2', 't1']);
      expect(await balanceOf(broker)).to.equal(27_000);
      state = await market(itemId);
      expect(holdingOf(state, 't1')).to.deep.equal({ owned: 0, onSale: 0 });
      expect(holdingOf(state, 't2')).to.deep.equal({ owned: 1, onSale: 0 });
      expect(findOrder(state, high.order.orderId)!.status).to.equal('approved');
      expect(findOrder(state, offer.order.orderId)!.status).to.equal('approved');

      // Trader 2 withdraws 700; the same request with the same If-Match again → refused.
      const revision = (await loadStream(env, account, accountStream('t2'))).revision;
      await withdrawMoney(env, { userId: 't2', amount: 70_000, operationId: 'w-1', expectedRevision: revision });
      const again = await withdrawMoney(env, {
        userId: 't2',
        amount: 70_000,
        operationId: 'w-2',
        expectedRevision: revision,
      }).catch((e: unknown) => e);
      expect(again).to.be.instanceOf(WrongExpectedVersion);
      expect(await balanceOf('t2')).to.equal(2500);
      expect((await balanceOf(broker)) + (await balanceOf('t1')) + (await balanceOf('t2'))).to.equal(200_000 - 70_000);
    });

    it('each step is caused by the event before it and carries the correlation on', async () => {
      await openAccount(env, 't1');
      await deposit('t1', 100_000);
      const itemId = await list();
      await place('t1', 'purchase', itemId, 20_000);
      await settle();
      const events = await all();
      const opened = events.find((e) => e.type === 'DealOpened')!;
      const payment = events.find((e) => e.type === 'PaymentMade')!;
      const accrual = events.find((e) => e.type === 'AccrualReceived')!;
      const completed = events.find((e) => e.type === 'DealCompleted')!;
      expect(payment.metadata.causationId).to.equal(opened.id);
      expect(accrual.metadata.causationId).to.equal(payment.id);
      expect(completed.metadata.causationId).to.equal(accrual.id);
      expect(new Set([payment, accrual, completed].map((e) => e.metadata.correlationId))).to.deep.equal(
        new Set([opened.metadata.correlationId ?? opened.id]),
      );
    });

    it('a declined payment charges nothing, fails the deal and puts the sell order back in the book, where it can be bought', async () => {
      for (const user of [broker, 't1', 't2']) await openAccount(env, user);
      const itemId = await list(2);
      const poor = await place('t1', 'purchase', itemId, 20_000);
      await settle();
      let state = await market(itemId);
      expect(findOrder(state, poor.order.orderId)!.status).to.equal('paymentFailed');
      expect(findOrder(state, initialSellOrderId(itemId, 0))!.status).to.equal('pending');
      expect(state.asks.get(20_000)!.toArray()).to.deep.equal([
        initialSellOrderId(itemId, 0),
        initialSellOrderId(itemId, 1),
      ]);
      expect(state.deals.size).to.equal(0);
      expect(amounts(await streamEvents(accountStream('t1')))).to.deep.equal([
        ['AccountOpened', undefined],
        ['PaymentDeclined', 22_000],
      ]);
      expect(await balanceOf(broker)).to.equal(0);

      await deposit('t2', 30_000);
      const rich = await place('t2', 'purchase', itemId, 20_000);
      await settle();
      expect((await dealOf(rich.order.orderId)).sellOrderId).to.equal(initialSellOrderId(itemId, 0));
      state = await market(itemId);
      expect(holdingOf(state, 't2')).to.deep.equal({ owned: 1, onSale: 0 });
      expect(await balanceOf('t2')).to.equal(8000);
      expect(await balanceOf('t1')).to.equal(0);
    });

    it('puts a unit in one deal only when many buyers bid at once from several processes', async () => {
      const buyers = Array.from({ length: 12 }, (_, i) => `b${i}`);
      for (const user of [broker, ...buyers]) await openAccount(env, user);
      for (const user of buyers) await deposit(user, 100_000);
      const itemId = await list();
      const processes = [env, freshEnv(), freshEnv()];
      const results = await Promise.all(
        buyers.map((user, i) =>
          placeOrder(processes[i % processes.length]!, {
            userId: user,
            side: 'purchase',
            itemId,
            price: 20_000 + i,
            uniqueId: uuid(),
          }),
        ),
      );
      expect(results.filter((r) => r.order.status === 'paymentPending')).to.have.length(1);
      expect(results.filter((r) => r.order.status === 'pending')).to.have.length(buyers.length - 1);
      expect(await ofType('DealOpened')).to.have.length(1);
      await settle();
      const state = await market(itemId);
      expect([...state.holdings.values()].reduce((sum, h) => sum + h.owned, 0)).to.equal(1);
      expect((await ofType('DealCompleted')).length).to.equal(1);
      const total = (await Promise.all([broker, ...buyers].map(balanceOf))).reduce((a, b) => a + b, 0);
      expect(total).to.equal(buyers.length * 100_000);
    });

    it('opens the account of a buyer or seller who has none yet, instead of stalling', async () => {
      await openAccount(env, 't1');
      await deposit('t1', 100_000);
      const itemId = await list(); // the broker has no account yet
      await place('t1', 'purchase', itemId, 20_000);
      await settle();
      expect(await balanceOf(broker)).to.equal(22_000);
      expect((await ofType('DealCompleted')).length).to.equal(1);
    });

    it('finishes a deal a crash cut short after its first step, without charging anything twice', async () => {
      for (const user of [broker, 't1', 't2']) await openAccount(env, user);
      await deposit('t2', 100_000);
      const itemId = await list();
      await deposit('t1', 100_000);
      await place('t1', 'purchase', itemId, 20_000);
      await settle();
      const offer = await place('t1', 'sell', itemId, 25_000);
      await place('t2', 'purchase', itemId, 25_000);
      const deal = await dealOf(offer.order.orderId);
      // The payment was made and the broker's commission written, then the process died.
      await handleCommand(env, {
        decider: account,
        streamId: accountStream('t2'),
        expects: 'existing',
        command: {
          type: 'PayFromAccount',
          operationId: dealOperationId(deal.dealId, 'payment'),
          amount: 27_500,
          purpose: { kind: 'deal', dealId: deal.dealId, itemId, itemName: 'sword', commission: 2500 },
          at: new Date().toISOString(),
        },
      });
      await handleCommand(env, {
        decider: account,
        streamId: accountStream(broker),
        expects: 'existing',
        command: {
          type: 'ReceiveCommission',
          operationId: dealOperationId(deal.dealId, 'buyer-commission'),
          amount: 2500,
          source: {
            fromUserId: 't2',
            kind: 'payment',
            operationId: dealOperationId(deal.dealId, 'payment'),
            dealId: deal.dealId,
          },
          at: new Date().toISOString(),
        },
      });
      await settle();
      expect(await balanceOf('t2')).to.equal(72_500);
      expect(await balanceOf('t1')).to.equal(78_000 + 22_500);
      expect(await balanceOf(broker)).to.equal(22_000 + 5000);
      expect((await ofType('DealCompleted')).length).to.equal(2);
    });
  });

  describe('redelivery', () => {
    it('redelivering every event again, in order, reversed and shuffled, several times, changes nothing more', async () => {
      await workedExample();
      // Money arriving late must not turn the declined payment of the first deal into a charge.
      await deposit('t1', 500_000);
      await settle();
      const before = snapshot(await all());
      const events = await all();
      const rnd = random(7);
      await redeliver(events);
      await redeliver([...events].reverse());
      for (let i = 0; i < 3; i++) await redeliver(rnd.shuffle(events));
      await settle();
      expect(snapshot(await all())).to.deep.equal(before);
    });

    it('redelivery to a restarted process (empty caches) changes nothing more either', async () => {
      await workedExample();
      await settle();
      const before = snapshot(await all());
      await redeliver(random(11).shuffle(await all()), processManagers(freshEnv()));
      expect(snapshot(await all())).to.deep.equal(before);
    });

    it('concurrent redelivery by several processes at once changes nothing more', async () => {
      await workedExample();
      const before = snapshot(await all());
      const events = await all();
      await Promise.all(
        [env, freshEnv(), freshEnv(), freshEnv()].map((e, i) =>
          redeliver(random(100 + i).shuffle(events), processManagers(e)),
        ),
      );
      expect(snapshot(await all())).to.deep.equal(before);
    });

    it('replaying the earlier steps of a deal after it completed (DealOpened, PaymentMade, AccrualReceived) changes nothing', async () => {
      const { high } = await workedExample();
      const deal = await dealOf(high.order.orderId);
      const before = snapshot(await all());
      const steps = (await all()).filter(
        (e) =>
          ['DealOpened', 'PaymentMade', 'AccrualReceived'].includes(e.type) &&
          JSON.stringify(e.data).includes(deal.dealId),
      );
      expect(steps.map((e) => e.type)).to.deep.equal(['DealOpened', 'PaymentMade', 'AccrualReceived']);
      for (let i = 0; i < 5; i++) await redeliver([steps[2]!, steps[0]!, steps[1]!]);
      expect(snapshot(await all())).to.deep.equal(before);
    });

    it('replaying a failed deal after its unit was sold to someone else does not resurrect it', async () => {
      for (const user of [broker, 't1', 't2']) await openAccount(env, user);
      const itemId = await list();
      const poor = await place('t1', 'purchase', itemId, 20_000);
      await settle();
      await deposit('t2', 100_000);
      await place('t2', 'purchase', itemId, 20_000);
      await settle();
      await deposit('t1', 100_000);
      const failedDeal = await dealOf(poor.order.orderId);
      const before = snapshot(await all());
      const replay = (await all()).filter((e) => JSON.stringify(e.data).includes(failedDeal.dealId));
      expect(replay.map((e) => e.type)).to.deep.equal(['DealOpened', 'PaymentDeclined', 'DealFailed']);
      await redeliver(replay);
      await redeliver([...replay].reverse());
      expect(snapshot(await all())).to.deep.equal(before);
      expect(await balanceOf('t1')).to.equal(100_000);
    });
  });

  describe('money is conserved', () => {
    for (const seed of [1, 2, 3]) {
      it(`after many random deals between several traders, some unable to pay (seed ${seed})`, async () => {
        const rnd = random(seed);
        const traders = ['a', 'b', 'c', 'd', 'e'];
        const users = [broker, ...traders];
        for (const user of users) await openAccount(env, user);
        const items = [
          await list(5, 20_000, 1000, 'sword'),
          await list(3, 11_100, 1250, 'shield'),
          await list(4, 999, 3000, 'potion'),
          await list(2, 50_000, 10, 'crown'),
        ];
        let deposited = 0;
        let withdrawn = 0;
        const ordersOf = new Map<string, { orderId: string; side: Side; itemId: string }[]>(users.map((u) => [u, []]));
        // The broker may take initial units off sale and offer them again at other prices.
        for (const itemId of items) {
          const state = await market(itemId);
          for (const orderId of state.active.keys()) ordersOf.get(broker)!.push({ orderId, side: 'sell', itemId });
        }
        // Two traders never deposit: every deal they open fails.
        for (const user of ['a', 'b', 'c']) {
          const amount = rnd.int(10_000, 200_000);
          await deposit(user, amount);
          deposited += amount;
        }
        let refusals = 0;
        for (let step = 0; step < 250; step++) {
          const user = rnd.pick(users);
          const itemId = rnd.pick(items);
          const roll = rnd.next();
          try {
            if (roll < 0.35) {
              const price = rnd.int(500, 60_000);
              const placed = await place(user, 'purchase', itemId, price);
              ordersOf.get(user)!.push({ orderId: placed.order.orderId, side: 'purchase', itemId });
            } else if (roll < 0.65) {
              const price = rnd.int(500, 60_000);
              const placed = await place(user, 'sell', itemId, price);
              ordersOf.get(user)!.push({ orderId: placed.order.orderId, side: 'sell', itemId });
            } else if (roll < 0.75) {
              const mine = ordersOf.get(user)!;
              if (mine.length > 0) {
                const o = rnd.pick(mine);
                await cancelOrder(env, { userId: user, orderId: o.orderId, side: o.side });
              }
            } else if (roll < 0.83 && user !== 'd' && user !== 'e') {
              const amount = rnd.int(100, 100_000);
              await deposit(user, amount);
              deposited += amount;
            } else if (roll < 0.9) {
              const amount = rnd.int(100, 80_000);
              await withdrawMoney(env, { userId: user, amount, operationId: uuid() });
              withdrawn += amount;
            }
          } catch (error) {
            if (!(error instanceof BusinessRuleViolation)) throw error;
            refusals += 1;
          }
          // The process managers lag behind the commands, sometimes by several steps.
          if (rnd.next() < 0.3) await settle();
        }
        await settle();

        const events = await all();
        const opened = events.filter((e) => e.type === 'DealOpened').map((e) => e.data as unknown as DealTerms);
        const completed = new Set(events.filter((e) => e.type === 'DealCompleted').map((e) => e.data.dealId));
        const failed = new Set(events.filter((e) => e.type === 'DealFailed').map((e) => e.data.dealId));
        expect(opened.length, 'some deals were opened').to.be.greaterThan(10);
        expect(failed.size, 'some deals failed').to.be.greaterThan(0);
        expect(refusals, 'some commands were refused').to.be.greaterThan(0);
        for (const deal of opened)
          expect(
            completed.has(deal.dealId) !== failed.has(deal.dealId),
            `deal ${deal.dealId} ended exactly once`,
          ).to.equal(true);

        // The sum of all balances is what came in minus what went out; no balance ever went below zero.
        const balances = await Promise.all(users.map(balanceOf));
        expect(balances.reduce((a, b) => a + b, 0)).to.equal(deposited - withdrawn);
        for (const e of events) if (typeof e.data.balance === 'number') expect(e.data.balance).to.be.at.least(0);
        for (const user of ['d', 'e']) expect(await balanceOf(user)).to.equal(0);

        // The broker earned exactly the commissions of the completed deals.
        const commissions = opened
          .filter((d) => completed.has(d.dealId))
          .reduce((sum, d) => sum + d.buyerCommission + d.sellerCommission, 0);
        const earned = events
          .filter((e) => e.type === 'CommissionReceived')
          .reduce((sum, e) => sum + (e.data.amount as number), 0);
        expect(earned).to.equal(commissions);

        // Every unit is somewhere, once; on-sale counts are the active sell orders; no deal is left open.
        for (const itemId of items) {
          const state = await market(itemId);
          const listedEvent = events.find((e) => e.type === 'ItemListed' && e.data.itemId === itemId)!;
          const owned = [...state.holdings.values()].reduce((sum, h) => sum + h.owned, 0);
          expect(owned).to.equal(listedEvent.data.initialCount);
          for (const [user, h] of state.holdings) {
            const selling = [...state.active.values()].filter((o) => o.side === 'sell' && o.ownerId === user).length;
            expect(h.onSale, `on sale of ${user}`).to.equal(selling);
            expect(h.onSale).to.be.at.most(h.owned);
          }
          expect(state.deals.size).to.equal(0);
        }

        // And all of it survives a full redelivery.
        const before = snapshot(events);
        await redeliver(rnd.shuffle(events), [dealSettlement(env), orderPayment(env)]);
        expect(snapshot(await all())).to.deep.equal(before);
      });
    }
  });

  describe('order placement', () => {
    /** Records a submission in the trader's stream only, as a crash right after it would leave it. */
    const submitOnly = (userId: string, side: Side, itemId: string, price: Cents, orderId = uuid()) =>
      handleCommand(env, {
        decider: traderOrders,
        streamId: traderOrdersStream(userId),
        expects: 'any',
        command: { type: 'SubmitOrder', userId, orderId, side, itemId, price, at: new Date().toISOString() },
      }).then(() => orderId);

    it('finishes an order that was submitted but never reached the market, and the deal it matches settles', async () => {
      await openAccount(env, 't1');
      await deposit('t1', 100_000);
      const itemId = await list();
      const orderId = await submitOnly('t1', 'purchase', itemId, 20_000);
      expect(findOrder(await market(itemId), orderId)).to.equal(null);
      await settle();
      const state = await market(itemId);
      expect(findOrder(state, orderId)!.status).to.equal('approved');
      expect(holdingOf(state, 't1')).to.deep.equal({ owned: 1, onSale: 0 });
      expect(await balanceOf('t1')).to.equal(78_000);
    });

    it('leaves an order that already reached the market as it is', async () => {
      await openAccount(env, 't1');
      const itemId = await list();
      const placed = await place('t1', 'purchase', itemId, 10_000);
      await settle();
      const before = snapshot(await all());
      await redeliver(await ofType('OrderSubmitted'));
      expect(snapshot(await all())).to.deep.equal(before);
      expect((await ofType('PurchaseOrderPlaced')).map((e) => e.data.orderId)).to.deep.equal([placed.order.orderId]);
    });

    it('does not touch the event store for an order its market is known to hold', async () => {
      await openAccount(env, 't1');
      const itemId = await list();
      const bid = await place('t1', 'purchase', itemId, 10_000);
      const [submitted] = (await ofType('OrderSubmitted')).filter((e) => e.data.orderId === bid.order.orderId);
      const calls: string[] = [];
      const watched: EventStore = {
        ...store,
        readStream: (...args) => {
          calls.push(`read ${args[0]}`);
          return store.readStream(...args);
        },
        appendToStream: (...args) => {
          calls.push(`append ${args[0]}`);
          return store.appendToStream(...args);
        },
      };
      await orderPlacement({ ...env, eventStore: watched }).handle(submitted!, noView, noFloor);
      expect(calls).to.deep.equal([]);
      // Without the market in its cache, the process manager reads it once, and still changes nothing.
      await orderPlacement({ ...env, eventStore: watched, cache: new StreamStateCache() }).handle(
        submitted!,
        noView,
        noFloor,
      );
      expect(calls).to.deep.equal([`read ${marketStream(itemId)}`]);
    });

    it('a placement the process manager entered first answers as the order entered the book, not as it stands now', async () => {
      await openAccount(env, 't1');
      await deposit('t1', 100_000);
      const itemId = await list(1, 30_000);
      const uniqueId = uuid();
      // The submission is recorded and the process manager enters it (it rests: the ask is dearer)…
      await submitOnly('t1', 'purchase', itemId, 20_000, orderIdFor(itemId, uniqueId));
      await settle([orderPlacement(env)]);
      // …then a crossing ask takes it into a deal before the request's own attempt gets to the market.
      await cancelOrder(env, { userId: broker, orderId: initialSellOrderId(itemId, 0), side: 'sell' });
      const ask = await place(broker, 'sell', itemId, 20_000);
      expect(ask.order.status).to.equal('dealPending');
      const bid = await place('t1', 'purchase', itemId, 20_000, uniqueId);
      expect(bid.order).to.include({ orderId: orderIdFor(itemId, uniqueId), status: 'pending' });
      expect(findOrder(await market(itemId), bid.order.orderId)!.status).to.equal('paymentPending');
      expect(await ofType('PurchaseOrderPlaced')).to.have.length(1);
    });

    it('records a rejection for an impossible order, once, and does not fail', async () => {
      const itemId = await list();
      const orderId = await submitOnly('t1', 'sell', itemId, 20_000);
      await settle();
      const rejected = await ofType('OrderRejected');
      expect(rejected.map((e) => e.data)).to.deep.equal([
        { userId: 't1', orderId, reason: 'no trading items for sale', at: rejected[0]!.data.at },
      ]);
      expect((await ofType('SellOrderPlaced')).length).to.equal(0);
      const before = snapshot(await all());
      await redeliver(await ofType('OrderSubmitted'));
      await redeliver(await ofType('OrderSubmitted'));
      expect(snapshot(await all())).to.deep.equal(before);
      const { state } = await loadStream(env, traderOrders, traderOrdersStream('t1'));
      expect(state.rejected.has(orderId)).to.equal(true);
    });

    it('redelivering the OrderSubmitted of a rejected sell order, after the trader got a unit, does not place it', async () => {
      await openAccount(env, 't1');
      await deposit('t1', 100_000);
      const itemId = await list();
      // t1 offers a unit they do not have: 422 'no trading items for sale', recorded as OrderRejected.
      const uniqueId = uuid();
      const rejectedId = orderIdFor(itemId, uniqueId);
      const refusal = await place('t1', 'sell', itemId, 99_000, uniqueId).catch((e: unknown) => e);
      expect(refusal).to.be.instanceOf(BusinessRuleViolation);
      expect((await ofType('OrderRejected')).map((e) => e.data.orderId)).to.deep.equal([rejectedId]);
      // Later t1 buys a unit (the process managers lag behind, as subscriptions do).
      await place('t1', 'purchase', itemId, 20_000);
      await settle([dealSettlement(env)]);
      expect(holdingOf(await market(itemId), 't1')).to.deep.equal({ owned: 1, onSale: 0 });
      const before = snapshot(await all());
      // The order-placement process manager now gets (or gets again) the rejected order's OrderSubmitted.
      await redeliver((await ofType('OrderSubmitted')).filter((e) => e.data.orderId === rejectedId));
      const after = await all();
      const placedLater = after.filter((e) => e.type === 'SellOrderPlaced' && e.data.orderId === rejectedId);
      expect(
        placedLater.map((e) => e.data),
        'a refused order entered the market afterwards',
      ).to.deep.equal([]);
      expect(findOrder(await market(itemId), rejectedId)).to.equal(null);
      expect(snapshot(after)).to.deep.equal(before);
    });
  });

  describe('order payment', () => {
    it('pays a plain order from the balance, or fails it charging nothing (the scenario of the specification)', async () => {
      await openAccount(env, 'u1');
      expect(await balanceOf('u1')).to.equal(0);
      await deposit('u1', 100_000);
      const first = await createCustomerOrder(env, { userId: 'u1', orderId: uuid(), price: 60_000 });
      expect(first.order.status).to.equal('pending');
      await settle();
      let orders = (await loadStream(env, customerOrders, customerOrdersStream('u1'))).state;
      expect(customerOrderOf(orders, first.order.id)!.status).to.equal('succeeded');
      expect(await balanceOf('u1')).to.equal(40_000);
      const payment = (await streamEvents(accountStream('u1'))).at(-1)!;
      expect(payment.type).to.equal('PaymentMade');
      expect(payment.data).to.deep.include({
        amount: 60_000,
        operationId: first.order.id,
        purpose: { kind: 'order', orderId: first.order.id },
      });

      const second = await createCustomerOrder(env, { userId: 'u1', orderId: uuid(), price: 60_000 });
      await settle();
      orders = (await loadStream(env, customerOrders, customerOrdersStream('u1'))).state;
      expect(customerOrderOf(orders, second.order.id)!.status).to.equal('failed');
      expect(await balanceOf('u1')).to.equal(40_000);
      const outcomes = (await streamEvents(customerOrdersStream('u1'))).map((e) => [e.type, e.data.orderId]);
      expect(outcomes).to.deep.equal([
        ['OrderCreated', first.order.id],
        ['OrderSucceeded', first.order.id],
        ['OrderCreated', second.order.id],
        ['OrderFailed', second.order.id],
      ]);
      expect((await ofType('OrderFailed'))[0]!.data).to.include({ reason: 'insufficient_funds', price: 60_000 });
    });

    it('is idempotent: redelivery, even after the money arrived, changes nothing; a repeated create makes no second order', async () => {
      await openAccount(env, 'u1');
      await deposit('u1', 100_000);
      const orderId = uuid();
      await createCustomerOrder(env, { userId: 'u1', orderId, price: 60_000 });
      await createCustomerOrder(env, { userId: 'u1', orderId, price: 60_000 });
      await createCustomerOrder(env, { userId: 'u1', orderId: 'second', price: 60_000 });
      await settle();
      await deposit('u1', 500_000);
      const before = snapshot(await all());
      const events = await all();
      await redeliver(events);
      await redeliver([...events].reverse(), processManagers(freshEnv()));
      await Promise.all([redeliver(events), redeliver(random(5).shuffle(events), processManagers(freshEnv()))]);
      expect(snapshot(await all())).to.deep.equal(before);
      expect(await balanceOf('u1')).to.equal(540_000);
      expect((await ofType('PaymentMade')).length).to.equal(1);
      expect((await ofType('PaymentDeclined')).length).to.equal(1);
    });

    it('leaves deal payments to the deal settlement, and the deal settlement leaves order payments alone', async () => {
      await openAccount(env, 't1');
      await deposit('t1', 100_000);
      const itemId = await list();
      await createCustomerOrder(env, { userId: 't1', orderId: 'o1', price: 10_000 });
      await place('t1', 'purchase', itemId, 20_000);
      await settle();
      expect(await balanceOf('t1')).to.equal(100_000 - 10_000 - 22_000);
      expect((await ofType('OrderSucceeded')).length).to.equal(1);
      expect((await ofType('DealCompleted')).length).to.equal(1);
      expect((await streamEvents(customerOrdersStream('t1'))).map((e) => e.type)).to.deep.equal([
        'OrderCreated',
        'OrderSucceeded',
      ]);
    });
  });
});
