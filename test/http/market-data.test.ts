/**
 * Market data and order tracking over HTTP, on a real listening server per event store
 * (and on the MongoDB read store with TEST_READ_STORE=mongo): an item with its market
 * summary, its order book and its candles (public, like the statistics), the items list
 * with each item's quote; one order for its owner (403 for another's, 404 unknown) with the
 * deal it is in and why it failed; the order lists by `status`, newest first, paged.
 * Candle pages of 1,000 and their `Link`: market-data-paging.test.ts.
 */
import { expect } from 'chai';
import {
  withApiServer,
  type Client,
  eventStores,
  expectError,
  expectViolation,
  ISO_UTC,
  itHttp,
  nextLink,
  type JsonBody,
} from './client.js';
import { eventually, Market, pathOf, TEXTS, type Side } from './trading-client.js';

const UNKNOWN_ID = '0b7e4a52-5b8c-4f0e-9d8e-2d1c3b4a5f60';

for (const eventStore of eventStores) {
  describe(`HTTP market data and order tracking (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let api: Client;
    let market: Market;
    withApiServer(eventStore, (_server, client) => {
      api = client;
      market = new Market(client);
    });

    /** `GET path` without a token, 200 expected. */
    async function publicly(path: string): Promise<JsonBody> {
      const answer = await api.get(path);
      expect(answer.status, answer.text).to.equal(200);
      return answer.body;
    }

    /** A deal on `itemId` at the ask: a fresh funded trader bids `price` and the deal completes. */
    async function dealAt(itemId: string, price: number): Promise<{ orderId: string; token: string }> {
      const buyer = await market.trader(10_000);
      const { order } = await market.placed(buyer.token, 'purchase', itemId, price);
      await eventually(
        async () => expect((await market.deals(buyer.token)).length).to.equal(1),
        5000,
        'the deal completed',
      );
      return { orderId: order.id, token: buyer.token };
    }

    describe('market data (public)', () => {
      itHttp(
        'GET /trading/items/{itemId}: the item with its market summary, as orders rest and deals complete',
        async () => {
          const item = await market.newItem({ initialCount: 3, initialPrice: 100, commissionPercent: 10 });
          const path = `/api/v1/trading/items/${item.id}`;
          const { position: _p, ...listed } = item;
          await eventually(async () => {
            expect(await publicly(path)).to.deep.equal({
              ...listed,
              market: {
                bestBid: null,
                bestAsk: 100,
                lastPrice: null,
                lastDealAt: null,
                units24h: 0,
                deals24h: 0,
                openPurchaseOrders: 0,
                openSellOrders: 3,
              },
            });
          });
          await dealAt(item.id, 100);
          const bidder = await market.trader(1_000);
          await market.placed(bidder.token, 'purchase', item.id, 42.5);
          await eventually(async () => {
            const { market: summary } = await publicly(path);
            expect(summary).to.deep.include({
              bestBid: 42.5,
              bestAsk: 100,
              lastPrice: 100,
              units24h: 1,
              deals24h: 1,
              openPurchaseOrders: 1,
              openSellOrders: 2,
            });
            expect(summary.lastDealAt).to.match(ISO_UTC);
          });
          expectError(await api.get(`/api/v1/trading/items/${UNKNOWN_ID}`), 404, TEXTS.notFound);
          expectViolation(await api.get(`/api/v1/trading/items/${'x'.repeat(129)}`), 'itemId');
        },
      );

      itHttp(
        'GET /trading/items/{itemId}/order-book: levels best first, `depth` of them, units and orders, no owners',
        async () => {
          const item = await market.newItem({ initialCount: 2, initialPrice: 100 });
          const [ann, bob] = [await market.trader(1_000), await market.trader(1_000)];
          for (const [t, price] of [
            [ann, 50],
            [bob, 50],
            [ann, 60],
            [bob, 40.25],
          ] as const)
            await market.placed(t.token, 'purchase', item.id, price);
          const path = `/api/v1/trading/items/${item.id}/order-book`;
          await eventually(async () => {
            expect(await publicly(path)).to.deep.equal({
              itemId: item.id,
              bids: [
                { price: 60, units: 1, orders: 1 },
                { price: 50, units: 2, orders: 2 },
                { price: 40.25, units: 1, orders: 1 },
              ],
              asks: [{ price: 100, units: 2, orders: 2 }],
            });
          });
          expect((await publicly(`${path}?depth=2`)).bids.map((l: JsonBody) => l.price)).to.deep.equal([60, 50]);
          expect((await publicly(`${path}?depth=100`)).bids).to.have.length(3);
          for (const depth of ['0', '101', 'abc', '1.5'])
            expectViolation(await api.get(`${path}?depth=${depth}`), 'depth');
          expectError(await api.get(`/api/v1/trading/items/${UNKNOWN_ID}/order-book`), 404, TEXTS.notFound);
        },
      );

      itHttp(
        'GET /trading/items/{itemId}/candles: a completed deal in its minute, hour and day; `from`/`to` bound them',
        async () => {
          const item = await market.newItem({ initialCount: 2, initialPrice: 100 });
          await dealAt(item.id, 100);
          await dealAt(item.id, 100);
          const path = `/api/v1/trading/items/${item.id}/candles`;
          const day = await eventually(async () => {
            const candles = await publicly(`${path}?interval=1d`);
            expect(candles).to.have.length(1);
            expect(candles[0]).to.deep.include({ open: 100, high: 100, low: 100, close: 100, volume: 2, deals: 2 });
            return candles[0];
          });
          expect(day.start).to.match(/T00:00:00\.000Z$/);
          for (const interval of ['1m', '1h']) {
            const candles: JsonBody[] = await publicly(`${path}?interval=${interval}`);
            expect(
              candles.reduce((sum, c) => sum + c.deals, 0),
              interval,
            ).to.equal(2);
          }
          const tomorrow = new Date(Date.parse(day.start) + 86_400_000).toISOString();
          expect(await publicly(`${path}?interval=1d&from=${tomorrow}`)).to.deep.equal([]);
          expect(await publicly(`${path}?interval=1d&to=${encodeURIComponent(day.start)}`)).to.deep.equal([]);
          expect(await publicly(`${path}?interval=1d&from=${day.start}&to=${tomorrow}`)).to.deep.equal([day]);
          const answer = await api.get(`${path}?interval=1d`);
          expect(answer.headers.get('link'), 'one page').to.equal(null);

          expectViolation(await api.get(path), 'interval');
          expectViolation(await api.get(`${path}?interval=5m`), 'interval');
          expectViolation(await api.get(`${path}?interval=1h&from=yesterday`), 'from');
          expectViolation(await api.get(`${path}?interval=1h&from=${tomorrow}&to=${day.start}`), 'to');
          expectViolation(await api.get(`${path}?interval=1h&limit=1001`), 'limit');
          expectError(await api.get(`/api/v1/trading/items/${UNKNOWN_ID}/candles?interval=1h`), 404, TEXTS.notFound);
        },
      );

      itHttp('GET /trading/items: each item with its best bid, best ask and last price', async () => {
        const item = await market.newItem({ initialCount: 2, initialPrice: 100, name: `aaa-quote ${Date.now()}` });
        await dealAt(item.id, 100);
        const bidder = await market.trader(1_000);
        await market.placed(bidder.token, 'purchase', item.id, 70);
        await eventually(async () => {
          const answer = await market.items(bidder.token, '?limit=500');
          expect(answer.status, answer.text).to.equal(200);
          const found = (answer.body as JsonBody[]).find((i) => i.id === item.id);
          expect(found).to.include({ bestBid: 70, bestAsk: 100, lastPrice: 100 });
        });
      });
    });

    describe('order tracking', () => {
      const orderPath = (side: Side, id: string) => `${pathOf(side)}/${encodeURIComponent(id)}`;

      itHttp(
        'GET /trading/purchase-orders/{id}: the owner sees status, deal and price; another user 403; unknown 404',
        async () => {
          const item = await market.newItem({ initialPrice: 100 });
          const { orderId, token } = await dealAt(item.id, 100);
          const seller = await market.broker();
          // The deal is in the history; the orders' own read models may take a moment longer.
          await eventually(async () => {
            const answer = await api.get(orderPath('purchase', orderId), { token });
            expect(answer.status, answer.text).to.equal(200);
            expect(answer.body).to.include({
              id: orderId,
              itemId: item.id,
              side: 'purchase',
              price: 100,
              status: 'approved',
            });
            expect(answer.body.dealId).to.be.a('string');
            expect(answer.body.failure).to.equal(null);
            const unit = await api.get(orderPath('sell', `${item.id}-u0`), { token: seller.token });
            expect(unit.status, unit.text).to.equal(200);
            expect(unit.body).to.include({ side: 'sell', status: 'approved', dealId: answer.body.dealId });
          }, 15_000);

          const stranger = await market.trader();
          expectError(
            await api.get(orderPath('purchase', orderId), { token: stranger.token }),
            403,
            TEXTS.operationDenied,
          );
          expectError(await api.get(orderPath('sell', orderId), { token }), 404, TEXTS.notFound);
          expectError(await api.get(orderPath('purchase', `${item.id}.${UNKNOWN_ID}`), { token }), 404, TEXTS.notFound);
          expectViolation(await api.get(orderPath('purchase', 'x'.repeat(129)), { token }), 'id');
          expectError(await api.get(orderPath('purchase', orderId)), 401);
        },
      );

      itHttp(
        'a failed purchase says why; the lists take status=pending|approved|failed|canceled|all, newest first',
        async () => {
          const item = await market.newItem({ initialCount: 2, initialPrice: 100 });
          const broke = await market.trader(0);
          const failed = (await market.placed(broke.token, 'purchase', item.id, 100)).order;
          await eventually(async () => {
            const answer = await api.get(orderPath('purchase', failed.id), { token: broke.token });
            expect(answer.body).to.deep.include({
              status: 'paymentFailed',
              failure: { code: 'insufficient_funds', message: 'not enough money' },
            });
            expect(answer.body.dealId).to.be.a('string');
          });
          await api.funded(broke.token, 1_000);
          const bought = (await market.placed(broke.token, 'purchase', item.id, 100)).order;
          const canceled = (await market.placed(broke.token, 'purchase', item.id, 10)).order;
          expect((await market.cancel(broke.token, 'purchase', canceled.id)).status).to.equal(200);
          const resting = (await market.placed(broke.token, 'purchase', item.id, 20)).order;
          const list = async (status?: string) => {
            const answer = await api.get(`${pathOf('purchase')}${status ? `?status=${status}` : ''}`, {
              token: broke.token,
            });
            expect(answer.status, answer.text).to.equal(200);
            return (answer.body as JsonBody[]).map((o) => o.id);
          };
          await eventually(async () => {
            expect(await list('approved')).to.deep.equal([bought.id]);
            expect(await list()).to.deep.equal([resting.id]);
            expect(await list('pending')).to.deep.equal([resting.id]);
            expect(await list('failed')).to.deep.equal([failed.id]);
            expect(await list('canceled')).to.deep.equal([canceled.id]);
            expect(await list('all')).to.deep.equal([resting.id, canceled.id, bought.id, failed.id]);
          }, 15_000);
          expectViolation(await api.get(`${pathOf('purchase')}?status=done`, { token: broke.token }), 'status');

          const first = await api.get(`${pathOf('purchase')}?status=all&limit=3`, { token: broke.token });
          const next = nextLink(first);
          expect(next).to.include('status=all');
          const rest = await api.get(next!, { token: broke.token });
          expect([...first.body, ...rest.body].map((o: JsonBody) => o.id)).to.deep.equal([
            resting.id,
            canceled.id,
            bought.id,
            failed.id,
          ]);
          expect(await market.activeOrders(broke.token, 'sell')).to.deep.equal([]);
        },
      );
    });
  });
}
