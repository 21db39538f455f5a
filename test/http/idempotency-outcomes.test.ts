/**
 * Idempotency answers that never mislead (embedded and EventStoreDB stores): only an outcome
 * is kept for replay — a 412, a 404 for what is not there yet, a 409 or a 5xx are not, so the
 * same key runs again once things changed — and a keyed request retried after its answer was
 * lost, with the If-Match it was first sent with, gets its original outcome: its own first
 * attempt moved the stream on, and the stream recognises the repeat before the If-Match
 * could refuse it. For deposits, withdrawals, placements and plain orders.
 */
import { createHash, randomUUID } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import { expect } from 'chai';
import Koa from 'koa';
import type { IdempotencyRecords, KeptAnswer } from '../../infra/idempotency/records.js';
import { errorBodies, HttpError } from '../../infra/http/errors.js';
import { idempotentRequests, isOutcome } from '../../infra/http/idempotency.js';
import { listen } from '../../infra/http/server.js';
import type { ApiServer } from '../support/api-server.js';
import {
  type Answer,
  type Client,
  eventStores,
  expectError,
  itHttp,
  positionOf,
  type JsonBody,
  type Trader,
  withApiServer,
} from './client.js';
import { forgetKeptAnswer } from './kept-answers.js';
import { eventually, Market, type NamedTrader } from './trading-client.js';

const STATE_CHANGED = 'State of resource has changed';
const NOT_FOUND = 'Not found';

describe('which answers are kept for an idempotency key (isOutcome)', () => {
  it('keeps successes and refusals that are the outcome of the request', () => {
    for (const status of [200, 201, 202, 204, 400, 401, 403, 413, 415, 422])
      expect(isOutcome(status), `${status}`).to.equal(true);
  });

  it('keeps no answer about the moment: not there yet, contention, stale or missing precondition, too many, server errors', () => {
    for (const status of [404, 408, 409, 412, 425, 428, 429, 500, 502, 503, 504])
      expect(isOutcome(status), `${status}`).to.equal(false);
  });
});

describe('a request whose answer is not an outcome, when a copy of it kept one meanwhile', () => {
  /** Answers kept in memory, as the port says (first insert wins). */
  function memoryRecords(): IdempotencyRecords {
    const answers = new Map<string, KeptAnswer>();
    return {
      find: async (scope, key) => answers.get(`${scope}\n${key}`) ?? null,
      claim: async (_scope, _key, at) => at,
      async keep(scope, key, answer) {
        const first = answers.get(`${scope}\n${key}`);
        if (first) return first;
        answers.set(`${scope}\n${key}`, answer);
        return null;
      },
      purgeExpired: async () => 0,
      close: async () => undefined,
    };
  }

  /** An app whose one route answers `status` after a copy of the request kept `copy`'s answer. */
  async function served(status: number, copy: Omit<KeptAnswer, 'at'> | null) {
    const records = memoryRecords();
    const app = new Koa();
    app.silent = true;
    app.use(errorBodies(() => undefined));
    app.use(bodyParser());
    app.use(idempotentRequests({ records, now: Date.now, logError: () => undefined }, () => 'user-1'));
    app.use(async (ctx) => {
      if (copy) await records.keep('user-1', 'k1', { ...copy, at: Date.now() });
      if (status >= 400) throw new HttpError(status, `answered ${status}`);
      ctx.status = status;
    });
    return listen(app, 0, '127.0.0.1');
  }

  const post = (port: number, body: unknown) =>
    fetch(`http://127.0.0.1:${port}/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' },
      body: JSON.stringify(body),
    });

  for (const status of [409, 412, 503]) {
    it(`answers with the copy's outcome instead of its own ${status}`, async () => {
      const fingerprint = createHash('sha256').update(`POST /x\n{"amount":5}`).digest('base64url');
      const kept = { fingerprint, status: 204, body: null, headers: { etag: '"7"' } };
      const running = await served(status, kept);
      try {
        const answer = await post(running.port, { amount: 5 });
        expect(answer.status).to.equal(204);
        expect(answer.headers.get('etag')).to.equal('"7"');
        expect(answer.headers.get('idempotent-replayed')).to.equal('true');
      } finally {
        await running.close(0);
      }
    });
  }

  it('answers its own non-outcome when no copy kept anything (and keeps nothing)', async () => {
    const running = await served(412, null);
    try {
      expect((await post(running.port, { amount: 5 })).status).to.equal(412);
      expect((await post(running.port, { amount: 5 })).status, 'not replayed: it runs again').to.equal(412);
    } finally {
      await running.close(0);
    }
  });
});

for (const eventStore of eventStores) {
  describe(`HTTP: idempotency answers that never mislead (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let server: ApiServer;
    let api: Client;
    let market: Market;
    withApiServer(eventStore, (started, client) => {
      server = started;
      api = client;
      market = new Market(client);
    });

    const replayed = (answer: Answer) => answer.headers.get('idempotent-replayed');

    /** The caller's operations once the read model has `position`. */
    const operationsAfter = async (token: string, position: string): Promise<JsonBody[]> =>
      (await api.operations(token, position)).body as JsonBody[];

    describe('deposits and withdrawals', () => {
      /** A trader whose account shows `amount`, with the account's ETag then. */
      async function funded(amount: number): Promise<{ trader: NamedTrader; etag: string }> {
        const trader = await market.trader();
        const position = await api.funded(trader.token, amount);
        return { trader, etag: (await api.balance(trader.token, position)).etag };
      }

      itHttp(
        'a stale If-Match with a key → 412, not kept: the same key with the current If-Match deposits (not the 412 replayed)',
        async () => {
          const { trader, etag: stale } = await funded(10);
          const moved = await api.move('deposit', trader.token, { amount: 5 }, { 'if-match': stale });
          expect(moved.status, moved.text).to.equal(204);
          const key = randomUUID();
          expectError(
            await api.deposit(trader.token, 25, { 'idempotency-key': key, 'if-match': stale }),
            412,
            STATE_CHANGED,
          );

          const current = moved.headers.get('etag')!;
          const answer = await api.deposit(trader.token, 25, { 'idempotency-key': key, 'if-match': current });
          expect(answer.status, answer.text).to.equal(204);
          expect(replayed(answer)).to.equal(null);
          const position = positionOf(answer);
          expect((await api.balance(trader.token, position)).amount).to.equal(40);
          expect((await operationsAfter(trader.token, position)).map((op) => op.amount)).to.deep.equal([25, 5, 10]);
          // From now on the 204 is what the key answers, whatever If-Match comes with it.
          const again = await api.deposit(trader.token, 25, { 'idempotency-key': key, 'if-match': stale });
          expect(again.status).to.equal(204);
          expect(replayed(again)).to.equal('true');
        },
      );

      for (const kind of ['deposit', 'withdraw'] as const) {
        itHttp(
          `a keyed ${kind} whose answer was lost, retried with the If-Match it was first sent with → the original 204, the balance moved once`,
          async () => {
            const { trader, etag } = await funded(100);
            const key = randomUUID();
            const first = await api.move(
              kind,
              trader.token,
              { amount: 30 },
              { 'idempotency-key': key, 'if-match': etag },
            );
            expect(first.status, first.text).to.equal(204);
            expect(await forgetKeptAnswer(server, key)).to.equal(1);

            const retry = await api.move(
              kind,
              trader.token,
              { amount: 30 },
              { 'idempotency-key': key, 'if-match': etag },
            );
            expect(retry.status, retry.text).to.equal(204);
            expect(replayed(retry), 'ran again (nothing kept), not replayed').to.equal(null);
            expect(retry.headers.get('etag'), 'the account as the first attempt left it').to.equal(
              first.headers.get('etag'),
            );
            const position = positionOf(retry);
            expect((await api.balance(trader.token, position)).amount).to.equal(kind === 'deposit' ? 130 : 70);
            expect(await operationsAfter(trader.token, position)).to.have.length(2);
            // Still a 412 for a stale If-Match under another key: only the repeat passes.
            expectError(
              await api.move(kind, trader.token, { amount: 30 }, { 'idempotency-key': randomUUID(), 'if-match': etag }),
              412,
              STATE_CHANGED,
            );
          },
        );
      }

      itHttp(
        'a keyed deposit retried after its answer was lost and the account moved on further → 204, applied once',
        async () => {
          const trader = await market.trader();
          const { etag } = await api.balance(trader.token);
          const key = randomUUID();
          const first = await api.deposit(trader.token, 12, { 'idempotency-key': key, 'if-match': etag });
          expect(first.status, first.text).to.equal(204);
          const later = await api.funded(trader.token, 3);
          expect(await forgetKeptAnswer(server, key)).to.equal(1);
          const retry = await api.deposit(trader.token, 12, { 'idempotency-key': key, 'if-match': etag });
          expect(retry.status, retry.text).to.equal(204);
          expect((await api.balance(trader.token, later)).amount).to.equal(15);
          expect(await operationsAfter(trader.token, positionOf(retry))).to.have.length(2);
        },
      );

      itHttp('5 copies of a keyed deposit with one If-Match at once → all 204 (not 412s), one deposit', async () => {
        const trader = await market.trader();
        const { etag } = await api.balance(trader.token);
        const key = randomUUID();
        const answers = await Promise.all(
          Array.from({ length: 5 }, () => api.deposit(trader.token, 8, { 'idempotency-key': key, 'if-match': etag })),
        );
        expect(
          answers.map((a) => a.status),
          answers.map((a) => a.text).join('\n'),
        ).to.deep.equal([204, 204, 204, 204, 204]);
        const last = await api.funded(trader.token, 1);
        expect((await api.balance(trader.token, last)).amount).to.equal(9);
        expect(await operationsAfter(trader.token, last)).to.have.length(2);
      });

      itHttp(
        'a keyed deposit before the account is opened → 404, not kept: once it is open, the same key deposits',
        async () => {
          const opening = server.system.runners.find((r) => r.handler.name === 'account-opening')!;
          await opening.stop();
          let trader: Trader | undefined;
          const key = randomUUID();
          try {
            trader = await api.newTrader();
            expectError(await api.deposit(trader.token, 20, { 'idempotency-key': key }), 404, NOT_FOUND);
          } finally {
            opening.start();
          }
          const token = trader!.token;
          await eventually(async () => expect((await api.account(token)).status).to.equal(200), 5000, 'the account');
          const answer = await api.deposit(token, 20, { 'idempotency-key': key });
          expect(answer.status, answer.text).to.equal(204);
          expect(replayed(answer)).to.equal(null);
          expect((await api.balance(token, positionOf(answer))).amount).to.equal(20);
        },
      );
    });

    describe('placements', () => {
      /** A trader and a fresh item whose one unit rests at 100 (bids at 50 rest in the book). */
      async function traderAndItem(): Promise<{ trader: NamedTrader; itemId: string }> {
        const [trader, item] = await Promise.all([market.trader(200), market.newItem({ initialPrice: 100 })]);
        return { trader, itemId: item.id };
      }

      itHttp(
        'a stale If-Match with a key → 412, not kept: the same key with the current If-Match places the order',
        async () => {
          const { trader, itemId } = await traderAndItem();
          const stale = await market.etag(trader.token, 'purchase');
          const moved = await market.postOrder(trader.token, 'purchase', { itemId, price: 40 }, { 'if-match': stale });
          expect(moved.status, moved.text).to.equal(202);
          const key = randomUUID();
          const body = { itemId, price: 50 };
          expectError(
            await market.postOrder(trader.token, 'purchase', body, { 'idempotency-key': key, 'if-match': stale }),
            412,
            STATE_CHANGED,
          );
          const current = moved.headers.get('etag')!;
          const placed = await market.postOrder(trader.token, 'purchase', body, {
            'idempotency-key': key,
            'if-match': current,
          });
          expect(placed.status, placed.text).to.equal(202);
          expect(replayed(placed)).to.equal(null);
          expect(placed.body).to.include({ itemId, price: 50, status: 'pending' });
          const active = await market.activeOrders(trader.token, 'purchase', positionOf(placed));
          expect(active.map((o) => o.id).sort()).to.deep.equal([moved.body.id, placed.body.id].sort());
        },
      );

      itHttp(
        'a keyed placement whose answer was lost, retried with the If-Match it was first sent with → the original 202, placed once',
        async () => {
          const { trader, itemId } = await traderAndItem();
          const etag = await market.etag(trader.token, 'purchase');
          const key = randomUUID();
          const body = { itemId, price: 50 };
          const first = await market.postOrder(trader.token, 'purchase', body, {
            'idempotency-key': key,
            'if-match': etag,
          });
          expect(first.status, first.text).to.equal(202);
          expect(await forgetKeptAnswer(server, key)).to.equal(1);

          const retry = await market.postOrder(trader.token, 'purchase', body, {
            'idempotency-key': key,
            'if-match': etag,
          });
          expect(retry.status, retry.text).to.equal(202);
          expect(replayed(retry)).to.equal(null);
          const { updatedAt: _first, ...original } = first.body;
          const { updatedAt: _retry, ...again } = retry.body;
          expect(again).to.deep.equal(original);
          expect(retry.headers.get('etag')).to.equal(first.headers.get('etag'));
          const active = await market.activeOrders(trader.token, 'purchase', positionOf(retry));
          expect(active.map((o) => o.id)).to.deep.equal([first.body.id]);
          // A placement that is no repeat is still refused for the stale If-Match.
          expectError(
            await market.postOrder(trader.token, 'purchase', body, {
              'idempotency-key': randomUUID(),
              'if-match': etag,
            }),
            412,
            STATE_CHANGED,
          );
        },
      );
    });

    describe('plain orders', () => {
      async function ordersEtag(token: string): Promise<string> {
        const answer = await market.customerOrders(token);
        expect(answer.status, answer.text).to.equal(200);
        return answer.headers.get('etag')!;
      }

      itHttp('a stale If-Match with a key → 412, not kept: the same key with the current If-Match orders', async () => {
        const trader = await market.trader();
        const stale = await ordersEtag(trader.token);
        const moved = await market.postCustomerOrder(trader.token, { price: 5 }, { 'if-match': stale });
        expect(moved.status, moved.text).to.equal(202);
        const key = randomUUID();
        expectError(
          await market.postCustomerOrder(trader.token, { price: 7 }, { 'idempotency-key': key, 'if-match': stale }),
          412,
          STATE_CHANGED,
        );
        // The order is settled (failed: no money) by a process manager on the same stream: the
        // current ETag is the list's once that shows.
        const current = await eventually(async () => {
          const list = await market.customerOrders(trader.token, positionOf(moved));
          expect((list.body as JsonBody[]).map((o) => o.status)).to.deep.equal(['failed']);
          return list.headers.get('etag')!;
        });
        const ordered = await market.postCustomerOrder(
          trader.token,
          { price: 7 },
          { 'idempotency-key': key, 'if-match': current },
        );
        expect(ordered.status, ordered.text).to.equal(202);
        expect(replayed(ordered)).to.equal(null);
        const list = await market.customerOrders(trader.token, positionOf(ordered));
        expect((list.body as JsonBody[]).map((o) => o.price).sort()).to.deep.equal([5, 7]);
      });

      itHttp(
        'a keyed order whose answer was lost, retried with the If-Match it was first sent with → 202 for the same order, created once',
        async () => {
          const trader = await market.trader();
          const etag = await ordersEtag(trader.token);
          const key = randomUUID();
          const first = await market.postCustomerOrder(
            trader.token,
            { price: 9 },
            { 'idempotency-key': key, 'if-match': etag },
          );
          expect(first.status, first.text).to.equal(202);
          expect(await forgetKeptAnswer(server, key)).to.equal(1);

          const retry = await market.postCustomerOrder(
            trader.token,
            { price: 9 },
            { 'idempotency-key': key, 'if-match': etag },
          );
          expect(retry.status, retry.text).to.equal(202);
          expect(retry.body).to.include({ id: first.body.id, price: 9 });
          const list = await market.customerOrders(trader.token, positionOf(retry));
          expect((list.body as JsonBody[]).map((o) => o.id)).to.deep.equal([first.body.id]);
        },
      );
    });
  });
}
