/**
 * What the API answers once the domain has forgotten (MARKET_ORDER_MEMORY_SECONDS=1 here,
 * so that a market forgets its closed orders a second after they were submitted): a cancel
 * of an order the market no longer remembers is answered from the read models, exactly as
 * the market would have answered; and a keyed request retried still replays and applies once.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { loadMarket } from '../../command-handlers/trading.js';
import { findOrder } from '../../domain/trading/market.js';
import { messages } from '../../domain/messages.js';
import { findPastOrder } from '../../read-api/trading.js';
import type { ApiServer } from '../support/api-server.js';
import { type Client, expectError, itHttp, positionOf, SHARED_SERVER_ENV, withApiServer } from './client.js';
import { forgetKeptAnswer } from './kept-answers.js';
import { eventually, Market, TEXTS, type Item, type NamedTrader } from './trading-client.js';

const MEMORY_MS = 1_000;

describe('HTTP: answers after the domain forgot (embedded event store)', function () {
  this.timeout(30_000);
  let server: ApiServer;
  let api: Client;
  let market: Market;
  withApiServer(
    'embedded',
    (started, client) => {
      server = started;
      api = client;
      market = new Market(client);
    },
    { env: { ...SHARED_SERVER_ENV, MARKET_ORDER_MEMORY_SECONDS: '1', SNAPSHOT_EVERY_EVENTS: '10' } },
  );

  /** The read model's status of an order, once it is `status`. */
  const readModelShows = (orderId: string, status: string) =>
    eventually(
      async () => expect((await findPastOrder(server.system.services.readStore, orderId))?.status).to.equal(status),
      5000,
      `order ${orderId} ${status} in the read model`,
    );

  /**
   * Waits until the order's memory has passed (its submission + 1 s), then places resting
   * bids on the item until its market no longer remembers the order (an event to move the
   * memory on, one more to let it go).
   */
  async function forgottenByItsMarket(
    item: Item,
    order: { id: string; createdAt: string },
    bidder: NamedTrader,
  ): Promise<void> {
    const passed = Date.parse(order.createdAt) + MEMORY_MS + 50;
    if (Date.now() < passed) await new Promise((resolve) => setTimeout(resolve, passed - Date.now()));
    for (let bids = 0; ; bids++) {
      const state = await loadMarket(server.system.services, item.id);
      if (findOrder(state, order.id) === null) return;
      expect(bids, 'the market still remembers the order after 3 later placements').to.be.below(3);
      await market.placed(bidder.token, 'purchase', item.id, 1);
    }
  }

  itHttp(
    'an order completed in a deal and forgotten by its market: owner’s cancel → 422, another user’s → 403, an unknown id on the item → 404',
    async () => {
      const item = await market.newItem({ initialPrice: 100 });
      const [owner, other] = await Promise.all([market.trader(200), market.trader()]);
      const { order } = await market.placed(owner.token, 'purchase', item.id, 100);
      expect(order.status).to.equal('paymentPending');
      await readModelShows(order.id, 'approved');
      await forgottenByItsMarket(item, order, other);

      expectError(await market.cancel(owner.token, 'purchase', order.id), 422, TEXTS.cannotCancel);
      expectError(await market.cancel(other.token, 'purchase', order.id), 403, TEXTS.operationDenied);
      expectError(await market.cancel(owner.token, 'sell', order.id), 404, TEXTS.notFound);
      expectError(await market.cancel(owner.token, 'purchase', `${item.id}.${randomUUID()}`), 404, TEXTS.notFound);
      // The unit stays bought.
      await eventually(
        async () =>
          expect(await market.portfolio(owner.token)).to.deep.equal([
            { id: item.id, name: item.name, count: 1, onSaleCount: 0 },
          ]),
        5000,
        'the unit in the portfolio',
      );
    },
  );

  itHttp('a canceled order canceled again after its market forgot it → 200 canceled', async () => {
    const item = await market.newItem({ initialPrice: 100 });
    const [owner, other] = await Promise.all([market.trader(), market.trader()]);
    const { order } = await market.placed(owner.token, 'purchase', item.id, 50);
    expect(order.status).to.equal('pending');
    const canceled = await market.cancel(owner.token, 'purchase', order.id);
    expect(canceled.status, canceled.text).to.equal(200);
    expect(canceled.body).to.include({ id: order.id, status: 'canceled' });
    await readModelShows(order.id, 'canceled');
    await forgottenByItsMarket(item, order, other);

    const again = await market.cancel(owner.token, 'purchase', order.id);
    expect(again.status, again.text).to.equal(200);
    expect(again.body).to.include({ id: order.id, itemId: item.id, status: 'canceled', price: 50 });
    expectError(await market.cancel(other.token, 'purchase', order.id), 403, TEXTS.operationDenied);
    expect(await market.activeOrders(owner.token, 'purchase', positionOf(canceled))).to.deep.equal([]);
  });

  itHttp(
    'a keyed deposit retried with the same Idempotency-Key replays, and the balance moves once — even once its kept answer is gone',
    async () => {
      const trader = await market.trader();
      const key = randomUUID();
      const first = await api.deposit(trader.token, 25, { 'idempotency-key': key });
      expect(first.status, first.text).to.equal(204);
      // Many deposits after it, without keys (If-Match instead): the account remembers those for no time at all.
      let position = positionOf(first);
      for (let i = 0; i < 30; i++) {
        const { etag } = await api.balance(trader.token, position);
        const answer = await api.move('deposit', trader.token, { amount: 1 }, { 'if-match': etag });
        expect(answer.status, answer.text).to.equal(204);
        position = positionOf(answer);
      }
      const replay = await api.deposit(trader.token, 25, { 'idempotency-key': key });
      expect(replay.status).to.equal(204);
      expect(replay.headers.get('idempotent-replayed')).to.equal('true');
      // The kept answer lost: the account itself still knows the operation.
      expect(await forgetKeptAnswer(server, key)).to.equal(1);
      const rerun = await api.deposit(trader.token, 25, { 'idempotency-key': key });
      expect(rerun.status, rerun.text).to.equal(204);
      expect(rerun.headers.get('idempotent-replayed')).to.equal(null);
      position = positionOf(rerun);
      expect((await api.balance(trader.token, position)).amount).to.equal(55);
      expect(
        (await api.operations(trader.token, position)).body.filter((op: { amount: number }) => op.amount === 25),
      ).to.have.length(1);
    },
  );

  /** Waits until a placement made at `createdAt` is past the trader's memory, then moves the trader's stream on with another order. */
  async function forgottenByTheTrader(trader: NamedTrader, createdAt: string, itemId: string): Promise<string> {
    const passed = Date.parse(createdAt) + MEMORY_MS + 50;
    if (Date.now() < passed) await new Promise((resolve) => setTimeout(resolve, passed - Date.now()));
    return (await market.placed(trader.token, 'purchase', itemId, 1)).position;
  }

  itHttp(
    'a keyed placement retried after its kept answer is gone and the trader forgot it: a pending order answers as placed, and is placed once',
    async () => {
      const item = await market.newItem({ initialPrice: 100 });
      const owner = await market.trader(200);
      const key = randomUUID();
      const first = await market.postOrder(
        owner.token,
        'purchase',
        { itemId: item.id, price: 50 },
        { 'idempotency-key': key },
      );
      expect(first.status, first.text).to.equal(202);
      await forgottenByTheTrader(owner, first.body.createdAt, item.id);
      expect(await forgetKeptAnswer(server, key)).to.equal(1);

      const retry = await market.postOrder(
        owner.token,
        'purchase',
        { itemId: item.id, price: 50 },
        { 'idempotency-key': key },
      );
      expect(retry.status, retry.text).to.equal(202);
      expect(retry.headers.get('idempotent-replayed')).to.equal(null);
      const { updatedAt: _a, ...placed } = first.body;
      const { updatedAt: _b, ...again } = retry.body;
      expect(again).to.deep.equal(placed);
      const active = await market.activeOrders(owner.token, 'purchase', positionOf(retry));
      expect(active.filter((o) => o.id === first.body.id)).to.have.length(1);
      expect(active).to.have.length(2);
    },
  );

  itHttp(
    'a keyed placement refused 412 for its If-Match claims nothing: retried with the current If-Match after the trader’s memory passed, it is placed (not refused as expired)',
    async () => {
      const item = await market.newItem({ initialPrice: 100 });
      const owner = await market.trader(200);
      const stale = await market.etag(owner.token, 'purchase');
      const moved = await market.postOrder(
        owner.token,
        'purchase',
        { itemId: item.id, price: 10 },
        { 'if-match': stale },
      );
      expect(moved.status, moved.text).to.equal(202);
      const key = randomUUID();
      const body = { itemId: item.id, price: 50 };
      expectError(
        await market.postOrder(owner.token, 'purchase', body, { 'idempotency-key': key, 'if-match': stale }),
        412,
        TEXTS.stateChanged,
      );
      // Long after: the trader's stream has forgotten past the refused attempt's memory.
      const position = await forgottenByTheTrader(owner, new Date().toISOString(), item.id);
      const current = await market.etag(owner.token, 'purchase', position);

      const retry = await market.postOrder(owner.token, 'purchase', body, {
        'idempotency-key': key,
        'if-match': current,
      });
      expect(retry.status, retry.text).to.equal(202);
      expect(retry.body).to.include({ itemId: item.id, price: 50, status: 'pending' });
      const active = await market.activeOrders(owner.token, 'purchase', positionOf(retry));
      expect(active.filter((o) => o.id === retry.body.id)).to.have.length(1);
    },
  );

  itHttp(
    'a keyed placement retried after its kept answer is gone, its order filled and forgotten by market and trader → 422 expired, nothing placed twice',
    async () => {
      const item = await market.newItem({ initialPrice: 100, initialCount: 2 });
      const [owner, other] = await Promise.all([market.trader(300), market.trader()]);
      const key = randomUUID();
      const first = await market.postOrder(
        owner.token,
        'purchase',
        { itemId: item.id, price: 100 },
        { 'idempotency-key': key },
      );
      expect(first.status, first.text).to.equal(202);
      await readModelShows(first.body.id, 'approved');
      await forgottenByItsMarket(item, first.body, other);
      const moved = await forgottenByTheTrader(owner, first.body.createdAt, item.id);
      expect(await forgetKeptAnswer(server, key)).to.equal(1);

      const retry = await market.postOrder(
        owner.token,
        'purchase',
        { itemId: item.id, price: 100 },
        { 'idempotency-key': key },
      );
      expectError(retry, 422, messages.orderExpired);
      // Still one unit bought and paid for once; the broker's second unit is still for sale.
      const state = await loadMarket(server.system.services, item.id);
      expect(findOrder(state, first.body.id)).to.equal(null);
      const holdings = await market.portfolio(owner.token, moved);
      expect(holdings.find((h) => h.id === item.id)?.count).to.equal(1);
      expect(await market.balance(owner.token)).to.equal(300 - 100 - first.body.commission);
    },
  );
});
