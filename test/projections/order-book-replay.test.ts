/**
 * The order book read model equals the market's own state. Random order flows (placements
 * on both sides at a few prices, cancels, deals paid, failed and completed) are decided by
 * the market itself (domain/trading/market.ts); after every event, folded by the market and
 * projected by the market-data projection (committed alone, as a runner may), the book the
 * API shows (every price level, best first) and the summary's counts and best prices are
 * compared with the market's bids and asks. On SQLite, and on MongoDB when MONGODB_URI is set.
 */
import { expect } from 'chai';
import { BusinessRuleViolation } from '../../domain/decider.js';
import { marketStream, type MarketEvent } from '../../domain/trading/events.js';
import { market, type MarketCommand, type MarketState } from '../../domain/trading/market.js';
import type { ReadStore } from '../../infra/eventsourcing/read-store/read-store.js';
import { BatchView } from '../../infra/eventsourcing/subscriptions/batch-view.js';
import { openMongoReadStore } from '../../infra/mongodb/mongo-read-store.js';
import { openSqliteReadStore } from '../../infra/sqlite/read-store/sqlite-read-store.js';
import { marketDataProjection } from '../../projections/market.js';
import { orderBookOf, quoteOf } from '../../read-api/market.js';
import { dropDatabases, mongoTitle, mongoUri, skipWithoutMongo, uniqueDbName } from '../support/mongo-target.js';
import { positionOf } from '../support/projection-spec.js';
import { random, type Random } from '../support/random.js';

const ITEM = 'item-1';
const BROKER = 'broker';
const TRADERS = ['ann', 'bob', 'cy', BROKER];
/** Few prices, so orders meet and levels fill and empty again; all within the book's depth. */
const PRICES = [480, 490, 500, 510, 520, 530];

/** One random flow: the market and the read store side by side. */
class Flow {
  state: MarketState = market.initialState();
  private events = 0;
  private commands = 0;

  constructor(
    private readonly readStore: ReadStore,
    private readonly rnd: Random,
  ) {}

  /** Decides a command on the market's state; each event is folded, projected and compared. */
  async run(command: MarketCommand): Promise<void> {
    let decided: MarketEvent[];
    try {
      decided = market.decide(command, this.state);
    } catch (error) {
      if (error instanceof BusinessRuleViolation) return; // refused: nothing happened
      throw error;
    }
    for (const event of decided) {
      this.state = market.evolve(this.state, event);
      await this.project(event);
      await expectSameBook(this.readStore, this.state, `after event ${this.events} (${event.type})`);
    }
  }

  private async project(event: MarketEvent): Promise<void> {
    const n = this.events++;
    const recorded = {
      id: `e${n}`,
      type: event.type,
      streamId: marketStream(ITEM),
      revision: n,
      position: positionOf(n),
      // Domain events' data are JSON objects by construction (domain/event-schema.ts).
      data: event.data as never,
      metadata: {},
      created: new Date(0),
    };
    const ops = await marketDataProjection.handle(recorded, new BatchView(this.readStore), { redeliveryFloor: -1 });
    await this.readStore.commit(marketDataProjection.name, [{ position: recorded.position, ops }], recorded.position);
  }

  /** A random next command: mostly placements, then what moves deals and cancels along. */
  next(): MarketCommand {
    const n = this.commands++;
    const at = new Date(Date.UTC(2026, 2, 1, 10, 0, n)).toISOString();
    const deals = [...this.state.deals.values()];
    const pending = [...this.state.active.values()].filter((o) => o.status === 'pending');
    const roll = this.rnd.next();
    if (roll < 0.15 && deals.some((d) => !d.paid)) {
      const deal = this.rnd.pick(deals.filter((d) => !d.paid));
      return this.rnd.chance(0.5)
        ? { type: 'MarkDealPaid', dealId: deal.dealId, at }
        : { type: 'FailDeal', dealId: deal.dealId, reason: 'insufficient_funds', rematchDealId: `r${n}`, at };
    }
    if (roll < 0.3 && deals.some((d) => d.paid)) {
      return { type: 'CompleteDeal', dealId: this.rnd.pick(deals.filter((d) => d.paid)).dealId, at };
    }
    if (roll < 0.4 && pending.length > 0) {
      const order = this.rnd.pick(pending);
      return { type: 'CancelOrder', orderId: order.orderId, side: order.side, requesterId: order.ownerId, at };
    }
    const trader = this.rnd.pick(TRADERS);
    const placement = { orderId: `${ITEM}.o${n}`, price: this.rnd.pick(PRICES), dealId: `d${n}`, at };
    return this.rnd.chance(0.5)
      ? { type: 'PlacePurchaseOrder', buyerId: trader, ...placement }
      : { type: 'PlaceSellOrder', sellerId: trader, ...placement };
  }
}

/** The market's book, by price level best first, as the API shows it. */
function bookOf(state: MarketState) {
  const side = (levels: MarketState['bids'], direction: 1 | -1) =>
    [...levels.entries()]
      .sort(([a], [b]) => direction * (a - b))
      .map(([price, orders]) => ({ price, units: orders.size, orders: orders.size }));
  return { bids: side(state.bids, -1), asks: side(state.asks, 1) };
}

async function expectSameBook(readStore: ReadStore, state: MarketState, when: string): Promise<void> {
  const expected = bookOf(state);
  expect(await orderBookOf(readStore, ITEM, 100), `the book ${when}`).to.deep.equal(expected);
  const quote = await quoteOf(readStore, ITEM);
  const count = (levels: { orders: number }[]) => levels.reduce((sum, l) => sum + l.orders, 0);
  expect(
    {
      bestBid: quote.bestBid,
      bestAsk: quote.bestAsk,
      openPurchaseOrders: quote.openPurchaseOrders,
      openSellOrders: quote.openSellOrders,
    },
    `the summary ${when}`,
  ).to.deep.equal({
    bestBid: expected.bids[0]?.price ?? null,
    bestAsk: expected.asks[0]?.price ?? null,
    openPurchaseOrders: count(expected.bids),
    openSellOrders: count(expected.asks),
  });
}

interface Store {
  title: string;
  flows: number;
  steps: number;
  open(): Promise<ReadStore>;
  cleanup(): Promise<void>;
}

function stores(): Store[] {
  const all: Store[] = [
    {
      title: 'SQLite',
      flows: 8,
      steps: 200,
      open: async () => openSqliteReadStore({ file: ':memory:' }),
      cleanup: async () => undefined,
    },
  ];
  if (mongoUri) {
    const uri = mongoUri;
    const databases: string[] = [];
    all.push({
      title: mongoTitle,
      flows: 3,
      steps: 120,
      open: async () => {
        const dbName = uniqueDbName('order_book_replay');
        databases.push(dbName);
        return openMongoReadStore({ uri, dbName });
      },
      cleanup: () => dropDatabases(databases.splice(0)),
    });
  }
  return all;
}

describe('the order book read model equals the market: random order flows, compared after every event', function () {
  this.timeout(300_000);
  for (const store of stores()) {
    it(`on ${store.title}: ${store.flows} flows of ${store.steps} commands`, async () => {
      for (let seed = 1; seed <= store.flows; seed++) {
        const readStore = await store.open();
        try {
          await readStore.ensureCollections(marketDataProjection.collections);
          const flow = new Flow(readStore, random(seed));
          const listing = { itemId: ITEM, name: 'Lamp', initialCount: 4, initialPrice: 500 };
          const at = '2026-03-01T09:00:00.000Z';
          await flow.run({ type: 'ListItem', ...listing, commissionBasisPoints: 500, brokerId: BROKER, at });
          for (let step = 0; step < store.steps; step++) await flow.run(flow.next());
          // The flow did trade: deals were opened, and orders rest on both sides at some point.
          expect(flow.state.nextSeq, `seed ${seed}`).to.be.greaterThan(store.steps / 4);
        } catch (error) {
          throw new Error(`seed ${seed}: ${(error as Error).message}`);
        } finally {
          await readStore.close();
        }
      }
      await store.cleanup();
    });
  }
  if (!mongoUri) skipWithoutMongo('the order book replay on MongoDB');
});
