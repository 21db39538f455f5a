/**
 * Trading under concurrency, over HTTP on a real listening server per event store:
 * many buyers racing for the last unit, identical placements with one If-Match, one
 * unit offered many times at once, one buyer's bids racing for one balance. Money is
 * conserved to the cent and no unit is in two deals.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ApiServer } from '../support/api-server.js';
import { withApiServer, eventStores, expectError, itHttp } from './client.js';
import { eventually, Market, TEXTS, type NamedTrader } from './trading-client.js';

const sum = (values: number[]) => Math.round(values.reduce((a, b) => a + b, 0) * 100) / 100;

for (const eventStore of eventStores) {
  describe(`HTTP trading under concurrency (${eventStore} event store)`, function () {
    this.timeout(60_000);
    let server: ApiServer;
    let market: Market;
    withApiServer(eventStore, (started, client) => {
      server = started;
      market = new Market(client);
    });

    async function traders(count: number, money: number): Promise<NamedTrader[]> {
      return Promise.all(Array.from({ length: count }, () => market.trader(money)));
    }

    async function marketEvents(itemId: string) {
      const read = await server.system.eventStore.readStream(`market-${itemId}`);
      return read.status === 'found' ? read.events : [];
    }

    itHttp(
      '20 traders with money bid at once for the last unit: exactly one deal, nineteen resting bids, nobody charged twice, money conserved',
      async () => {
        const broker = await market.broker();
        const item = await market.newItem({ initialCount: 1, initialPrice: 100, commissionPercent: 10 });
        const brokerBefore = await market.balance(broker.token);
        const bidders = await traders(20, 1000);
        const etags = await Promise.all(bidders.map((t) => market.etag(t.token, 'purchase')));

        const answers = await Promise.all(
          bidders.map((t, i) =>
            market.postOrder(t.token, 'purchase', { itemId: item.id, price: 100 }, { 'if-match': etags[i]! }),
          ),
        );
        for (const a of answers) expect(a.status, a.text).to.equal(202);
        const statuses = answers.map((a) => a.body.status as string);
        expect(
          statuses.filter((s) => s === 'paymentPending'),
          'exactly one bid matched',
        ).to.have.length(1);
        expect(
          statuses.filter((s) => s === 'pending'),
          'nineteen rest',
        ).to.have.length(19);
        const winner = statuses.indexOf('paymentPending');

        await eventually(
          async () => {
            const balances = await Promise.all(bidders.map((t) => market.balance(t.token)));
            expect(balances[winner], 'the winner paid 100 + 10').to.equal(890);
            expect(
              balances.filter((b, i) => i !== winner && b === 1000),
              'the others paid nothing',
            ).to.have.length(19);
            const brokerAfter = await market.balance(broker.token);
            expect(
              brokerAfter - brokerBefore,
              'the broker got 100 (its own sale) + 10 (the buyer’s commission)',
            ).to.be.closeTo(110, 0.001);
            // conservation: what the bidders lost is exactly what the broker gained
            expect(sum(balances) + sum([brokerAfter, -brokerBefore])).to.equal(20000);
          },
          10_000,
          'one deal settled',
        );

        const operations = await Promise.all(bidders.map((t) => market.operations(t.token)));
        const payments = operations.flatMap((ops) => ops.filter((o) => o.type === 'payment'));
        expect(
          payments.map((o) => o.amount),
          'exactly one payment among the 20',
        ).to.deep.equal([110]);
        expect(operations[winner]!.map((o) => [o.type, o.amount])).to.deep.equal([
          ['payment', 110],
          ['deposit', 1000],
        ]);

        await eventually(
          async () => {
            const lists = await Promise.all(bidders.map((t) => market.activeOrders(t.token, 'purchase')));
            lists.forEach((list, i) => {
              if (i === winner) expect(list, 'the winner’s order is approved, not active').to.deep.equal([]);
              else
                expect(
                  list.map((o) => [o.id, o.status, o.price]),
                  `bidder ${i} still bids`,
                ).to.deep.equal([[answers[i]!.body.id, 'pending', 100]]);
            });
            const portfolios = await Promise.all(bidders.map((t) => market.portfolio(t.token)));
            expect(portfolios.map((p) => p.length)).to.deep.equal(bidders.map((_, i) => (i === winner ? 1 : 0)));
            const deals = await Promise.all(bidders.map((t) => market.deals(t.token)));
            expect(deals.map((d) => d.length)).to.deep.equal(bidders.map((_, i) => (i === winner ? 1 : 0)));
          },
          10_000,
          'nineteen resting bids, one unit moved',
        );

        const events = await marketEvents(item.id);
        expect(
          events.filter((e) => e.type === 'DealOpened'),
          'one deal opened',
        ).to.have.length(1);
        expect(
          events.filter((e) => e.type === 'DealCompleted'),
          'one deal completed',
        ).to.have.length(1);
        expect(
          events.filter((e) => e.type === 'PurchaseOrderPlaced'),
          'every bid entered the book once',
        ).to.have.length(20);
      },
    );

    itHttp('20 traders bid at once for 5 units: exactly 5 deals, 15 resting bids, no unit sold twice', async () => {
      const broker = await market.broker();
      const item = await market.newItem({ initialCount: 5, initialPrice: 50, commissionPercent: 2 });
      const brokerBefore = await market.balance(broker.token);
      const bidders = await traders(20, 100);
      const answers = await Promise.all(bidders.map((t) => market.place(t.token, 'purchase', item.id, 60)));
      for (const a of answers) expect(a.status, a.text).to.equal(202);
      expect(answers.filter((a) => a.body.status === 'paymentPending')).to.have.length(5);
      const winners = new Set(answers.flatMap((a, i) => (a.body.status === 'paymentPending' ? [i] : [])));
      await eventually(
        async () => {
          const balances = await Promise.all(bidders.map((t) => market.balance(t.token)));
          // the resting ask sets the terms: 50 + 1
          expect(
            balances.map((b, i) => (winners.has(i) ? b === 49 : b === 100)).every(Boolean),
            `balances ${balances.join(', ')}`,
          ).to.equal(true);
          expect((await market.balance(broker.token)) - brokerBefore).to.be.closeTo(5 * 51, 0.001);
          const broker_ = (await market.portfolio(broker.token)).filter((p) => p.id === item.id);
          expect(broker_, 'the broker sold all five').to.deep.equal([]);
        },
        10_000,
        'five deals settled',
      );
      const events = await marketEvents(item.id);
      const opened = events.filter((e) => e.type === 'DealOpened');
      expect(opened).to.have.length(5);
      expect(new Set(opened.map((e) => e.data.sellOrderId)).size, 'five different units').to.equal(5);
      expect(events.filter((e) => e.type === 'DealCompleted')).to.have.length(5);
    });

    itHttp('10 identical purchase orders with the same If-Match at once: one 202, nine 412, one order', async () => {
      const item = await market.newItem({ initialPrice: 1000 });
      const t = await market.trader(0);
      const etag = await market.etag(t.token, 'purchase');
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          market.postOrder(t.token, 'purchase', { itemId: item.id, price: 10 }, { 'if-match': etag }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).to.deep.equal([202, ...Array(9).fill(412)]);
      for (const a of answers.filter((x) => x.status === 412)) expectError(a, 412, TEXTS.stateChanged);
      const accepted = answers.find((a) => a.status === 202)!;
      await eventually(
        async () => {
          expect((await market.activeOrders(t.token, 'purchase')).map((o) => o.id)).to.deep.equal([accepted.body.id]);
          expect(await market.etag(t.token, 'purchase')).to.equal(accepted.headers.get('etag'));
        },
        5000,
        'one order',
      );
      const placed = (await marketEvents(item.id)).filter((e) => e.type === 'PurchaseOrderPlaced');
      expect(placed.map((e) => e.data.orderId)).to.deep.equal([accepted.body.id]);
    });

    itHttp('10 identical sell orders with the same If-Match at once: one 202, nine 412', async () => {
      const item = await market.newItem({ initialPrice: 100 });
      const t = await market.trader(1000);
      expect((await market.placed(t.token, 'purchase', item.id, 100)).order.status).to.equal('paymentPending');
      await eventually(async () => expect(await market.portfolio(t.token)).to.have.length(1), 5000, 'the unit bought');
      const etag = await eventually(
        async () => {
          const value = await market.etag(t.token, 'sell');
          expect(value).to.not.equal('"-1"');
          return value;
        },
        5000,
        'the ETag after the bid',
      );
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          market.postOrder(t.token, 'sell', { itemId: item.id, price: 300 }, { 'if-match': etag }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).to.deep.equal([202, ...Array(9).fill(412)]);
      await eventually(
        async () => {
          expect((await market.activeOrders(t.token, 'sell')).map((o) => o.price)).to.deep.equal([300]);
          expect(await market.portfolio(t.token)).to.deep.equal([
            { id: item.id, name: item.name, count: 1, onSaleCount: 1 },
          ]);
        },
        5000,
        'one unit on sale',
      );
    });

    itHttp(
      'one unit offered 10 times at once with distinct keys: one 202, nine 422 "no trading items for sale"',
      async () => {
        const item = await market.newItem({ initialPrice: 100 });
        const t = await market.trader(1000);
        expect((await market.placed(t.token, 'purchase', item.id, 100)).order.status).to.equal('paymentPending');
        await eventually(
          async () => expect(await market.portfolio(t.token)).to.have.length(1),
          5000,
          'the unit bought',
        );
        const answers = await Promise.all(
          Array.from({ length: 10 }, (_, i) => market.place(t.token, 'sell', item.id, 200 + i)),
        );
        expect(answers.map((a) => a.status).sort()).to.deep.equal([202, ...Array(9).fill(422)]);
        for (const a of answers.filter((x) => x.status === 422)) expectError(a, 422, TEXTS.noItemsForSale);
        await eventually(
          async () => {
            expect(await market.activeOrders(t.token, 'sell')).to.have.length(1);
            expect(await market.portfolio(t.token)).to.deep.equal([
              { id: item.id, name: item.name, count: 1, onSaleCount: 1 },
            ]);
          },
          5000,
          'one unit on sale',
        );
      },
    );

    itHttp('the same Idempotency-Key sent 10 times at once places one order', async () => {
      const item = await market.newItem({ initialPrice: 1000 });
      const t = await market.trader(0);
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          market.postOrder(t.token, 'purchase', { itemId: item.id, price: 10 }, { 'idempotency-key': key }),
        ),
      );
      const ok = answers.filter((a) => a.status === 202);
      expect(ok.length, `statuses ${answers.map((a) => a.status).join(', ')}`).to.be.at.least(1);
      for (const a of answers) expect([202, 409], a.text).to.include(a.status);
      expect(new Set(ok.map((a) => a.body.id)).size, 'the same order every time').to.equal(1);
      await eventually(
        async () => expect(await market.activeOrders(t.token, 'purchase')).to.have.length(1),
        5000,
        'one order',
      );
      expect((await marketEvents(item.id)).filter((e) => e.type === 'PurchaseOrderPlaced')).to.have.length(1);
    });

    itHttp(
      'a cancel racing a matching bid: either the cancel wins (the bid rests) or the deal does (422), never both',
      async () => {
        const broker = await market.broker();
        const rounds = 5;
        const bidders = await traders(rounds, 1000);
        for (let round = 0; round < rounds; round++) {
          const item = await market.newItem({ initialPrice: 100 });
          const ask = await eventually(
            async () => {
              const found = (await market.activeOrders(broker.token, 'sell')).filter((o) => o.itemId === item.id);
              expect(found).to.have.length(1);
              return found[0];
            },
            5000,
            'the ask listed',
          );
          const bidder = bidders[round]!;
          const [cancel, bid] = await Promise.all([
            market.cancel(broker.token, 'sell', ask.id),
            market.place(bidder.token, 'purchase', item.id, 100),
          ]);
          expect(bid.status, bid.text).to.equal(202);
          if (cancel.status === 200) {
            expect(cancel.body.status).to.equal('canceled');
            expect(bid.body.status, `round ${round}: canceled, so the bid rests`).to.equal('pending');
          } else {
            expectError(cancel, 422, TEXTS.cannotCancel);
            expect(bid.body.status, `round ${round}: the deal won`).to.equal('paymentPending');
          }
          await eventually(
            async () => {
              expect(await market.balance(bidder.token)).to.equal(cancel.status === 200 ? 1000 : 890);
              const held = (await market.portfolio(broker.token)).filter((p) => p.id === item.id);
              expect(held, 'the broker keeps the unit, off sale, only if the cancel won').to.deep.equal(
                cancel.status === 200 ? [{ id: item.id, name: item.name, count: 1, onSaleCount: 0 }] : [],
              );
            },
            5000,
            `round ${round} settled`,
          );
          const events = await marketEvents(item.id);
          expect(
            events.filter((e) => e.type === 'OrderCanceled' || e.type === 'DealOpened'),
            'one of the two',
          ).to.have.length(1);
        }
      },
    );

    itHttp('a bid and an ask that cross, sent at the same moment, always trade (5 rounds)', async () => {
      for (let round = 0; round < 5; round++) {
        const item = await market.newItem({ initialPrice: 100 });
        const seller = await market.trader(1000);
        expect((await market.placed(seller.token, 'purchase', item.id, 100)).order.status).to.equal('paymentPending');
        await eventually(
          async () => expect(await market.portfolio(seller.token)).to.have.length(1),
          5000,
          'the unit bought',
        );
        const buyer = await market.trader(1000);
        const [ask, bid] = await Promise.all([
          market.place(seller.token, 'sell', item.id, 150),
          market.place(buyer.token, 'purchase', item.id, 150),
        ]);
        expect(ask.status, ask.text).to.equal(202);
        expect(bid.status, bid.text).to.equal(202);
        const statuses = [ask.body.status, bid.body.status].sort();
        expect(
          ['dealPending,pending', 'paymentPending,pending'],
          `round ${round}: the second one decided matches the first`,
        ).to.include(statuses.join(','));
        await eventually(
          async () => {
            expect(await market.balance(buyer.token)).to.equal(1000 - 165);
            expect(await market.balance(seller.token)).to.equal(1000 - 110 + 135);
          },
          5000,
          `round ${round}: the deal settled`,
        );
      }
    });

    itHttp(
      'one buyer’s bids racing for one balance: the balance never goes below zero, the unpaid unit goes back on sale',
      async () => {
        const broker = await market.broker();
        const item = await market.newItem({ initialCount: 3, initialPrice: 100, commissionPercent: 10 });
        const t = await market.trader(250); // enough for two units at 110, not three
        const answers = await Promise.all([1, 2, 3].map(() => market.place(t.token, 'purchase', item.id, 100)));
        expect(answers.map((a) => a.body.status)).to.deep.equal(['paymentPending', 'paymentPending', 'paymentPending']);
        await eventually(
          async () => {
            expect(await market.balance(t.token)).to.equal(30);
            const ops = await market.operations(t.token);
            expect(ops.filter((o) => o.type === 'payment').map((o) => o.amount)).to.deep.equal([110, 110]);
            expect(await market.portfolio(t.token)).to.deep.equal([
              { id: item.id, name: item.name, count: 2, onSaleCount: 0 },
            ]);
            const letters = (await market.notifications(t.token)).map((n) => n.message as string);
            expect(letters.filter((m) => m.includes('was not completed due to: not enough money.'))).to.have.length(1);
            expect(letters.filter((m) => m.includes('You have successfully bought item'))).to.have.length(2);
            const asks = (await market.activeOrders(broker.token, 'sell')).filter((o) => o.itemId === item.id);
            expect(
              asks.map((o) => o.status),
              'the third unit rests again',
            ).to.deep.equal(['pending']);
            expect(await market.activeOrders(t.token, 'purchase')).to.deep.equal([]);
          },
          10_000,
          'two deals, one declined',
        );
      },
    );
  });
}
