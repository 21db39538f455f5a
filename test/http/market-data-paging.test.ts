/**
 * Candles a page of at most 1,000 at a time, the next page named by `Link`, and the last 24
 * hours of the market summary counted to the minute — over HTTP, on read models a busy
 * item's history left (1,001 deals, a minute apart, at prices that move), built by the
 * projections themselves from events with the times they need. On the read store the HTTP
 * suites run on (SQLite, or MongoDB with TEST_READ_STORE=mongo), behind the real routes.
 */
import { expect } from 'chai';
import type { MarketEvent } from '../../domain/trading/events.js';
import type { ReadStore } from '../../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler } from '../../infra/eventsourcing/subscriptions/event-handler.js';
import { BatchView } from '../../infra/eventsourcing/subscriptions/batch-view.js';
import { createHttpApp, listen, type RunningServer } from '../../infra/http/server.js';
import { openMongoReadStore } from '../../infra/mongodb/mongo-read-store.js';
import { openSqliteReadStore } from '../../infra/sqlite/read-store/sqlite-read-store.js';
import { marketDataProjection } from '../../projections/market.js';
import { tradingProjection } from '../../projections/trading.js';
import { testReadStore } from '../support/api-server.js';
import { dropDatabases, mongoUri, uniqueDbName } from '../support/mongo-target.js';
import { positionOf } from '../support/projection-spec.js';
import { Client, itHttp, nextLink, type JsonBody } from './client.js';

const ITEM = 'busy-item';
const DEALS = 1_001;
const FIRST_DEAL = Date.parse('2026-03-01T00:00:30.000Z');
/** 24 hours before "now" is 00:10:45 on the first day: the first ten deals are older. */
const NOW = new Date('2026-03-02T00:10:45.000Z');
const priceOf = (deal: number) => 1_000 + ((deal * 37) % 101);

function history(): MarketEvent[] {
  const listed: MarketEvent = {
    type: 'ItemListed',
    data: {
      itemId: ITEM,
      name: 'Busy',
      initialCount: 1,
      initialPrice: 1_000,
      commissionBasisPoints: 500,
      brokerId: 'b',
      at: new Date(FIRST_DEAL - 60_000).toISOString(),
    },
  };
  const deals = Array.from({ length: DEALS }, (_, n): MarketEvent => {
    const terms = { dealId: `d${n}`, itemId: ITEM, itemName: 'Busy', purchaseOrderId: `${ITEM}.p${n}` };
    return {
      type: 'DealCompleted',
      data: {
        ...terms,
        sellOrderId: `${ITEM}.s${n}`,
        buyerId: 'u1',
        sellerId: 'u2',
        brokerId: 'b',
        price: priceOf(n),
        buyerCommission: 50,
        sellerCommission: 50,
        at: new Date(FIRST_DEAL + n * 60_000).toISOString(),
      },
    };
  });
  return [listed, ...deals];
}

/** Hands the events to the projection as its runner would, 100 to a batch. */
async function project(readStore: ReadStore, handler: EventHandler, events: MarketEvent[]): Promise<void> {
  await readStore.ensureCollections(handler.collections);
  for (let from = 0; from < events.length; from += 100) {
    const view = new BatchView(readStore);
    const batch = [];
    for (const [i, event] of events.slice(from, from + 100).entries()) {
      const position = positionOf(from + i);
      const recorded = {
        id: `e${from + i}`,
        type: event.type,
        streamId: `market-${ITEM}`,
        revision: from + i,
        position,
        // Domain events' data are JSON objects by construction (domain/event-schema.ts).
        data: event.data as never,
        metadata: {},
        created: new Date(0),
      };
      const ops = await handler.handle(recorded, view, { redeliveryFloor: -1 });
      view.record(position, ops);
      batch.push({ position, ops });
    }
    await readStore.commit(handler.name, batch, batch[batch.length - 1]!.position);
  }
}

describe('HTTP candles a page at a time, and the last 24 hours to the minute', function () {
  this.timeout(120_000);
  let readStore: ReadStore;
  let running: RunningServer;
  let api: Client;
  const databases: string[] = [];

  before(async () => {
    if (testReadStore === 'mongo') {
      const dbName = uniqueDbName('candle_pages');
      databases.push(dbName);
      readStore = await openMongoReadStore({ uri: mongoUri!, dbName });
    } else {
      readStore = openSqliteReadStore({ file: ':memory:' });
    }
    const events = history();
    await project(readStore, tradingProjection, events.slice(0, 1));
    await project(readStore, marketDataProjection, events);
    // Only the read store and the clock are used by the market data routes; the rest is never called.
    const unused = {} as never;
    const app = createHttpApp({
      dependencies: [],
      logError: () => undefined,
      api: {
        services: { readStore, now: () => NOW } as never,
        tokens: unused,
        signedOut: { isSignedOut: async () => false },
        gate: unused,
        readYourWritesTimeoutMs: 1000,
      },
    });
    running = await listen(app, 0, '127.0.0.1');
    api = new Client(`http://127.0.0.1:${running.port}`);
  });
  after(async () => {
    await running?.close(1000);
    await readStore?.close();
    await dropDatabases(databases);
  });

  /** Every page from `path` on, following `Link`. */
  async function allPages(path: string): Promise<JsonBody[][]> {
    const pages: JsonBody[][] = [];
    for (let next: string | null = path; next !== null; ) {
      const answer = await api.get(next);
      expect(answer.status, answer.text).to.equal(200);
      pages.push(answer.body);
      next = nextLink(answer);
    }
    return pages;
  }

  itHttp(
    '1,001 minutes of deals: 1,000 candles, then a Link to the last one; a smaller limit pages the same candles',
    async () => {
      const path = `/api/v1/trading/items/${ITEM}/candles?interval=1m`;
      const pages = await allPages(path);
      expect(pages.map((p) => p.length)).to.deep.equal([1_000, 1]);
      const all = pages.flat();
      expect(all.map((c) => c.start)).to.deep.equal(
        Array.from({ length: DEALS }, (_, n) => new Date(FIRST_DEAL - 30_000 + n * 60_000).toISOString()),
      );
      expect(all[5]).to.deep.equal({
        start: '2026-03-01T00:05:00.000Z',
        open: priceOf(5) / 100,
        high: priceOf(5) / 100,
        low: priceOf(5) / 100,
        close: priceOf(5) / 100,
        volume: 1,
        deals: 1,
      });
      const smaller = await allPages(`${path}&limit=400`);
      expect(smaller.map((p) => p.length)).to.deep.equal([400, 400, 201]);
      expect(smaller.flat()).to.deep.equal(all);
      const bounded = await allPages(`${path}&from=2026-03-01T00:10:00Z&to=2026-03-01T00:20:00Z&limit=4`);
      expect(bounded.map((p) => p.length)).to.deep.equal([4, 4, 2]);
    },
  );

  itHttp('an hour: its first and last deal, the highest and lowest price, sixty deals', async () => {
    const [hours] = await allPages(`/api/v1/trading/items/${ITEM}/candles?interval=1h&limit=1`);
    const prices = Array.from({ length: 60 }, (_, n) => priceOf(n) / 100);
    expect(hours).to.deep.equal([
      {
        start: '2026-03-01T00:00:00.000Z',
        open: prices[0],
        high: Math.max(...prices),
        low: Math.min(...prices),
        close: prices[59],
        volume: 60,
        deals: 60,
      },
    ]);
    const days = await allPages(`/api/v1/trading/items/${ITEM}/candles?interval=1d`);
    expect(days.flat().map((c) => [c.start, c.deals])).to.deep.equal([['2026-03-01T00:00:00.000Z', DEALS]]);
  });

  itHttp('the summary counts the deals since the minute 24 hours ago: all but the first ten', async () => {
    const answer = await api.get(`/api/v1/trading/items/${ITEM}`);
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body.market).to.deep.equal({
      bestBid: null,
      bestAsk: 10,
      lastPrice: priceOf(DEALS - 1) / 100,
      lastDealAt: new Date(FIRST_DEAL + (DEALS - 1) * 60_000).toISOString(),
      units24h: DEALS - 10,
      deals24h: DEALS - 10,
      openPurchaseOrders: 0,
      openSellOrders: 1,
    });
  });
});
