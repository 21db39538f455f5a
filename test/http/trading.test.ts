/**
 * The trading endpoints over HTTP (marketplace.md, "Trading"), on a real listening server
 * per event store: items (listing, roles, validation, idempotency), orders (placement,
 * preconditions, commission, validation, matching), canceling, active lists, portfolio,
 * isolation between traders, paging, and a refused order that must stay refused.
 * (Reading one's own writes: trading-read-your-writes.test.ts; races:
 * trading-concurrency.test.ts.)
 *
 * One server per store for the whole file; every test makes its own users and items.
 * End states of deals settle asynchronously: they are polled for (`eventually`). A few
 * tests pause one runner of the server (a process manager or a projection) to make a lag
 * happen on purpose, and always start it again.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ApiServer } from '../support/api-server.js';
import {
  withApiServer,
  type Client,
  eventStores,
  expectError,
  expectViolation,
  ISO_UTC,
  itHttp,
  nextLink,
  positionOf,
  type Answer,
  type JsonBody,
} from './client.js';
import {
  DESCRIPTIONS,
  eventually,
  Market,
  ORDER_FIELDS,
  pathOf,
  TEXTS,
  uniqueItemName,
  type Item,
  type NamedTrader,
} from './trading-client.js';

for (const eventStore of eventStores) {
  describe(`HTTP trading (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let server: ApiServer;
    let api: Client;
    let market: Market;
    withApiServer(eventStore, (started, client) => {
      server = started;
      api = client;
      market = new Market(client);
    });

    /** A trader who bought the only unit of a fresh item (listed at `price`, 10 %) and holds it, not on sale. */
    async function holder(price = 100, money = 1000): Promise<{ item: Item; trader: NamedTrader }> {
      const item = await market.newItem({ initialPrice: price });
      const trader = await market.trader(money);
      const bid = await market.placed(trader.token, 'purchase', item.id, price);
      expect(bid.order.status).to.equal('paymentPending');
      await eventually(
        async () => {
          expect(await market.portfolio(trader.token)).to.deep.equal([
            { id: item.id, name: item.name, count: 1, onSaleCount: 0 },
          ]);
        },
        5000,
        'the bought unit in the portfolio',
      );
      return { item, trader };
    }

    describe('items', () => {
      itHttp(
        'POST /trading/items by the broker → 201 TradingItem; GET /trading/items lists every item by name, for any user',
        async () => {
          const prefix = `zz-list-${randomUUID().slice(0, 8)}`;
          const names = [`${prefix} Charlie`, `${prefix} Alpha`, `${prefix} Bravo`];
          const created: JsonBody[] = [];
          for (const [n, name] of names.entries()) {
            const answer = await market.listItem((await market.broker()).token, {
              name,
              initialCount: n + 1,
              initialPrice: 10.5 + n,
              commissionPercent: 12.5,
            });
            expect(answer.status, answer.text).to.equal(201);
            expect(Object.keys(answer.body).sort()).to.deep.equal([
              'commissionPercent',
              'createdAt',
              'id',
              'initialCount',
              'initialPrice',
              'name',
            ]);
            expect(answer.body).to.include({
              name,
              initialCount: n + 1,
              initialPrice: 10.5 + n,
              commissionPercent: 12.5,
            });
            expect(answer.body.createdAt).to.match(ISO_UTC);
            positionOf(answer);
            created.push(answer.body);
          }
          const trader = await market.trader();
          await eventually(
            async () => {
              const answer = await market.items(trader.token, '?limit=500');
              expect(answer.status, answer.text).to.equal(200);
              const all = answer.body as JsonBody[];
              const allNames = all.map((i) => i.name as string);
              expect(allNames, 'by name').to.deep.equal([...allNames].sort());
              const mine = all.filter((i) => i.name.startsWith(prefix));
              // Each with its quote: no bid, the broker's units asked at the initial price, no deal yet.
              const quoted = (i: JsonBody) => ({ ...i, bestBid: null, bestAsk: i.initialPrice, lastPrice: null });
              expect(mine).to.deep.equal([created[1], created[2], created[0]].map(quoted));
            },
            5000,
            'the three items listed by name',
          );
        },
      );

      itHttp('POST /trading/items with an Idempotency-Key twice → the same 201 and body, one item', async () => {
        const broker = await market.broker();
        const key = randomUUID();
        const body = { name: uniqueItemName('once'), initialCount: 2, initialPrice: 10, commissionPercent: 1 };
        const first = await market.listItem(broker.token, body, { 'idempotency-key': key });
        expect(first.status, first.text).to.equal(201);
        const again = await market.listItem(broker.token, body, { 'idempotency-key': key });
        expect(again.status, again.text).to.equal(201);
        expect(again.body).to.deep.equal(first.body);
        await eventually(
          async () => {
            const all = (await market.items(broker.token, '?limit=500')).body as JsonBody[];
            expect(all.filter((i) => i.name === body.name).map((i) => i.id)).to.deep.equal([first.body.id]);
            const held = (await market.portfolio(broker.token)).filter((p) => p.id === first.body.id);
            expect(held).to.deep.equal([{ id: first.body.id, name: body.name, count: 2, onSaleCount: 2 }]);
          },
          5000,
          'one item of two units',
        );
      });

      itHttp(
        'POST /trading/items by a trader → 403 "Operation denied"; without a token → 401; nothing is listed',
        async () => {
          const trader = await market.trader();
          const name = uniqueItemName('denied');
          expectError(
            await market.listItem(trader.token, { name, initialCount: 1, initialPrice: 10, commissionPercent: 1 }),
            403,
            TEXTS.operationDenied,
          );
          const anonymous = await api.post('/api/v1/trading/items', {
            json: { name, initialCount: 1, initialPrice: 10, commissionPercent: 1 },
          });
          expectError(anonymous, 401);
          const marker = await market.newItem();
          await eventually(
            async () => {
              const all = (await market.items(trader.token, '?limit=500')).body as JsonBody[];
              expect(all.some((i) => i.id === marker.id)).to.equal(true);
              expect(
                all.some((i) => i.name === name),
                'the refused item',
              ).to.equal(false);
            },
            5000,
            'a later item visible, the refused one never',
          );
          expectError(await api.get('/api/v1/trading/items'), 401);
        },
      );

      const tooShort = 'This value is too short. It should have 1 characters or more.';
      const refused: Array<[string, Record<string, unknown>, string, string?]> = [
        ['an empty name', { name: '' }, 'name', tooShort],
        [
          'a name of 201 characters',
          { name: 'x'.repeat(201) },
          'name',
          'This value is too long. It should have 200 characters or less.',
        ],
        ['initialCount 0', { initialCount: 0 }, 'initialCount', 'This value should be greater than or equal to 1.'],
        [
          'initialCount 10001',
          { initialCount: 10001 },
          'initialCount',
          'This value should be less than or equal to 10000.',
        ],
        ['initialCount 1.5', { initialCount: 1.5 }, 'initialCount'],
        [
          'initialPrice 9.99',
          { initialPrice: 9.99 },
          'initialPrice',
          'This value should be greater than or equal to 10.',
        ],
        [
          'initialPrice 10000.01',
          { initialPrice: 10000.01 },
          'initialPrice',
          'This value should be less than or equal to 10000.',
        ],
        ['initialPrice with 3 decimals', { initialPrice: 10.005 }, 'initialPrice'],
        [
          'commissionPercent 0.09',
          { commissionPercent: 0.09 },
          'commissionPercent',
          'This value should be greater than or equal to 0.1.',
        ],
        [
          'commissionPercent 30.01',
          { commissionPercent: 30.01 },
          'commissionPercent',
          'This value should be less than or equal to 30.',
        ],
        ['commissionPercent 0', { commissionPercent: 0 }, 'commissionPercent'],
      ];
      for (const [title, change, field, detail] of refused) {
        itHttp(`refuses ${title} → 422 at '${field}'`, async () => {
          const broker = await market.broker();
          const body = {
            name: uniqueItemName('invalid'),
            initialCount: 1,
            initialPrice: 10,
            commissionPercent: 1,
            ...change,
          };
          expectViolation(await market.listItem(broker.token, body), field, detail);
        });
      }

      itHttp('refuses bodies of the wrong shape with 400 or 422, never 500', async () => {
        const broker = await market.broker();
        const good = { name: uniqueItemName('shape'), initialCount: 1, initialPrice: 10, commissionPercent: 1 };
        for (const body of [
          { ...good, name: 5 },
          { ...good, initialCount: '1' },
          { ...good, initialPrice: null },
          { ...good, extra: true },
          { name: good.name },
          [],
        ]) {
          const answer = await market.listItem(broker.token, body);
          expect([400, 422], `${JSON.stringify(body)} → ${answer.status} ${answer.text}`).to.include(answer.status);
        }
        const raw = await api.post('/api/v1/trading/items', {
          token: broker.token,
          raw: '{"name":',
          contentType: 'application/json',
        });
        expect([400, 422]).to.include(raw.status);
      });

      itHttp(
        'accepts the boundaries: name of 1 and 200 characters, initialCount 1 and 10000, initialPrice 10 and 10000, commissionPercent 0.1 and 30',
        async () => {
          const broker = await market.broker();
          const accepted = [
            { name: 'q', initialCount: 1, initialPrice: 10, commissionPercent: 0.1 },
            {
              name: `${randomUUID()}`.padEnd(200, 'y'),
              initialCount: 10000,
              initialPrice: 10000,
              commissionPercent: 30,
            },
          ];
          for (const body of accepted) {
            const answer = await market.listItem(broker.token, body);
            expect(answer.status, answer.text).to.equal(201);
            expect(answer.body).to.include(body);
          }
          const big = accepted[1]!;
          const trader = await market.trader(10000);
          await api.funded(trader.token, 3000);
          // The 10000 units all rest at 10000 with 30 % commission (3000).
          const bid = await market.placed(
            trader.token,
            'purchase',
            (
              await eventually(
                async () => {
                  const all = (await market.items(trader.token, '?limit=500')).body as JsonBody[];
                  const found = all.find((i) => i.name === big.name);
                  expect(found, 'the big item').to.not.equal(undefined);
                  return found;
                },
                5000,
                'the big item listed',
              )
            ).id,
            10000,
          );
          expect(bid.order).to.include({ status: 'paymentPending', price: 10000, commission: 3000 });
          await eventually(async () => expect(await market.balance(trader.token)).to.equal(0), 5000, 'paid 13000');
        },
      );
    });

    describe('placing orders', () => {
      itHttp(
        'no If-Match and no Idempotency-Key → 428; a stale or malformed If-Match → 412; nothing is placed',
        async () => {
          const item = await market.newItem();
          const t = await market.trader(1000);
          for (const side of ['purchase', 'sell'] as const) {
            expectError(
              await market.postOrder(t.token, side, { itemId: item.id, price: 50 }),
              428,
              TEXTS.missingIfMatch,
            );
            expectError(
              await market.postOrder(t.token, side, { itemId: item.id, price: 50 }, { 'if-match': '"3"' }),
              412,
              TEXTS.stateChanged,
            );
            expectError(
              await market.postOrder(t.token, side, { itemId: item.id, price: 50 }, { 'if-match': 'W/"-1"' }),
              412,
              TEXTS.stateChanged,
            );
          }
          const ok = await market.postOrder(
            t.token,
            'purchase',
            { itemId: item.id, price: 50 },
            { 'if-match': await market.etag(t.token, 'purchase') },
          );
          expect(ok.status, ok.text).to.equal(202);
          await eventually(
            async () => {
              expect((await market.activeOrders(t.token, 'purchase')).map((o) => o.id)).to.deep.equal([ok.body.id]);
              expect(await market.activeOrders(t.token, 'sell')).to.deep.equal([]);
            },
            5000,
            'only the accepted order',
          );
        },
      );

      itHttp(
        'the ETag changes after each placement, the answer carries the next one, and both order lists share it',
        async () => {
          const item = await market.newItem({ initialPrice: 500 });
          const t = await market.trader(0);
          const etags = [await market.etag(t.token, 'purchase')];
          expect(await market.etag(t.token, 'sell')).to.equal(etags[0]);
          for (const price of [10, 20, 30]) {
            const answer = await market.postOrder(
              t.token,
              'purchase',
              { itemId: item.id, price },
              { 'if-match': etags[etags.length - 1]! },
            );
            expect(answer.status, answer.text).to.equal(202);
            expect(answer.body.status).to.equal('pending');
            const next = answer.headers.get('etag');
            expect(next, 'a new ETag after each placement').to.be.a('string').and.not.be.oneOf(etags);
            etags.push(next!);
            // The old ETag is spent.
            expectError(
              await market.postOrder(
                t.token,
                'purchase',
                { itemId: item.id, price },
                { 'if-match': etags[etags.length - 2]! },
              ),
              412,
              TEXTS.stateChanged,
            );
          }
          await eventually(
            async () => {
              expect(await market.etag(t.token, 'purchase')).to.equal(etags[3]);
              expect(await market.etag(t.token, 'sell'), 'shared by the sell-order list').to.equal(etags[3]);
              expect(
                (await market.activeOrders(t.token, 'purchase')).map((o) => o.price),
                'newest first',
              ).to.deep.equal([30, 20, 10]);
            },
            5000,
            'the lists and their ETag',
          );
          // The sell-order list's ETag is good for a purchase and the other way round.
          const viaSell = await market.postOrder(
            t.token,
            'purchase',
            { itemId: item.id, price: 40 },
            { 'if-match': await market.etag(t.token, 'sell') },
          );
          expect(viaSell.status, viaSell.text).to.equal(202);
        },
      );

      itHttp('an order answers 202 with the Order fields and its own commission (half-up to the cent)', async () => {
        const item = await market.newItem({ initialPrice: 5000, commissionPercent: 10 });
        const t = await market.trader();
        for (const [price, commission] of [
          [200, 20],
          [250, 25],
          [111, 11.1],
          [1.05, 0.11],
          [1.04, 0.1],
          [999.99, 100],
        ] as const) {
          const { order } = await market.placed(t.token, 'purchase', item.id, price);
          expect(Object.keys(order).sort()).to.deep.equal(ORDER_FIELDS);
          expect(order).to.include({ itemId: item.id, price, commission, status: 'pending' });
          expect(order.createdAt).to.match(ISO_UTC);
          expect(order.updatedAt).to.match(ISO_UTC);
        }
        const item2 = await market.newItem({ initialPrice: 5000, commissionPercent: 12.5 });
        const { order } = await market.placed(t.token, 'purchase', item2.id, 1.01); // 0.12625 → 0.13
        expect(order.commission).to.equal(0.13);
      });

      itHttp(
        'a commission that rounds to 0 is 0: nothing charged for it and no commission operation written',
        async () => {
          const broker = await market.broker();
          const item = await market.newItem({ initialPrice: 10, commissionPercent: 0.1 });
          const seller = await market.trader(100);
          const first = await market.placed(seller.token, 'purchase', item.id, 10);
          expect(first.order).to.include({ status: 'paymentPending', commission: 0.01 });
          await eventually(async () => expect(await market.portfolio(seller.token)).to.have.length(1), 5000, 'bought');
          // The unit lands in the portfolio before the broker's side of that first deal is
          // projected: count the broker's operations only once both are in.
          const brokerBefore = await eventually(
            async () => {
              const ops = await market.operations(broker.token);
              expect(
                ops.some((o) => o.type === 'accrual' && o.amount === 10 && String(o.description).includes(item.name)),
                'the accrual',
              ).to.equal(true);
              expect(
                ops.some(
                  (o) => o.type === 'commission' && o.amount === 0.01 && String(o.description).includes(seller.id),
                ),
                'the commission',
              ).to.equal(true);
              return ops;
            },
            5000,
            'the broker paid for the first deal',
          );
          const offer = await market.placed(seller.token, 'sell', item.id, 4); // 4 × 0.1 % = 0.004 → 0
          expect(offer.order).to.include({ status: 'pending', price: 4, commission: 0 });
          const buyer = await market.trader(100);
          expect((await market.placed(buyer.token, 'purchase', item.id, 4)).order.status).to.equal('paymentPending');
          await eventually(
            async () => {
              expect(await market.balance(buyer.token)).to.equal(96);
              expect(await market.balance(seller.token)).to.equal(100 - 10.01 + 4);
              const buyerOps = await market.operations(buyer.token);
              expect(buyerOps[0]).to.include({
                type: 'payment',
                amount: 4,
                description: DESCRIPTIONS.buying(item.name, '0.00'),
              });
              const sellerOps = await market.operations(seller.token);
              expect(sellerOps[0]).to.include({
                type: 'accrual',
                amount: 4,
                description: DESCRIPTIONS.selling(item.name, '0.00'),
              });
              expect((await market.deals(buyer.token)).map((d) => [d.type, d.amount, d.commission])).to.deep.equal([
                ['purchase', 4, 0],
              ]);
            },
            5000,
            'the deal without commission',
          );
          const brokerAfter = await market.operations(broker.token);
          expect(
            brokerAfter.slice(0, brokerAfter.length - brokerBefore.length),
            'no new broker operation',
          ).to.deep.equal([]);
        },
      );

      itHttp('validates the order: price 1 to 1000000 (2 decimals), an existing item → else 422', async () => {
        const item = await market.newItem({ initialPrice: 10000 });
        const t = await market.trader();
        for (const side of ['purchase', 'sell'] as const) {
          const post = (body: unknown) => market.postOrder(t.token, side, body, { 'idempotency-key': randomUUID() });
          expectViolation(
            await post({ itemId: item.id, price: 0.99 }),
            'price',
            'This value should be greater than or equal to 1.',
          );
          expectViolation(
            await post({ itemId: item.id, price: 0 }),
            'price',
            'This value should be greater than or equal to 1.',
          );
          expectViolation(
            await post({ itemId: item.id, price: 1000000.01 }),
            'price',
            'This value should be less than or equal to 1000000.',
          );
          expectViolation(await post({ itemId: item.id, price: 10.001 }), 'price');
          expectError(await post({ itemId: randomUUID(), price: 10 }), 422, TEXTS.itemDoesNotExist);
          for (const body of [
            { price: 10 },
            { itemId: item.id },
            { itemId: 5, price: 10 },
            { itemId: item.id, price: '10' },
            { itemId: item.id, price: 10, userId: t.id },
          ]) {
            const answer = await post(body);
            expect([400, 422], `${side} ${JSON.stringify(body)} → ${answer.status} ${answer.text}`).to.include(
              answer.status,
            );
          }
        }
        // The boundaries are accepted.
        expect((await market.placed(t.token, 'purchase', item.id, 1)).order.price).to.equal(1);
        expect((await market.placed(t.token, 'purchase', item.id, 1000000)).order).to.include({
          price: 1000000,
          status: 'paymentPending',
        });
      });

      itHttp(
        'a sell order with nothing to sell → 422 "no trading items for sale"; so is a second one for the only unit',
        async () => {
          const item = await market.newItem({ initialPrice: 100 });
          const t = await market.trader(0);
          expectError(await market.place(t.token, 'sell', item.id, 100), 422, TEXTS.noItemsForSale);
          const { item: held, trader } = await holder(100);
          const first = await market.placed(trader.token, 'sell', held.id, 500);
          expect(first.order).to.include({ status: 'pending', price: 500, commission: 50 });
          expectError(await market.place(trader.token, 'sell', held.id, 600), 422, TEXTS.noItemsForSale);
          // The broker cannot sell more units than it listed either.
          const broker = await market.broker();
          expectError(await market.place(broker.token, 'sell', item.id, 100), 422, TEXTS.noItemsForSale);
          await eventually(
            async () => {
              expect(await market.portfolio(trader.token)).to.deep.equal([
                { id: held.id, name: held.name, count: 1, onSaleCount: 1 },
              ]);
              expect((await market.activeOrders(trader.token, 'sell')).map((o) => o.price)).to.deep.equal([500]);
              expect(await market.portfolio(t.token)).to.deep.equal([]);
            },
            5000,
            'one unit on sale',
          );
        },
      );

      itHttp(
        'an Idempotency-Key replays the same 202 and body and places one order; the key with another body → 422',
        async () => {
          const item = await market.newItem({ initialPrice: 1000 });
          const t = await market.trader(0);
          const key = randomUUID();
          const first = await market.postOrder(
            t.token,
            'purchase',
            { itemId: item.id, price: 12 },
            { 'idempotency-key': key },
          );
          expect(first.status, first.text).to.equal(202);
          const again = await market.postOrder(
            t.token,
            'purchase',
            { itemId: item.id, price: 12 },
            { 'idempotency-key': key },
          );
          expect(again.status, again.text).to.equal(202);
          expect(again.body).to.deep.equal(first.body);
          expectError(
            await market.postOrder(t.token, 'purchase', { itemId: item.id, price: 13 }, { 'idempotency-key': key }),
            422,
            'Idempotency key reused with a different request',
          );
          await eventually(
            async () => {
              expect((await market.activeOrders(t.token, 'purchase')).map((o) => [o.id, o.price])).to.deep.equal([
                [first.body.id, 12],
              ]);
            },
            5000,
            'one order',
          );
        },
      );

      itHttp('after a refused sell order the ETag moved on; a fresh GET gives one that works', async () => {
        const item = await market.newItem();
        const t = await market.trader(0);
        const before = await market.etag(t.token, 'sell');
        expectError(
          await market.postOrder(t.token, 'sell', { itemId: item.id, price: 10 }, { 'if-match': before }),
          422,
          TEXTS.noItemsForSale,
        );
        // The refusal is recorded in the trader's order stream too: the old ETag is spent, and
        // the list's ETag follows once the view has the refusal (a 412 meanwhile changes nothing).
        expectError(
          await market.postOrder(t.token, 'purchase', { itemId: item.id, price: 10 }, { 'if-match': before }),
          412,
          TEXTS.stateChanged,
        );
        const bid = await eventually(
          async () => {
            const etag = await market.etag(t.token, 'sell');
            expect(etag).to.not.equal(before);
            const answer = await market.postOrder(
              t.token,
              'purchase',
              { itemId: item.id, price: 10 },
              { 'if-match': etag },
            );
            expect(answer.status, answer.text).to.equal(202);
            return answer;
          },
          5000,
          'a working ETag',
        );
        await eventually(
          async () =>
            expect((await market.activeOrders(t.token, 'purchase')).map((o) => o.id)).to.deep.equal([bid.body.id]),
          5000,
          'one bid',
        );
      });
    });

    describe('matching', () => {
      itHttp('a bid takes the lowest ask, then the oldest; the resting order sets price and commission', async () => {
        const item = await market.newItem({ initialCount: 3, initialPrice: 100, commissionPercent: 10 });
        const broker = await market.broker();
        const asks = await eventually(
          async () => {
            const orders = (await market.activeOrders(broker.token, 'sell')).filter((o) => o.itemId === item.id);
            expect(orders).to.have.length(3);
            return orders;
          },
          5000,
          'three resting asks',
        );
        // newest first: the oldest unit is the last one
        const buyer = await market.trader(1000);
        const bid = await market.placed(buyer.token, 'purchase', item.id, 150);
        expect(bid.order).to.include({ status: 'paymentPending', price: 150, commission: 15 });
        await eventually(
          async () => {
            const left = (await market.activeOrders(broker.token, 'sell')).filter((o) => o.itemId === item.id);
            expect(
              left.map((o) => o.id),
              'the oldest ask was taken',
            ).to.deep.equal(asks.slice(0, 2).map((o) => o.id));
            expect(await market.balance(buyer.token), 'paid the ask 100 + 10, not the bid').to.equal(890);
          },
          5000,
          'the deal at the resting ask',
        );
        // the buyer now offers lower than the broker: the next bid takes the buyer's ask
        const cheap = await market.placed(buyer.token, 'sell', item.id, 90);
        expect(cheap.order).to.include({ status: 'pending', commission: 9 });
        const second = await market.trader(1000);
        expect((await market.placed(second.token, 'purchase', item.id, 200)).order.status).to.equal('paymentPending');
        await eventually(
          async () => {
            expect(await market.balance(second.token), 'paid 90 + 9').to.equal(901);
            expect(await market.balance(buyer.token), 'received 90 − 9').to.equal(890 + 81);
            const deals = await market.deals(second.token);
            expect(deals.map((d) => [d.type, d.amount, d.commission])).to.deep.equal([['purchase', 90, 9]]);
          },
          5000,
          'the lowest ask was taken',
        );
      });

      itHttp(
        'a sell order takes the highest bid, then the oldest; the bid sets the terms; the answer is dealPending',
        async () => {
          const { item, trader: seller } = await holder(100);
          const low = await market.trader(1000);
          const highOld = await market.trader(1000);
          const highNew = await market.trader(1000);
          expect((await market.placed(low.token, 'purchase', item.id, 150)).order.status).to.equal('pending');
          expect((await market.placed(highOld.token, 'purchase', item.id, 300)).order.status).to.equal('pending');
          expect((await market.placed(highNew.token, 'purchase', item.id, 300)).order.status).to.equal('pending');
          const sellerBefore = await market.balance(seller.token);
          const sale = await market.placed(seller.token, 'sell', item.id, 120);
          expect(sale.order).to.include({ status: 'dealPending', price: 120, commission: 12 });
          await eventually(
            async () => {
              expect(await market.balance(highOld.token), 'the oldest highest bid paid 300 + 30').to.equal(670);
              expect(await market.balance(seller.token), 'the seller got 300 − 30').to.equal(sellerBefore + 270);
              expect(await market.balance(highNew.token)).to.equal(1000);
              expect(await market.balance(low.token)).to.equal(1000);
              expect((await market.deals(seller.token))[0]).to.include({ type: 'sale', amount: 300, commission: 30 });
              expect(await market.portfolio(highOld.token)).to.deep.equal([
                { id: item.id, name: item.name, count: 1, onSaleCount: 0 },
              ]);
              expect(await market.portfolio(seller.token)).to.deep.equal([]);
            },
            5000,
            'the deal at the highest, oldest bid',
          );
          expect((await market.activeOrders(highNew.token, 'purchase')).map((o) => o.status)).to.deep.equal([
            'pending',
          ]);
          expect((await market.activeOrders(low.token, 'purchase')).map((o) => o.status)).to.deep.equal(['pending']);
        },
      );

      itHttp('a bid that arrived while the ask was in a deal takes it once the first buyer could not pay', async () => {
        const settlement = server.system.runners.find((r) => r.handler.name === 'deal-settlement')!;
        const item = await market.newItem({ initialPrice: 100 });
        const poor = await market.trader(0);
        const rich = await market.trader(1000);
        await settlement.stop(); // hold the payment back until the second bid is in
        let resumed = false;
        try {
          expect((await market.placed(poor.token, 'purchase', item.id, 100)).order.status).to.equal('paymentPending');
          expect(
            (await market.placed(rich.token, 'purchase', item.id, 120)).order.status,
            'the ask is in a deal',
          ).to.equal('pending');
          settlement.start();
          resumed = true;
          await eventually(
            async () => {
              expect(await market.balance(rich.token), 'the rich bid took the ask at its terms: 100 + 10').to.equal(
                890,
              );
              expect(await market.portfolio(rich.token)).to.deep.equal([
                { id: item.id, name: item.name, count: 1, onSaleCount: 0 },
              ]);
              expect(await market.activeOrders(rich.token, 'purchase')).to.deep.equal([]);
              expect(await market.notifications(poor.token)).to.have.length(1);
              expect(await market.balance(poor.token)).to.equal(0);
            },
            5000,
            'the second bid matched after the failure',
          );
        } finally {
          if (!resumed) settlement.start();
        }
      });

      itHttp('a trader’s own orders never match each other', async () => {
        const { item, trader } = await holder(100);
        expect((await market.placed(trader.token, 'sell', item.id, 100)).order.status).to.equal('pending');
        const bid = await market.placed(trader.token, 'purchase', item.id, 200);
        expect(bid.order.status, 'not matched with the own ask').to.equal('pending');
        await eventually(
          async () => {
            expect((await market.activeOrders(trader.token, 'sell')).map((o) => o.status)).to.deep.equal(['pending']);
            expect((await market.activeOrders(trader.token, 'purchase')).map((o) => o.status)).to.deep.equal([
              'pending',
            ]);
          },
          5000,
          'both rest',
        );
      });
    });

    describe('canceling', () => {
      itHttp(
        'the owner cancels a pending order → 200 canceled; twice → 200 canceled both times; it leaves the active list',
        async () => {
          const item = await market.newItem({ initialPrice: 1000 });
          const t = await market.trader(0);
          const { order } = await market.placed(t.token, 'purchase', item.id, 50);
          const first = await market.cancel(t.token, 'purchase', order.id);
          expect(first.status, first.text).to.equal(200);
          expect(Object.keys(first.body).sort()).to.deep.equal(ORDER_FIELDS);
          expect(first.body).to.include({
            id: order.id,
            itemId: item.id,
            price: 50,
            commission: 5,
            status: 'canceled',
          });
          const second = await market.cancel(t.token, 'purchase', order.id);
          expect(second.status, second.text).to.equal(200);
          expect(second.body).to.include({ id: order.id, status: 'canceled' });
          await eventually(
            async () => expect(await market.activeOrders(t.token, 'purchase')).to.deep.equal([]),
            5000,
            'the list is empty',
          );
        },
      );

      itHttp('cancel ignores If-Match (a stale one too) and needs no Idempotency-Key', async () => {
        const item = await market.newItem({ initialPrice: 1000 });
        const t = await market.trader(0);
        const { order } = await market.placed(t.token, 'purchase', item.id, 50);
        const answer = await api.post(`${pathOf('purchase')}/${order.id}/cancel`, {
          token: t.token,
          headers: { 'if-match': '"12345"' },
        });
        expect(answer.status, answer.text).to.equal(200);
        expect(answer.body.status).to.equal('canceled');
      });

      itHttp(
        'another user’s order → 403 "Operation denied"; unknown → 404 "Not found"; the wrong side’s path → 404',
        async () => {
          const item = await market.newItem({ initialPrice: 1000 });
          const owner = await market.trader(0);
          const other = await market.trader(0);
          const { order } = await market.placed(owner.token, 'purchase', item.id, 50);
          await eventually(
            async () =>
              expect((await market.activeOrders(owner.token, 'purchase')).map((o) => o.id)).to.deep.equal([order.id]),
            5000,
            'the order is listed',
          );
          expectError(await market.cancel(other.token, 'purchase', order.id), 403, TEXTS.operationDenied);
          expectError(await market.cancel(owner.token, 'purchase', randomUUID()), 404, TEXTS.notFound);
          expectError(await market.cancel(owner.token, 'purchase', 'no-such-order-u1'), 404, TEXTS.notFound);
          expectError(await market.cancel(owner.token, 'sell', order.id), 404, TEXTS.notFound);
          // the broker's initial units are someone else's orders too
          const brokerAsks = await eventually(
            async () => {
              const asks = (await market.activeOrders((await market.broker()).token, 'sell')).filter(
                (o) => o.itemId === item.id,
              );
              expect(asks).to.have.length(1);
              return asks;
            },
            5000,
            'the broker’s ask',
          );
          expectError(await market.cancel(other.token, 'sell', brokerAsks[0].id), 403, TEXTS.operationDenied);
          expectError(await api.post(`${pathOf('purchase')}/${order.id}/cancel`), 401);
          const still = await market.activeOrders(owner.token, 'purchase');
          expect(still.map((o) => [o.id, o.status])).to.deep.equal([[order.id, 'pending']]);
        },
      );

      itHttp('an order that is not pending (in a deal, approved, failed) → 422 "cannot cancel order"', async () => {
        // approved (both sides) after a deal
        const { item, trader: buyer } = await holder(100);
        const second = await market.trader(1000);
        const sell = await market.placed(buyer.token, 'sell', item.id, 100);
        const bid = await market.placed(second.token, 'purchase', item.id, 100);
        expect(bid.order.status).to.equal('paymentPending');
        const inDeal = await market.cancel(second.token, 'purchase', bid.order.id);
        // Right after the placement the deal may still be running (paymentPending) or done (approved): not cancelable either way.
        expectError(inDeal, 422, TEXTS.cannotCancel);
        await eventually(
          async () => expect(await market.portfolio(second.token)).to.have.length(1),
          5000,
          'the deal done',
        );
        expectError(await market.cancel(second.token, 'purchase', bid.order.id), 422, TEXTS.cannotCancel);
        expectError(await market.cancel(buyer.token, 'sell', sell.order.id), 422, TEXTS.cannotCancel);

        // failed: a bid the buyer cannot pay
        const poorItem = await market.newItem({ initialPrice: 100 });
        const poor = await market.trader(0);
        const failed = await market.placed(poor.token, 'purchase', poorItem.id, 100);
        await eventually(
          async () => expect(await market.notifications(poor.token)).to.have.length(1),
          5000,
          'the declined letter',
        );
        expectError(await market.cancel(poor.token, 'purchase', failed.order.id), 422, TEXTS.cannotCancel);
      });

      itHttp('canceling a sell order puts its unit back off sale; the unit can be offered again', async () => {
        const { item, trader } = await holder(100);
        const offer = await market.placed(trader.token, 'sell', item.id, 700);
        await eventually(
          async () => {
            expect(await market.portfolio(trader.token)).to.deep.equal([
              { id: item.id, name: item.name, count: 1, onSaleCount: 1 },
            ]);
          },
          5000,
          'on sale',
        );
        const canceled = await market.cancel(trader.token, 'sell', offer.order.id);
        expect(canceled.status, canceled.text).to.equal(200);
        expect(canceled.body).to.include({ id: offer.order.id, status: 'canceled', price: 700, commission: 70 });
        await eventually(
          async () => {
            expect(await market.portfolio(trader.token)).to.deep.equal([
              { id: item.id, name: item.name, count: 1, onSaleCount: 0 },
            ]);
            expect(await market.activeOrders(trader.token, 'sell')).to.deep.equal([]);
          },
          5000,
          'back off sale',
        );
        // a bid at the old price no longer matches
        const bidder = await market.trader(1000);
        expect((await market.placed(bidder.token, 'purchase', item.id, 700)).order.status).to.equal('pending');
        // and the unit can be offered again (it matches that bid now)
        const again = await market.placed(trader.token, 'sell', item.id, 650);
        expect(again.order.status).to.equal('dealPending');
        await eventually(
          async () => {
            expect(await market.portfolio(trader.token)).to.deep.equal([]);
            expect(await market.balance(bidder.token)).to.equal(1000 - 770);
          },
          5000,
          'sold at the resting bid',
        );
      });

      itHttp('the broker cancels one of its initial units: the unit leaves the book and goes off sale', async () => {
        const item = await market.newItem({ initialCount: 2, initialPrice: 100 });
        const broker = await market.broker();
        const asks = await eventually(
          async () => {
            const found = (await market.activeOrders(broker.token, 'sell')).filter((o) => o.itemId === item.id);
            expect(found).to.have.length(2);
            return found;
          },
          5000,
          'two asks',
        );
        for (const ask of asks) {
          const answer = await market.cancel(broker.token, 'sell', ask.id);
          expect(answer.status, answer.text).to.equal(200);
          expect(answer.body).to.include({ id: ask.id, status: 'canceled', itemId: item.id });
        }
        await eventually(
          async () => {
            const mine = (await market.portfolio(broker.token)).filter((p) => p.id === item.id);
            expect(mine).to.deep.equal([{ id: item.id, name: item.name, count: 2, onSaleCount: 0 }]);
          },
          5000,
          'off sale',
        );
        const bidder = await market.trader(1000);
        expect(
          (await market.placed(bidder.token, 'purchase', item.id, 100)).order.status,
          'nothing left to match',
        ).to.equal('pending');
        // the broker still owns both units and may offer one again: it takes the resting bid
        const again = await market.placed(broker.token, 'sell', item.id, 90);
        expect(again.order.status).to.equal('dealPending');
        await eventually(
          async () => {
            expect(await market.balance(bidder.token), 'the bid set the terms: 100 + 10').to.equal(890);
            const mine = (await market.portfolio(broker.token)).filter((p) => p.id === item.id);
            expect(mine).to.deep.equal([{ id: item.id, name: item.name, count: 1, onSaleCount: 0 }]);
          },
          5000,
          'the re-offered unit sold',
        );
      });

      itHttp(
        'another user canceling an order the read models have not caught up with yet still gets 403, not 404',
        async () => {
          const projection = server.system.runners.find((r) => r.handler.name === 'trading')!;
          const item = await market.newItem({ initialPrice: 1000 });
          const owner = await market.trader(0);
          const other = await market.trader(0);
          await projection.stop(); // the trading read model lags behind, as it may at any time
          let resumed = false;
          try {
            const { order } = await market.placed(owner.token, 'purchase', item.id, 50);
            const answer = await market.cancel(other.token, 'purchase', order.id);
            projection.start();
            resumed = true;
            expectError(answer, 403, TEXTS.operationDenied);
          } finally {
            if (!resumed) projection.start();
          }
        },
      );
    });

    describe('active lists, portfolio and isolation', () => {
      itHttp(
        'active lists drop approved, failed and canceled orders, and keep pending ones, newest first',
        async () => {
          const item = await market.newItem({ initialCount: 2, initialPrice: 100 });
          const t = await market.trader(150); // can pay one unit (110), not two
          const canceled = await market.placed(t.token, 'purchase', item.id, 10);
          expect((await market.cancel(t.token, 'purchase', canceled.order.id)).status).to.equal(200);
          const resting = await market.placed(t.token, 'purchase', item.id, 20);
          const approved = await market.placed(t.token, 'purchase', item.id, 100);
          expect(approved.order.status).to.equal('paymentPending');
          await eventually(async () => expect(await market.balance(t.token)).to.equal(40), 5000, 'the first deal paid');
          const failed = await market.placed(t.token, 'purchase', item.id, 100);
          expect(failed.order.status).to.equal('paymentPending');
          await eventually(
            async () => {
              expect(await market.notifications(t.token)).to.have.length(2);
              const active = await market.activeOrders(t.token, 'purchase');
              expect(active.map((o) => [o.id, o.status])).to.deep.equal([[resting.order.id, 'pending']]);
            },
            5000,
            'only the resting order is active',
          );
          const broker = await market.broker();
          await eventually(
            async () => {
              const asks = (await market.activeOrders(broker.token, 'sell')).filter((o) => o.itemId === item.id);
              expect(
                asks.map((o) => o.status),
                'the approved ask left, the failed deal’s ask rests again',
              ).to.deep.equal(['pending']);
            },
            5000,
            'the broker’s list',
          );
        },
      );

      itHttp('one trader’s active orders and portfolio are invisible to another', async () => {
        const { item, trader: a } = await holder(100);
        const b = await market.trader(0);
        await market.placed(a.token, 'sell', item.id, 900);
        await market.placed(a.token, 'purchase', item.id, 5);
        await eventually(
          async () => {
            expect(await market.activeOrders(a.token, 'sell')).to.have.length(1);
            expect(await market.activeOrders(a.token, 'purchase')).to.have.length(1);
            expect(await market.portfolio(a.token)).to.have.length(1);
          },
          5000,
          'a’s orders listed',
        );
        expect(await market.activeOrders(b.token, 'sell')).to.deep.equal([]);
        expect(await market.activeOrders(b.token, 'purchase')).to.deep.equal([]);
        expect(await market.portfolio(b.token)).to.deep.equal([]);
        expect(await market.deals(b.token)).to.deep.equal([]);
        expect(await market.notifications(b.token)).to.deep.equal([]);
        expect(await market.etag(b.token, 'purchase')).to.equal('"-1"');
        // query parameters do not reach another user's data
        const sneaky = await api.get(`${pathOf('sell')}?userId=${a.id}`, { token: b.token });
        expect(sneaky.status === 200 ? sneaky.body : []).to.deep.equal([]);
      });

      itHttp('GET /trading/user-items: the portfolio by item name with id, name, count, onSaleCount', async () => {
        const t = await market.trader(10000);
        const prefix = `pf-${randomUUID().slice(0, 6)}`;
        const b = await market.newItem({ name: `${prefix} B`, initialPrice: 10 });
        const a = await market.newItem({ name: `${prefix} A`, initialCount: 2, initialPrice: 10 });
        await market.placed(t.token, 'purchase', b.id, 10);
        await market.placed(t.token, 'purchase', a.id, 10);
        await market.placed(t.token, 'purchase', a.id, 10);
        await eventually(
          async () => {
            expect(await market.portfolio(t.token)).to.deep.equal([
              { id: a.id, name: a.name, count: 2, onSaleCount: 0 },
              { id: b.id, name: b.name, count: 1, onSaleCount: 0 },
            ]);
          },
          5000,
          'the portfolio',
        );
        await market.placed(t.token, 'sell', a.id, 50);
        await eventually(
          async () => {
            expect((await market.portfolio(t.token))[0]).to.deep.equal({
              id: a.id,
              name: a.name,
              count: 2,
              onSaleCount: 1,
            });
          },
          5000,
          'one unit on sale',
        );
        // The operations are another projection's: they may come in after the portfolio.
        await eventually(
          async () => {
            const ops = await market.operations(t.token);
            expect(ops.filter((o) => o.type === 'payment').map((o) => [o.amount, o.description])).to.deep.equal([
              [11, DESCRIPTIONS.buying(a.name, '1.00')],
              [11, DESCRIPTIONS.buying(a.name, '1.00')],
              [11, DESCRIPTIONS.buying(b.name, '1.00')],
            ]);
          },
          5000,
          'the three payments',
        );
      });
    });

    describe('lists: limit and Link rel="next"', () => {
      async function allPages(
        token: string,
        path: string,
        limit: number,
      ): Promise<{ pages: JsonBody[][]; items: JsonBody[] }> {
        const pages: JsonBody[][] = [];
        let next: string | null = `${path}?limit=${limit}`;
        while (next) {
          expect(pages.length, 'pages followed').to.be.lessThan(100);
          const answer: Answer = await api.get(next, { token });
          expect(answer.status, answer.text).to.equal(200);
          expect(answer.body).to.be.an('array');
          expect(answer.body.length).to.be.at.most(limit);
          pages.push(answer.body);
          next = nextLink(answer);
        }
        return { pages, items: pages.flat() };
      }

      itHttp(
        'active orders, history and notifications page with limit and Link, newest first, without gaps or repeats',
        async () => {
          const item = await market.newItem({ initialCount: 3, initialPrice: 10 });
          const t = await market.trader(1000);
          const bids: string[] = [];
          for (const price of [1, 2, 3, 4, 5])
            bids.push((await market.placed(t.token, 'purchase', item.id, price)).order.id);
          for (let i = 0; i < 3; i++) await market.placed(t.token, 'purchase', item.id, 10);
          await eventually(async () => expect(await market.deals(t.token)).to.have.length(3), 5000, 'three deals');
          await eventually(
            async () => expect(await market.notifications(t.token)).to.have.length(3),
            5000,
            'three letters',
          );
          // The trading view follows its own subscription: wait until the matched bids have left the active list.
          await eventually(
            async () =>
              expect((await market.activeOrders(t.token, 'purchase')).map((o) => o.id)).to.deep.equal(
                [...bids].reverse(),
              ),
            5000,
            'matched bids leave the list',
          );
          const orders = await allPages(t.token, pathOf('purchase'), 2);
          expect(orders.items.map((o) => o.id)).to.deep.equal([...bids].reverse());
          expect(orders.pages.map((p) => p.length)).to.deep.equal([2, 2, 1]);
          const deals = await allPages(t.token, '/api/v1/history/deals', 2);
          expect(deals.items.map((d) => d.id)).to.deep.equal((await market.deals(t.token)).map((d) => d.id));
          expect(new Set(deals.items.map((d) => d.id)).size).to.equal(3);
          const letters = await allPages(t.token, '/api/v1/notifications', 1);
          expect(letters.items.map((n) => n.id)).to.deep.equal((await market.notifications(t.token)).map((n) => n.id));
          for (const path of [
            pathOf('purchase'),
            '/api/v1/trading/items',
            '/api/v1/trading/user-items',
            '/api/v1/history/deals',
            '/api/v1/notifications',
          ]) {
            for (const limit of ['0', '501', 'x']) {
              const answer = await api.get(`${path}?limit=${limit}`, { token: t.token });
              expect([400, 422], `${path}?limit=${limit} → ${answer.status}`).to.include(answer.status);
            }
          }
        },
      );

      itHttp(
        'GET /trading/user-items?limit=1 shows a held item even when an item the trader sold out of sorts before it',
        async () => {
          const prefix = `sold-${randomUUID().slice(0, 6)}`;
          const soldOut = await market.newItem({ name: `${prefix} A`, initialPrice: 10 });
          const kept = await market.newItem({ name: `${prefix} B`, initialPrice: 10 });
          const t = await market.trader(1000);
          await market.placed(t.token, 'purchase', soldOut.id, 10);
          await market.placed(t.token, 'purchase', kept.id, 10);
          await eventually(
            async () => expect(await market.portfolio(t.token)).to.have.length(2),
            5000,
            'two items held',
          );
          const buyer = await market.trader(1000);
          await market.placed(t.token, 'sell', soldOut.id, 10);
          await market.placed(buyer.token, 'purchase', soldOut.id, 10);
          await eventually(
            async () => {
              expect(await market.portfolio(t.token)).to.deep.equal([
                { id: kept.id, name: kept.name, count: 1, onSaleCount: 0 },
              ]);
            },
            5000,
            'A sold out',
          );
          const firstPage = await api.get('/api/v1/trading/user-items?limit=1', { token: t.token });
          expect(firstPage.status).to.equal(200);
          expect(
            firstPage.body,
            `limit=1 answered ${firstPage.text} with Link ${firstPage.headers.get('link')}`,
          ).to.deep.equal([{ id: kept.id, name: kept.name, count: 1, onSaleCount: 0 }]);
        },
      );
    });

    describe('order placement finished by the process manager', () => {
      itHttp(
        'a sell order refused with 422 never enters the book later, even when the seller owns a unit by the time the order-placement process manager sees it',
        async () => {
          const runner = server.system.runners.find((r) => r.handler.name === 'order-placement');
          expect(runner, 'the order-placement runner').to.not.equal(undefined);
          const item = await market.newItem({ initialPrice: 100 });
          const t = await market.trader(1000);
          // The process manager lags behind (as after a restart, or under load).
          await runner!.stop();
          let resumed = false;
          try {
            expectError(await market.place(t.token, 'sell', item.id, 500), 422, TEXTS.noItemsForSale);
            // Then the trader buys a unit.
            expect((await market.placed(t.token, 'purchase', item.id, 100)).order.status).to.equal('paymentPending');
            await eventually(
              async () => {
                expect(await market.portfolio(t.token)).to.deep.equal([
                  { id: item.id, name: item.name, count: 1, onSaleCount: 0 },
                ]);
              },
              5000,
              'the unit bought',
            );
            const stream = await server.system.eventStore.readStream(`trader-orders-${t.id}`);
            expect(stream.status).to.equal('found');
            const events = stream.status === 'found' ? stream.events : [];
            const rejected = events.find((e) => e.type === 'OrderRejected');
            expect(rejected, 'the refusal is recorded').to.not.equal(undefined);
            const submitted = events.find(
              (e) => e.type === 'OrderSubmitted' && e.data.orderId === rejected!.data.orderId,
            )!;
            // The process manager catches up with the refused order's submission.
            runner!.start();
            resumed = true;
            await runner!.waitFor(submitted.position, AbortSignal.timeout(5000));
            expect(runner!.hasReached(submitted.position), 'the process manager caught up').to.equal(true);
            const marketStream = await server.system.eventStore.readStream(`market-${item.id}`);
            const placedLater =
              marketStream.status === 'found'
                ? marketStream.events.filter(
                    (e) => e.type === 'SellOrderPlaced' && e.data.orderId === rejected!.data.orderId,
                  )
                : [];
            expect(
              placedLater.map((e) => e.data),
              'the refused order placed in the book after all',
            ).to.deep.equal([]);
            await eventually(
              async () => {
                expect(await market.activeOrders(t.token, 'sell')).to.deep.equal([]);
                expect(await market.portfolio(t.token)).to.deep.equal([
                  { id: item.id, name: item.name, count: 1, onSaleCount: 0 },
                ]);
              },
              1000,
              'nothing on sale',
            );
          } finally {
            if (!resumed) runner!.start();
          }
        },
      );
    });
  });
}
