/**
 * Reading one's own writes in trading and ordering (marketplace.md, "Reading your own
 * writes"): every command answers with X-Event-Position, and a query given it (header or
 * `?minPosition=`) answers only once the read models have caught up — following the
 * process managers' reactions (account opening, a deal's payment, accrual, completion).
 *
 * Each test runs on a fresh, quiet server: on EventStoreDB a filtered subscription only
 * reports progress past events it skips every 32 events examined, so a quiet store is
 * where a wait that trusts those reports shows (see the report of the esdb failures).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { withApiServer, type Client, eventStores, itHttp, positionOf, type JsonBody } from './client.js';
import { eventually, Market, pathOf } from './trading-client.js';

for (const eventStore of eventStores) {
  describe(`HTTP trading: reading your own writes (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let api: Client;
    let market: Market;
    withApiServer(
      eventStore,
      (_server, client) => {
        api = client;
        market = new Market(client);
      },
      { each: true },
    );

    itHttp('every trading and ordering command answers with X-Event-Position', async () => {
      const item = await market.newItem({ initialPrice: 500 });
      expect(item.position).to.match(/^\d+(-\d+)?$/);
      const t = await market.trader(100);
      const placed = await market.place(t.token, 'purchase', item.id, 5);
      expect(placed.status, placed.text).to.equal(202);
      positionOf(placed);
      positionOf(await market.cancel(t.token, 'purchase', placed.body.id));
      const order = await market.postCustomerOrder(t.token, { price: 1 }, { 'idempotency-key': randomUUID() });
      expect(order.status, order.text).to.equal(202);
      positionOf(order);
    });

    itHttp(
      'GET purchase-orders given the placement’s position (header, or ?minPosition=) answers 200 with the order and its ETag',
      async () => {
        const item = await market.newItem({ initialPrice: 500 });
        const t = await market.trader(0);
        const placed = await market.placed(t.token, 'purchase', item.id, 5);
        const viaHeader = await market.orders(t.token, 'purchase', placed.position);
        expect(viaHeader.status, viaHeader.text).to.equal(200);
        expect(viaHeader.body.map((o: JsonBody) => o.id)).to.deep.equal([placed.order.id]);
        expect(viaHeader.headers.get('etag')).to.equal(placed.answer.headers.get('etag'));
        const viaQuery = await api.get(`${pathOf('purchase')}?minPosition=${encodeURIComponent(placed.position)}`, {
          token: t.token,
        });
        expect(viaQuery.status, viaQuery.text).to.equal(200);
        expect(viaQuery.body.map((o: JsonBody) => o.id)).to.deep.equal([placed.order.id]);
      },
    );

    itHttp(
      'GET /billing/account given a fresh registration’s position answers 200 with the account the registration opened',
      async () => {
        const t = await api.newTrader();
        const account = await api.account(t.token, t.position);
        expect(account.status, account.text).to.equal(200);
        expect(account.body.amount).to.equal(0);
      },
    );

    itHttp(
      'GET /billing/account and /history/deals given a matched bid’s position show the deal settled (its reactions are followed)',
      async () => {
        const item = await market.newItem({ initialPrice: 200, commissionPercent: 10 });
        const t = await market.trader(1000);
        const bid = await market.placed(t.token, 'purchase', item.id, 200);
        expect(bid.order.status).to.equal('paymentPending');
        const account = await api.account(t.token, bid.position);
        const deals = await api.get('/api/v1/history/deals', {
          token: t.token,
          headers: { 'x-event-position': bid.position },
        });
        // The deal itself does settle (polled): what is checked below is the wait.
        await eventually(async () => expect(await market.balance(t.token)).to.equal(780), 5000, 'the deal settled');
        expect(account.status, account.text).to.equal(200);
        expect(account.body.amount, 'the payment is in').to.equal(780);
        expect(deals.status, deals.text).to.equal(200);
        expect(deals.body.map((d: JsonBody) => [d.type, d.amount, d.commission])).to.deep.equal([
          ['purchase', 200, 20],
        ]);
      },
    );
  });
}
