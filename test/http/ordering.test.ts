/**
 * The plain ordering flow over HTTP (marketplace.md, "Ordering"), on a real listening
 * server, for both event stores: the specification's scenario with its exact letters,
 * the list with its ETag and preconditions, and ownership of single orders.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  withApiServer,
  type Client,
  eventStores,
  expectError,
  expectViolation,
  ISO_UTC,
  itHttp,
  positionOf,
  UUID,
  type JsonBody,
} from './client.js';
import { DESCRIPTIONS, eventually, LETTERS, Market, TEXTS } from './trading-client.js';

for (const eventStore of eventStores) {
  describe(`HTTP ordering (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let api: Client;
    let market: Market;
    withApiServer(eventStore, (_server, client) => {
      api = client;
      market = new Market(client);
    });

    itHttp(
      'the scenario: balance 0 → deposit 1000 → order 600 succeeded (balance 400, happy letter) → order 600 failed (balance 400, sad letter)',
      async () => {
        // register → the account exists with balance 0 (a consequence of the registration)
        const t = await market.trader(0, { firstName: 'Carol', lastName: 'White' });
        const account = await api.balance(t.token);
        expect(account.amount).to.equal(0);
        const deposit = await api.deposit(t.token, 1000, { 'if-match': account.etag });
        expect(deposit.status, deposit.text).to.equal(204);

        const emptyList = await market.customerOrders(t.token);
        expect(emptyList.status, emptyList.text).to.equal(200);
        expect(emptyList.body).to.deep.equal([]);
        const etag0 = emptyList.headers.get('etag');
        expect(etag0).to.be.a('string');

        // order 600 → 202 pending → succeeded
        const first = await market.postCustomerOrder(t.token, { price: 600 }, { 'if-match': etag0! });
        expect(first.status, first.text).to.equal(202);
        expect(Object.keys(first.body).sort()).to.deep.equal(['createdAt', 'id', 'price', 'status', 'updatedAt']);
        expect(first.body).to.include({ price: 600, status: 'pending' });
        expect(first.body.id).to.match(UUID);
        expect(first.body.createdAt).to.match(ISO_UTC);
        positionOf(first);
        const etag1 = first.headers.get('etag');
        expect(etag1).to.be.a('string').and.not.equal(etag0);

        await eventually(
          async () => {
            const one = await market.customerOrder(t.token, first.body.id);
            expect(one.status, one.text).to.equal(200);
            expect(one.body).to.include({ id: first.body.id, price: 600, status: 'succeeded' });
          },
          5000,
          'the first order succeeded',
        );
        const happy = LETTERS.orderProcessed('Carol', 'White', '600.00');
        expect(happy).to.equal('Dear, Carol White! Your order for 600.00$ has been successfully processed.');
        await eventually(
          async () => {
            expect(await market.balance(t.token)).to.equal(400);
            const ops = await market.operations(t.token);
            expect(ops.map((o) => [o.type, o.amount, o.description])).to.deep.equal([
              ['payment', 600, DESCRIPTIONS.orderPayment(first.body.id)],
              ['deposit', 1000, 'money deposit by user'],
            ]);
            expect((await market.notifications(t.token)).map((n) => n.message)).to.deep.equal([happy]);
          },
          5000,
          'balance 400 and the happy letter',
        );

        // order 600 again → failed, nothing charged, sad letter
        const etagNow = await eventually(
          async () => {
            const list = await market.customerOrders(t.token);
            expect(list.status).to.equal(200);
            expect(list.body.map((o: JsonBody) => o.status)).to.deep.equal(['succeeded']);
            return list.headers.get('etag')!;
          },
          5000,
          'the list shows the first order succeeded',
        );
        expect(etagNow, 'the settlement moved the ETag on').to.not.equal(etag1);
        const second = await market.postCustomerOrder(t.token, { price: 600 }, { 'if-match': etagNow });
        expect(second.status, second.text).to.equal(202);
        expect(second.body).to.include({ price: 600, status: 'pending' });
        await eventually(
          async () => {
            const one = await market.customerOrder(t.token, second.body.id);
            expect(one.status, one.text).to.equal(200);
            expect(one.body).to.include({ id: second.body.id, price: 600, status: 'failed' });
          },
          5000,
          'the second order failed',
        );
        const sad = LETTERS.orderNotFulfilled('Carol', 'White', '600.00');
        expect(sad).to.equal('Dear, Carol White! Your order for 600.00$ was not fulfilled due to: not enough money.');
        await eventually(
          async () => {
            expect((await market.notifications(t.token)).map((n) => n.message)).to.deep.equal([sad, happy]);
          },
          5000,
          'the sad letter',
        );
        expect(await market.balance(t.token), 'balance still 400').to.equal(400);
        expect(
          (await market.operations(t.token)).map((o) => o.type),
          'no second payment',
        ).to.deep.equal(['payment', 'deposit']);

        // GET /ordering/orders lists both, newest first, with an ETag
        const list = await market.customerOrders(t.token);
        expect(list.status, list.text).to.equal(200);
        expect(list.headers.get('etag')).to.be.a('string').and.not.equal(etagNow);
        expect(list.body.map((o: JsonBody) => [o.id, o.price, o.status])).to.deep.equal([
          [second.body.id, 600, 'failed'],
          [first.body.id, 600, 'succeeded'],
        ]);
        for (const o of list.body) {
          expect(Object.keys(o).sort()).to.deep.equal(['createdAt', 'id', 'price', 'status', 'updatedAt']);
          expect(Date.parse(o.updatedAt)).to.be.at.least(Date.parse(o.createdAt));
        }
      },
    );

    itHttp(
      'GET /ordering/orders/{id}: another user’s order → 403 "Operation denied", an unknown one → 404 "Not found"',
      async () => {
        const owner = await market.trader(100);
        const other = await market.trader(0);
        const created = await market.postCustomerOrder(owner.token, { price: 10 }, { 'idempotency-key': randomUUID() });
        expect(created.status, created.text).to.equal(202);
        await eventually(
          async () => {
            const mine = await market.customerOrder(owner.token, created.body.id);
            expect(mine.status, mine.text).to.equal(200);
            expect(mine.body.status).to.equal('succeeded');
          },
          5000,
          'the owner sees the order',
        );
        expectError(await market.customerOrder(other.token, created.body.id), 403, TEXTS.operationDenied);
        expectError(await market.customerOrder(owner.token, randomUUID()), 404, TEXTS.notFound);
        expectError(await market.customerOrder(other.token, 'no-such-order'), 404, TEXTS.notFound);
        const theirs = await market.customerOrders(other.token);
        expect(theirs.status).to.equal(200);
        expect(theirs.body, 'another user’s list stays empty').to.deep.equal([]);
        expect(theirs.headers.get('etag'), 'the ETag of a user without orders').to.equal('"-1"');
      },
    );

    itHttp(
      'POST /ordering/orders: no If-Match and no key → 428, a stale If-Match → 412, the same If-Match twice → 202 then 412',
      async () => {
        const t = await market.trader(1000);
        expectError(await market.postCustomerOrder(t.token, { price: 5 }, {}), 428, TEXTS.missingIfMatch);
        const etag = (await market.customerOrders(t.token)).headers.get('etag')!;
        expectError(
          await market.postCustomerOrder(t.token, { price: 5 }, { 'if-match': '"7"' }),
          412,
          TEXTS.stateChanged,
        );
        const ok = await market.postCustomerOrder(t.token, { price: 5 }, { 'if-match': etag });
        expect(ok.status, ok.text).to.equal(202);
        expectError(
          await market.postCustomerOrder(t.token, { price: 5 }, { 'if-match': etag }),
          412,
          TEXTS.stateChanged,
        );
        const next = await market.postCustomerOrder(t.token, { price: 5 }, { 'if-match': ok.headers.get('etag')! });
        // The answer's ETag is current unless the settlement of the first order got in between.
        expect([202, 412]).to.include(next.status);
        await eventually(
          async () => {
            const list = await market.customerOrders(t.token);
            expect(list.body.length).to.equal(next.status === 202 ? 2 : 1);
            expect(list.body.every((o: JsonBody) => o.status === 'succeeded')).to.equal(true);
          },
          5000,
          'the orders settled',
        );
      },
    );

    itHttp(
      '10 identical order creations with the same If-Match at once → exactly one 202, nine 412, one payment',
      async () => {
        const t = await market.trader(1000);
        const etag = (await market.customerOrders(t.token)).headers.get('etag')!;
        const answers = await Promise.all(
          Array.from({ length: 10 }, () => market.postCustomerOrder(t.token, { price: 7 }, { 'if-match': etag })),
        );
        const statuses = answers.map((a) => a.status).sort();
        expect(statuses).to.deep.equal([202, ...Array(9).fill(412)]);
        for (const a of answers.filter((x) => x.status === 412)) expectError(a, 412, TEXTS.stateChanged);
        await eventually(
          async () => {
            expect(await market.balance(t.token)).to.equal(993);
            expect((await market.operations(t.token)).map((o) => [o.type, o.amount])).to.deep.equal([
              ['payment', 7],
              ['deposit', 1000],
            ]);
          },
          5000,
          'one payment',
        );
      },
    );

    itHttp(
      '5 orders of 400 at once from a balance of 1000: two succeed, three fail, the balance never below zero',
      async () => {
        const t = await market.trader(1000, { firstName: 'Eve', lastName: 'Many' });
        const answers = await Promise.all(
          Array.from({ length: 5 }, () =>
            market.postCustomerOrder(t.token, { price: 400 }, { 'idempotency-key': randomUUID() }),
          ),
        );
        for (const a of answers) expect(a.status, a.text).to.equal(202);
        await eventually(
          async () => {
            const list = await market.customerOrders(t.token);
            const statuses = (list.body as JsonBody[]).map((o) => o.status).sort();
            expect(statuses).to.deep.equal(['failed', 'failed', 'failed', 'succeeded', 'succeeded']);
            expect(await market.balance(t.token)).to.equal(200);
            const letters = (await market.notifications(t.token)).map((n) => n.message).sort();
            expect(letters).to.deep.equal(
              [
                ...Array(2).fill(LETTERS.orderProcessed('Eve', 'Many', '400.00')),
                ...Array(3).fill(LETTERS.orderNotFulfilled('Eve', 'Many', '400.00')),
              ].sort(),
            );
          },
          5000,
          'two paid, three not',
        );
        const ops = await market.operations(t.token);
        expect(ops.filter((o) => o.type === 'payment').map((o) => o.amount)).to.deep.equal([400, 400]);
      },
    );

    itHttp('validates the price: 1 to 1000000 with at most 2 decimals, a number', async () => {
      const t = await market.trader(0);
      const post = (body: unknown) => market.postCustomerOrder(t.token, body, { 'idempotency-key': randomUUID() });
      expectViolation(await post({ price: 0.99 }), 'price', 'This value should be greater than or equal to 1.');
      expectViolation(
        await post({ price: 1000000.01 }),
        'price',
        'This value should be less than or equal to 1000000.',
      );
      expectViolation(await post({ price: 1.001 }), 'price');
      for (const body of [{ price: '10' }, {}, { price: null }, { price: 10, extra: 1 }]) {
        const answer = await post(body);
        expect([400, 422], `${JSON.stringify(body)} → ${answer.status}`).to.include(answer.status);
      }
      const one = await post({ price: 1 });
      expect(one.status, one.text).to.equal(202);
      const max = await post({ price: 1000000 });
      expect(max.status, max.text).to.equal(202);
      await eventually(
        async () => {
          const list = await market.customerOrders(t.token);
          expect(list.body.map((o: JsonBody) => [o.price, o.status])).to.deep.equal([
            [1000000, 'failed'],
            [1, 'failed'],
          ]);
        },
        5000,
        'both orders failed (balance 0)',
      );
      expect(await market.balance(t.token)).to.equal(0);
    });
  });
}
