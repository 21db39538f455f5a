/**
 * The specification's worked example (marketplace.md, "Trading"), as one HTTP test on a
 * real listening server of its own (so the broker's figures and the statistics are
 * exactly the example's), for both event stores. Every figure of the example is checked,
 * and the figures the other sections derive from it (operations with their exact
 * descriptions, letters, history, portfolios, statistics).
 */
import { expect } from 'chai';
import type { ApiServer } from '../support/api-server.js';
import { withApiServer, type Client, eventStores, expectError, ISO_UTC, itHttp, positionOf } from './client.js';
import { DESCRIPTIONS, eventually, LETTERS, Market, ORDER_FIELDS, TEXTS, todayUtc } from './trading-client.js';

const ITEM = 'Sword of the Worked Example';

for (const eventStore of eventStores) {
  describe(`HTTP worked example of the specification (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let server: ApiServer;
    let api: Client;
    let market: Market;
    withApiServer(
      eventStore,
      (started, client) => {
        server = started;
        api = client;
        market = new Market(client);
      },
      { shared: true }, // the rebuild test rebuilds what the example left
    );

    /** Everything the example's three users and the public can read. */
    async function snapshot(tokens: string[]) {
      const perUser = [];
      for (const token of tokens) {
        perUser.push({
          balance: await market.balance(token),
          operations: await market.operations(token),
          deals: await market.deals(token),
          notifications: await market.notifications(token),
          portfolio: await market.portfolio(token),
          purchases: await market.activeOrders(token, 'purchase'),
          sales: await market.activeOrders(token, 'sell'),
          etag: await market.etag(token, 'purchase'),
        });
      }
      return {
        perUser,
        daily: await market.statistics('daily-stats'),
        totals: await market.statistics('total-daily-stats'),
        top: await market.statistics('top10'),
      };
    }
    let finished: { tokens: string[]; figures: Awaited<ReturnType<typeof snapshot>> } | null = null;

    itHttp(
      'holds figure by figure: declined bid, deal with the broker, resale at the resting ask, statistics, withdrawal with If-Match',
      async () => {
        const broker = await market.broker();
        expect(await market.operations(broker.token), 'a fresh broker has no operations').to.deep.equal([]);

        // ---- Broker lists an item: 1 unit at 200, commission 10 %. -------------------------
        const listed = await market.listItem(broker.token, {
          name: ITEM,
          initialCount: 1,
          initialPrice: 200,
          commissionPercent: 10,
        });
        expect(listed.status, listed.text).to.equal(201);
        const item = listed.body;
        expect(Object.keys(item).sort()).to.deep.equal([
          'commissionPercent',
          'createdAt',
          'id',
          'initialCount',
          'initialPrice',
          'name',
        ]);
        expect(item).to.include({ name: ITEM, initialCount: 1, initialPrice: 200, commissionPercent: 10 });
        expect(item.createdAt).to.match(ISO_UTC);
        const listedAt = positionOf(listed);
        expect(listedAt).to.be.a('string');
        await eventually(
          async () => {
            const items = await api.get('/api/v1/trading/items', { token: broker.token });
            expect(items.status, items.text).to.equal(200);
            expect(items.body).to.deep.equal([{ ...item, bestBid: null, bestAsk: 200, lastPrice: null }]);
            expect(await market.portfolio(broker.token)).to.deep.equal([
              { id: item.id, name: ITEM, count: 1, onSaleCount: 1 },
            ]);
            const brokerAsks = await market.activeOrders(broker.token, 'sell');
            expect(brokerAsks).to.have.length(1);
            expect(brokerAsks[0]).to.include({ itemId: item.id, price: 200, commission: 20, status: 'pending' });
          },
          5000,
          'the listing in the read models',
        );

        // ---- Trader 1 (balance 0) bids 200 → 202 paymentPending 200 / 20 → declined. -------
        const t1 = await market.trader(0, { firstName: 'Alice', lastName: 'Smith' });
        const t1Etag0 = await market.etag(t1.token, 'purchase');
        expect(t1Etag0, 'a trader without orders').to.equal('"-1"');
        const bid1 = await market.postOrder(
          t1.token,
          'purchase',
          { itemId: item.id, price: 200 },
          { 'if-match': t1Etag0 },
        );
        expect(bid1.status, bid1.text).to.equal(202);
        expect(Object.keys(bid1.body).sort()).to.deep.equal(ORDER_FIELDS);
        expect(bid1.body).to.include({ itemId: item.id, status: 'paymentPending', price: 200, commission: 20 });
        const t1Etag1 = bid1.headers.get('etag');
        expect(t1Etag1).to.be.a('string').and.not.equal(t1Etag0);

        const declined = LETTERS.purchaseFailed('Alice', 'Smith', ITEM, '200.00');
        expect(declined).to.equal(
          `Dear, Alice Smith! Your purchase of item "${ITEM}" for 200.00$ was not completed due to: not enough money.`,
        );
        await eventually(
          async () => {
            const letters = await market.notifications(t1.token);
            expect(letters.map((n) => n.message)).to.deep.equal([declined]);
          },
          5000,
          'the declined-purchase letter',
        );
        await eventually(
          async () => {
            expect(
              await market.activeOrders(t1.token, 'purchase'),
              'the failed purchase order leaves the active list',
            ).to.deep.equal([]);
            const asks = await market.activeOrders(broker.token, 'sell');
            expect(
              asks.map((o) => [o.status, o.price]),
              'the broker’s unit is back in the book',
            ).to.deep.equal([['pending', 200]]);
          },
          5000,
          'the failed deal undone',
        );
        expect(await market.balance(t1.token), 'nothing charged').to.equal(0);
        expect(await market.operations(t1.token)).to.deep.equal([]);
        expect(await market.operations(broker.token)).to.deep.equal([]);
        expect(await market.portfolio(t1.token)).to.deep.equal([]);

        // ---- Trader 1 deposits 1000 and bids 200 again → the deal. ------------------------
        // The declined payment moved the account's ETag too: a client whose GET raced the
        // billing view gets 412 (nothing changes) and reads again.
        const deposit1 = await eventually(
          async () => {
            const t1Account = await api.balance(t1.token);
            const answer = await api.deposit(t1.token, 1000, { 'if-match': t1Account.etag });
            expect(answer.status, answer.text).to.equal(204);
            return answer;
          },
          5000,
          'the deposit with If-Match',
        );
        positionOf(deposit1);
        await eventually(
          async () => {
            expect(await market.etag(t1.token, 'purchase'), 'the purchase-order ETag is the order stream’s').to.equal(
              t1Etag1,
            );
          },
          5000,
          'the ETag of GET purchase-orders',
        );
        const bid2 = await market.postOrder(
          t1.token,
          'purchase',
          { itemId: item.id, price: 200 },
          { 'if-match': t1Etag1! },
        );
        expect(bid2.status, bid2.text).to.equal(202);
        expect(bid2.body).to.include({ itemId: item.id, status: 'paymentPending', price: 200, commission: 20 });
        const t1Etag2 = bid2.headers.get('etag')!;

        await eventually(
          async () => expect(await market.balance(t1.token)).to.equal(780),
          5000,
          'trader 1 balance 780',
        );
        const t1Ops = await eventually(
          async () => {
            const ops = await market.operations(t1.token);
            expect(ops.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['payment', 220, DESCRIPTIONS.buying(ITEM, '20.00')],
              ['deposit', 1000, 'money deposit by user'],
            ]);
            return ops;
          },
          5000,
          'trader 1 operations',
        );
        expect(t1Ops[0].description).to.equal(`buying the item "${ITEM}" on the marketplace (with commission 20.00)`);
        const t1Payment = t1Ops[0];
        await eventually(
          async () => {
            expect(await market.portfolio(t1.token)).to.deep.equal([
              { id: item.id, name: ITEM, count: 1, onSaleCount: 0 },
            ]);
            expect(await market.activeOrders(t1.token, 'purchase')).to.deep.equal([]);
          },
          5000,
          'trader 1 portfolio',
        );
        const bought1 = LETTERS.bought('Alice', 'Smith', ITEM, '200.00', '20.00');
        expect(bought1).to.equal(
          `Dear, Alice Smith! You have successfully bought item "${ITEM}" for 200.00$ (commission 20.00$) on the marketplace.`,
        );
        await eventually(
          async () => {
            expect((await market.notifications(t1.token)).map((n) => n.message)).to.deep.equal([bought1, declined]);
          },
          5000,
          'trader 1 letters',
        );

        // Broker: `commission` 20 then `accrual` 200 — in time order; the list is newest first.
        const brokerOps1 = await eventually(
          async () => {
            const ops = await market.operations(broker.token);
            expect(ops.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['accrual', 200, DESCRIPTIONS.selling(ITEM, '0.00')],
              ['commission', 20, DESCRIPTIONS.commission(t1.id, 'payment', t1Payment.id)],
            ]);
            return ops;
          },
          5000,
          'broker operations after the first deal',
        );
        expect(Date.parse(brokerOps1[1].createdAt), 'the commission came first').to.be.at.most(
          Date.parse(brokerOps1[0].createdAt),
        );
        expect(await market.balance(broker.token)).to.equal(220);
        await eventually(
          async () => {
            expect(await market.portfolio(broker.token), 'the broker sold its only unit').to.deep.equal([]);
            expect(await market.activeOrders(broker.token, 'sell')).to.deep.equal([]);
          },
          5000,
          'broker portfolio',
        );
        const firstDeal = await eventually(
          async () => {
            const deals = await market.deals(t1.token);
            expect(deals).to.have.length(1);
            expect(deals[0]).to.include({
              itemId: item.id,
              itemName: ITEM,
              type: 'purchase',
              amount: 200,
              commission: 20,
            });
            expect(Object.keys(deals[0]).sort()).to.deep.equal([
              'amount',
              'commission',
              'completedAt',
              'id',
              'itemId',
              'itemName',
              'type',
            ]);
            expect(deals[0].completedAt).to.match(ISO_UTC);
            return deals[0];
          },
          5000,
          'trader 1 history',
        );
        const brokerDeals = await market.deals(broker.token);
        expect(brokerDeals.map((d) => [d.id, d.type, d.amount, d.commission])).to.deep.equal([
          [firstDeal.id, 'sale', 200, 0],
        ]);
        // Letters are another projection's: they may come in after the deal history.
        await eventually(
          async () => {
            expect((await market.notifications(broker.token)).map((n) => n.message)).to.deep.equal([
              LETTERS.sold(broker.firstName, broker.lastName, ITEM, '200.00', '0.00'),
            ]);
          },
          5000,
          "the broker's letter",
        );

        // ---- Trader 1 offers the unit at 250 → pending, commission 25. --------------------
        const offer = await market.postOrder(
          t1.token,
          'sell',
          { itemId: item.id, price: 250 },
          { 'if-match': t1Etag2 },
        );
        expect(offer.status, offer.text).to.equal(202);
        expect(offer.body).to.include({ itemId: item.id, status: 'pending', price: 250, commission: 25 });
        expect(offer.headers.get('etag')).to.not.equal(t1Etag2);
        positionOf(offer);
        await eventually(
          async () => {
            expect(await market.portfolio(t1.token)).to.deep.equal([
              { id: item.id, name: ITEM, count: 1, onSaleCount: 1 },
            ]);
            const t1Asks = await market.activeOrders(t1.token, 'sell');
            expect(t1Asks.map((o) => [o.id, o.status, o.price, o.commission])).to.deep.equal([
              [offer.body.id, 'pending', 250, 25],
            ]);
          },
          5000,
          'trader 1’s offer in the read models',
        );

        // ---- Trader 2 deposits 1000, bids 200 → pending; cancels; bids 260 → paymentPending.
        const t2 = await market.trader(0, { firstName: 'Bob', lastName: 'Jones' });
        const t2Account = await api.balance(t2.token);
        const deposit2 = await api.deposit(t2.token, 1000, { 'if-match': t2Account.etag });
        expect(deposit2.status, deposit2.text).to.equal(204);
        const low = await market.postOrder(
          t2.token,
          'purchase',
          { itemId: item.id, price: 200 },
          { 'if-match': await market.etag(t2.token, 'purchase') },
        );
        expect(low.status, low.text).to.equal(202);
        expect(low.body).to.include({ itemId: item.id, status: 'pending', price: 200, commission: 20 });
        const canceled = await market.cancel(t2.token, 'purchase', low.body.id);
        expect(canceled.status, canceled.text).to.equal(200);
        expect(canceled.body).to.include({
          id: low.body.id,
          itemId: item.id,
          status: 'canceled',
          price: 200,
          commission: 20,
        });
        positionOf(canceled);
        await eventually(
          async () => expect(await market.activeOrders(t2.token, 'purchase')).to.deep.equal([]),
          5000,
          'the canceled bid leaves the list',
        );
        const high = await market.postOrder(
          t2.token,
          'purchase',
          { itemId: item.id, price: 260 },
          { 'if-match': low.headers.get('etag')! },
        );
        expect(high.status, high.text).to.equal(202);
        expect(high.body).to.include({ itemId: item.id, status: 'paymentPending', price: 260, commission: 26 });
        // Order ids are opaque; ours name the item they belong to.
        expect(high.body.id)
          .to.be.a('string')
          .and.satisfy((id: string) => id.startsWith(`${item.id}.`));

        // The deal runs at the resting ask: 250 + 25 for trader 2, 250 − 25 for trader 1.
        await eventually(
          async () => {
            expect(await market.balance(t2.token), 'trader 2 paid 275').to.equal(725);
            expect(await market.balance(t1.token), 'trader 1 received 225').to.equal(1005);
          },
          5000,
          'the second deal’s balances',
        );
        const t2Ops = await eventually(
          async () => {
            const ops = await market.operations(t2.token);
            expect(ops.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['payment', 275, DESCRIPTIONS.buying(ITEM, '25.00')],
              ['deposit', 1000, 'money deposit by user'],
            ]);
            return ops;
          },
          5000,
          'trader 2 operations',
        );
        const t1Ops2 = await eventually(
          async () => {
            const ops = await market.operations(t1.token);
            expect(ops.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['accrual', 225, DESCRIPTIONS.selling(ITEM, '25.00')],
              ['payment', 220, DESCRIPTIONS.buying(ITEM, '20.00')],
              ['deposit', 1000, 'money deposit by user'],
            ]);
            return ops;
          },
          5000,
          'trader 1 operations after the sale',
        );
        // The broker earns 25 twice: on trader 2's payment, then on trader 1's accrual.
        await eventually(
          async () => {
            const ops = await market.operations(broker.token);
            expect(ops.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['commission', 25, DESCRIPTIONS.commission(t1.id, 'accrual', t1Ops2[0].id)],
              ['commission', 25, DESCRIPTIONS.commission(t2.id, 'payment', t2Ops[0].id)],
              ['accrual', 200, DESCRIPTIONS.selling(ITEM, '0.00')],
              ['commission', 20, DESCRIPTIONS.commission(t1.id, 'payment', t1Payment.id)],
            ]);
            expect(await market.balance(broker.token)).to.equal(270);
          },
          5000,
          'broker operations after the second deal',
        );

        // History: trader 1's latest deal is a sale, trader 2's a purchase (same deal).
        const [t1Deals, t2Deals] = await eventually(
          async () => {
            const one = await market.deals(t1.token);
            const two = await market.deals(t2.token);
            expect(one.map((d) => [d.type, d.itemId, d.itemName, d.amount, d.commission])).to.deep.equal([
              ['sale', item.id, ITEM, 250, 25],
              ['purchase', item.id, ITEM, 200, 20],
            ]);
            expect(two.map((d) => [d.type, d.itemId, d.itemName, d.amount, d.commission])).to.deep.equal([
              ['purchase', item.id, ITEM, 250, 25],
            ]);
            return [one, two];
          },
          5000,
          'histories',
        );
        expect(t1Deals[0].id, 'both sides name the same deal').to.equal(t2Deals[0].id);
        expect(t1Deals[1].id).to.equal(firstDeal.id);

        // Letters for both.
        await eventually(
          async () => {
            expect((await market.notifications(t1.token)).map((n) => n.message)).to.deep.equal([
              `Dear, Alice Smith! You have successfully sold item "${ITEM}" for 250.00$ (commission 25.00$) on the marketplace.`,
              bought1,
              declined,
            ]);
            expect((await market.notifications(t2.token)).map((n) => n.message)).to.deep.equal([
              `Dear, Bob Jones! You have successfully bought item "${ITEM}" for 250.00$ (commission 25.00$) on the marketplace.`,
            ]);
          },
          5000,
          'letters of the second deal',
        );

        // Portfolios and books after the deal.
        await eventually(
          async () => {
            expect(await market.portfolio(t1.token)).to.deep.equal([]);
            expect(await market.portfolio(t2.token)).to.deep.equal([
              { id: item.id, name: ITEM, count: 1, onSaleCount: 0 },
            ]);
            expect(await market.activeOrders(t1.token, 'sell')).to.deep.equal([]);
            expect(await market.activeOrders(t2.token, 'purchase')).to.deep.equal([]);
          },
          5000,
          'portfolios after the second deal',
        );

        // Statistics: two deals of this item today, 200 + 250.
        const today = todayUtc();
        await eventually(
          async () => {
            expect(await market.statistics('daily-stats')).to.deep.equal([
              { date: today, itemId: item.id, itemName: ITEM, count: 2, amount: 450 },
            ]);
            expect(await market.statistics('total-daily-stats')).to.deep.equal([
              { date: today, count: 2, amount: 450 },
            ]);
            expect(await market.statistics('top10')).to.deep.equal([
              { itemId: item.id, itemName: ITEM, count: 2, amount: 450 },
            ]);
          },
          5000,
          'statistics',
        );

        // ---- Trader 2 withdraws 700 → 204; the same request with the same If-Match → 412. --
        const t2Now = await api.balance(t2.token);
        expect(t2Now.amount).to.equal(725);
        const withdraw = await api.withdraw(t2.token, 700, { 'if-match': t2Now.etag });
        expect(withdraw.status, withdraw.text).to.equal(204);
        const again = await api.withdraw(t2.token, 700, { 'if-match': t2Now.etag });
        expectError(again, 412, TEXTS.stateChanged);
        positionOf(withdraw);
        await eventually(
          async () => {
            const after = await api.balance(t2.token);
            expect(after.amount).to.equal(25);
            expect(after.etag).to.not.equal(t2Now.etag);
            const t2Final = await market.operations(t2.token);
            expect(t2Final.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['withdraw', 700, 'money withdrawal by user'],
              ['payment', 275, DESCRIPTIONS.buying(ITEM, '25.00')],
              ['deposit', 1000, 'money deposit by user'],
            ]);
          },
          5000,
          'trader 2 after the withdrawal',
        );
        finished = {
          tokens: [broker.token, t1.token, t2.token],
          figures: await snapshot([broker.token, t1.token, t2.token]),
        };
      },
    );

    itHttp(
      'rebuilding every view from the events changes none of the example’s figures (each deal counts once)',
      async function () {
        if (!finished) this.skip();
        const { tokens, figures } = finished!;
        const views = server.system.runners.filter((r) => r.handler.kind !== 'process-manager');
        expect(views.map((r) => r.handler.name)).to.include.members([
          'billing',
          'trading',
          'history',
          'statistics',
          'notifications',
        ]);
        for (const runner of views) {
          await runner.stop();
          await runner.rebuild();
          runner.start();
        }
        await eventually(
          async () => expect(await snapshot(tokens)).to.deep.equal(figures),
          5000,
          'the same figures after the rebuild',
        );
      },
    );
  });
}
