/**
 * Billing over HTTP, on a real listening server (embedded and EventStoreDB stores):
 * balance, deposits, withdrawals, operations, preconditions (ETag / If-Match),
 * idempotency keys, concurrency, lists and ownership.
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
  UUID,
  type Answer,
  type JsonBody,
} from './client.js';
import { forgetKeptAnswer } from './kept-answers.js';

const DEPOSIT = 'money deposit by user';
const WITHDRAWAL = 'money withdrawal by user';
const NOT_ENOUGH = 'Not enough money on the account';
const STATE_CHANGED = 'State of resource has changed';
const MISSING_IF_MATCH = 'Missing If-Match header';
const KEY_REUSED = 'Idempotency key reused with a different request';

function countBy<T>(values: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

for (const eventStore of eventStores) {
  describe(`HTTP billing (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let api: Client;
    let server: ApiServer;
    withApiServer(eventStore, (started, client) => {
      server = started;
      api = client;
    });

    describe('deposit, withdraw, balance, operations', () => {
      itHttp('deposit and withdraw answer 204 with no body, an ETag and X-Event-Position', async () => {
        const t = await api.newTrader();
        for (const answer of [await api.deposit(t.token, 100), await api.withdraw(t.token, 40)]) {
          expect(answer.status, answer.text).to.equal(204);
          expect(answer.text).to.equal('');
          expect(answer.headers.get('etag')).to.match(/^"\d+"$/);
          positionOf(answer);
        }
      });

      itHttp('the balance and the operations (newest first) show exactly what happened', async () => {
        const t = await api.newTrader();
        await api.funded(t.token, 10.5);
        await api.funded(t.token, 100);
        const last = await api.withdraw(t.token, 20.25);
        expect(last.status, last.text).to.equal(204);
        const position = positionOf(last);

        const account = await api.account(t.token, position);
        expect(account.status).to.equal(200);
        expect(account.body.amount).to.equal(90.25);
        expect(account.body.updatedAt).to.match(ISO_UTC);
        expect(Date.parse(account.body.updatedAt)).to.be.at.least(Date.parse(account.body.createdAt));

        const operations = await api.operations(t.token, position);
        expect(operations.status).to.equal(200);
        expect(operations.body).to.be.an('array').with.length(3);
        for (const op of operations.body) {
          expect(Object.keys(op).sort()).to.deep.equal(['amount', 'createdAt', 'description', 'id', 'type']);
          expect(op.id).to.be.a('string').and.not.equal('');
          expect(op.createdAt).to.match(ISO_UTC);
          expect(op.amount).to.be.a('number');
        }
        expect(operations.body.map((op: JsonBody) => [op.type, op.amount, op.description])).to.deep.equal([
          ['withdraw', 20.25, WITHDRAWAL],
          ['deposit', 100, DEPOSIT],
          ['deposit', 10.5, DEPOSIT],
        ]);
        expect(new Set(operations.body.map((op: JsonBody) => op.id)).size).to.equal(3);
        // amounts are JSON numbers, not strings
        expect(operations.text).to.include('"amount":20.25');
        expect(account.text).to.include('"amount":90.25');
      });

      itHttp('money is exact to the cent (no floating-point drift)', async () => {
        const t = await api.newTrader();
        for (const amount of [1.15, 10.07, 4.35, 1.3]) {
          const answer = await api.deposit(t.token, amount);
          expect(answer.status, `${amount}: ${answer.text}`).to.equal(204);
        }
        const last = await api.withdraw(t.token, 1.01);
        expect(last.status, last.text).to.equal(204);
        expect((await api.balance(t.token, positionOf(last))).amount).to.equal(15.86);
      });

      itHttp('accepts the amount boundaries 1 and 10000', async () => {
        const t = await api.newTrader();
        expect((await api.deposit(t.token, 1)).status).to.equal(204);
        expect((await api.deposit(t.token, 10000)).status).to.equal(204);
        const out = await api.withdraw(t.token, 10000);
        expect(out.status, out.text).to.equal(204);
        const w1 = await api.withdraw(t.token, 1);
        expect(w1.status, w1.text).to.equal(204);
        expect((await api.balance(t.token, positionOf(w1))).amount).to.equal(0);
      });

      itHttp('withdrawing more than the balance → 422 "Not enough money on the account", nothing changes', async () => {
        const t = await api.newTrader();
        const funded = await api.deposit(t.token, 50);
        const etag = funded.headers.get('etag')!;
        const tooMuch = await api.withdraw(t.token, 50.01, { 'if-match': etag });
        expectError(tooMuch, 422, NOT_ENOUGH);
        expectError(await api.withdraw(t.token, 10000), 422, NOT_ENOUGH);
        // the ETag did not move: a write with it still succeeds
        const all = await api.withdraw(t.token, 50, { 'if-match': etag });
        expect(all.status, all.text).to.equal(204);
        const position = positionOf(all);
        expect((await api.balance(t.token, position)).amount).to.equal(0);
        expectError(await api.withdraw(t.token, 1), 422, NOT_ENOUGH);
        const ops = await api.operations(t.token, position);
        expect(ops.body.map((op: JsonBody) => op.type)).to.deep.equal(['withdraw', 'deposit']);
      });
    });

    describe('ETag and If-Match', () => {
      itHttp(
        'the ETag of GET /billing/account is the one the last write answered, and changes on every balance change',
        async () => {
          const t = await api.newTrader();
          const opened = await api.balance(t.token, t.position);
          expect(opened.etag).to.match(/^"\d+"$/);
          const seen = [opened.etag];
          let etag = opened.etag;
          for (const [kind, amount] of [
            ['deposit', 30],
            ['deposit', 20],
            ['withdraw', 45],
            ['withdraw', 5],
          ] as const) {
            const answer = await api.move(kind, t.token, { amount }, { 'if-match': etag });
            expect(answer.status, `${kind} ${amount}: ${answer.text}`).to.equal(204);
            const next = answer.headers.get('etag')!;
            expect(seen, `${kind} ${amount} gives a new ETag`).to.not.include(next);
            seen.push(next);
            const read = await api.balance(t.token, positionOf(answer));
            expect(read.etag, 'GET shows the ETag the write answered').to.equal(next);
            etag = next;
          }
          expect((await api.balance(t.token)).amount).to.equal(0);
        },
      );

      itHttp(
        'the same request twice with the same If-Match: 204 then 412 "State of resource has changed"; the new ETag works',
        async () => {
          const t = await api.newTrader();
          const { etag } = await api.balance(t.token, t.position);
          const first = await api.deposit(t.token, 25, { 'if-match': etag });
          expect(first.status, first.text).to.equal(204);
          const second = await api.deposit(t.token, 25, { 'if-match': etag });
          expectError(second, 412, STATE_CHANGED);
          const withdrawStale = await api.withdraw(t.token, 5, { 'if-match': etag });
          expectError(withdrawStale, 412, STATE_CHANGED);
          const third = await api.deposit(t.token, 25, { 'if-match': first.headers.get('etag')! });
          expect(third.status, third.text).to.equal(204);
          const position = positionOf(third);
          expect((await api.balance(t.token, position)).amount).to.equal(50);
          expect((await api.operations(t.token, position)).body).to.have.length(2);
        },
      );

      itHttp(
        'an If-Match that names no current revision → 412 (future, weak, garbage, list), nothing changes',
        async () => {
          const t = await api.newTrader();
          const { etag } = await api.balance(t.token, t.position);
          const revision = Number(etag.replaceAll('"', ''));
          for (const value of [
            `"${revision + 1}"`,
            `"${revision + 1000}"`,
            `W/${etag}`,
            etag.replaceAll('"', ''),
            'garbage',
            `"-1"`,
            `"abc"`,
            `${etag}, "99"`,
          ]) {
            expectError(await api.deposit(t.token, 10, { 'if-match': value }), 412, STATE_CHANGED);
          }
          const ok = await api.deposit(t.token, 10, { 'if-match': etag });
          expect(ok.status, `the ETag still holds: ${ok.text}`).to.equal(204);
          expect((await api.balance(t.token, positionOf(ok))).amount).to.equal(10);
        },
      );

      itHttp(
        'no If-Match and no Idempotency-Key → 428 "Missing If-Match header" for deposit and withdraw, nothing changes',
        async () => {
          const t = await api.newTrader();
          const { etag } = await api.balance(t.token, t.position);
          expectError(await api.deposit(t.token, 10, {}), 428, MISSING_IF_MATCH);
          expectError(await api.withdraw(t.token, 10, {}), 428, MISSING_IF_MATCH);
          expectError(await api.deposit(t.token, 10, { 'if-match': '' }), 428, MISSING_IF_MATCH);
          const ok = await api.deposit(t.token, 10, { 'if-match': etag });
          expect(ok.status, ok.text).to.equal(204);
          expect((await api.operations(t.token, positionOf(ok))).body).to.have.length(1);
        },
      );

      itHttp('10 concurrent deposits with the same If-Match: exactly one 204, nine 412', async () => {
        const t = await api.newTrader();
        const { etag } = await api.balance(t.token, t.position);
        const answers = await Promise.all(
          Array.from({ length: 10 }, () => api.deposit(t.token, 100, { 'if-match': etag })),
        );
        const statuses = countBy(answers.map((a) => a.status));
        expect(Object.fromEntries(statuses), answers.map((a) => `${a.status} ${a.text}`).join('\n')).to.deep.equal({
          204: 1,
          412: 9,
        });
        for (const a of answers.filter((x) => x.status === 412)) expectError(a, 412, STATE_CHANGED);
        const winner = answers.find((a) => a.status === 204)!;
        const position = positionOf(winner);
        expect((await api.balance(t.token, position)).amount).to.equal(100);
        expect((await api.operations(t.token, position)).body).to.have.length(1);
      });

      itHttp(
        '10 concurrent withdrawals with the same If-Match: exactly one 204, the balance never below zero',
        async () => {
          const t = await api.newTrader();
          const funded = await api.deposit(t.token, 100);
          const etag = funded.headers.get('etag')!;
          const answers = await Promise.all(
            Array.from({ length: 10 }, () => api.withdraw(t.token, 100, { 'if-match': etag })),
          );
          expect(answers.filter((a) => a.status === 204)).to.have.length(1);
          for (const a of answers.filter((x) => x.status !== 204)) expectError(a, 412, STATE_CHANGED);
          const winner = answers.find((a) => a.status === 204)!;
          expect((await api.balance(t.token, positionOf(winner))).amount).to.equal(0);
        },
      );
    });

    describe('concurrency without If-Match', () => {
      itHttp(
        '50 concurrent withdrawals of 100 from 1000 with distinct keys: exactly 10 succeed, 40 get 422, balance 0',
        async () => {
          const t = await api.newTrader();
          const funded = await api.deposit(t.token, 1000);
          expect(funded.status, funded.text).to.equal(204);
          const answers = await Promise.all(
            Array.from({ length: 50 }, () => api.withdraw(t.token, 100, { 'idempotency-key': randomUUID() })),
          );
          const statuses = Object.fromEntries(countBy(answers.map((a) => a.status)));
          const detail = [...countBy(answers.map((a) => `${a.status} ${a.text}`))]
            .map(([k, n]) => `${n} × ${k}`)
            .join('\n');
          expect(statuses, detail).to.deep.equal({ 204: 10, 422: 40 });
          for (const a of answers.filter((x) => x.status === 422)) expectError(a, 422, NOT_ENOUGH);
          // read after the last write: the largest position answered
          const positions = answers.filter((a) => a.status === 204).map(positionOf);
          positions.sort((a, b) => (BigInt(a.split('-')[0]!) < BigInt(b.split('-')[0]!) ? -1 : 1));
          const position = positions[positions.length - 1]!;
          const account = await api.balance(t.token, position);
          expect(account.amount).to.equal(0);
          const operations = await api.allOperations(t.token, position, 500);
          expect(operations.filter((op) => op.type === 'withdraw')).to.have.length(10);
          expect(operations).to.have.length(11);
          // the ETags answered by the winners are all different
          expect(new Set(answers.filter((a) => a.status === 204).map((a) => a.headers.get('etag'))).size).to.equal(10);
        },
      );

      itHttp('concurrent deposits with distinct keys all count', async () => {
        const t = await api.newTrader();
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => api.deposit(t.token, i + 1)));
        expect(
          answers.map((a) => a.status),
          answers.map((a) => a.text).join('\n'),
        ).to.deep.equal(Array(20).fill(204));
        const last = answers
          .map(positionOf)
          .sort((a, b) => (BigInt(a.split('-')[0]!) < BigInt(b.split('-')[0]!) ? -1 : 1))
          .pop()!;
        expect((await api.balance(t.token, last)).amount).to.equal(210);
        expect(await api.allOperations(t.token, last, 500)).to.have.length(20);
      });
    });

    describe('idempotency keys', () => {
      const sameAnswer = (replayed: Answer, original: Answer) => {
        expect(replayed.status).to.equal(original.status);
        expect(replayed.text).to.equal(original.text);
        for (const header of ['etag', 'x-event-position'])
          expect(replayed.headers.get(header), header).to.equal(original.headers.get(header));
      };

      itHttp('the same key and body again → the same status, body and headers, and one operation only', async () => {
        const t = await api.newTrader();
        const key = randomUUID();
        const first = await api.deposit(t.token, 42.5, { 'idempotency-key': key });
        expect(first.status, first.text).to.equal(204);
        const replays = [
          await api.deposit(t.token, 42.5, { 'idempotency-key': key }),
          await api.deposit(t.token, 42.5, { 'idempotency-key': key }),
        ];
        for (const replay of replays) sameAnswer(replay, first);
        // a later state change does not alter the replay
        const other = await api.deposit(t.token, 1);
        sameAnswer(await api.deposit(t.token, 42.5, { 'idempotency-key': key }), first);
        const position = positionOf(other);
        expect((await api.balance(t.token, position)).amount).to.equal(43.5);
        const ops = await api.operations(t.token, position);
        expect(ops.body.map((op: JsonBody) => op.amount)).to.deep.equal([1, 42.5]);
      });

      itHttp(
        'a kept answer lost (a power cut can lose the last ones) → the retry runs again and changes nothing',
        async () => {
          const t = await api.newTrader();
          const key = randomUUID();
          const first = await api.deposit(t.token, 30, { 'idempotency-key': key });
          expect(first.status, first.text).to.equal(204);
          expect(await forgetKeptAnswer(server, key)).to.equal(1);
          const retry = await api.deposit(t.token, 30, { 'idempotency-key': key });
          expect(retry.status, retry.text).to.equal(204);
          expect(retry.headers.get('idempotent-replayed')).to.equal(null);
          const position = positionOf(retry);
          expect((await api.balance(t.token, position)).amount).to.equal(30);
          expect((await api.operations(t.token, position)).body).to.have.length(1);
          // Kept again: from now on it is a replay.
          expect(
            (await api.deposit(t.token, 30, { 'idempotency-key': key })).headers.get('idempotent-replayed'),
          ).to.equal('true');
        },
      );

      itHttp('a refused request is replayed as refused (422), even after money arrived', async () => {
        const t = await api.newTrader();
        const key = randomUUID();
        const first = await api.withdraw(t.token, 100, { 'idempotency-key': key });
        expectError(first, 422, NOT_ENOUGH);
        const funded = await api.funded(t.token, 500);
        const replay = await api.withdraw(t.token, 100, { 'idempotency-key': key });
        expect(replay.status).to.equal(422);
        expect(replay.body.message).to.equal(NOT_ENOUGH);
        const ops = await api.operations(t.token, funded);
        expect(ops.body.map((op: JsonBody) => op.type)).to.deep.equal(['deposit']);
        expect((await api.balance(t.token, funded)).amount).to.equal(500);
      });

      itHttp(
        'the same key with another body or another endpoint → 422 "Idempotency key reused with a different request"',
        async () => {
          const t = await api.newTrader();
          const key = randomUUID();
          const first = await api.deposit(t.token, 10, { 'idempotency-key': key });
          expect(first.status).to.equal(204);
          expectError(await api.deposit(t.token, 11, { 'idempotency-key': key }), 422, KEY_REUSED);
          expectError(await api.withdraw(t.token, 10, { 'idempotency-key': key }), 422, KEY_REUSED);
          expectError(await api.deposit(t.token, '10', { 'idempotency-key': key }), 422, KEY_REUSED);
          // key order in the body does not make it another request
          const reordered = await api.post('/api/v1/billing/account/deposit', {
            token: t.token,
            raw: '{ "amount" : 10 }',
            contentType: 'application/json',
            headers: { 'idempotency-key': key },
          });
          expect(reordered.status).to.equal(204);
          const last = await api.deposit(t.token, 1);
          const ops = await api.operations(t.token, positionOf(last));
          expect(ops.body.map((op: JsonBody) => op.amount)).to.deep.equal([1, 10]);
        },
      );

      itHttp('X-Request-Id works as an alias of Idempotency-Key', async () => {
        const t = await api.newTrader();
        const key = randomUUID();
        const first = await api.deposit(t.token, 7, { 'x-request-id': key });
        expect(first.status, first.text).to.equal(204);
        sameAnswer(await api.deposit(t.token, 7, { 'x-request-id': key }), first);
        sameAnswer(await api.deposit(t.token, 7, { 'idempotency-key': key }), first);
        expectError(await api.deposit(t.token, 8, { 'x-request-id': key }), 422, KEY_REUSED);
        const last = await api.deposit(t.token, 1, { 'x-request-id': randomUUID() });
        expect(last.status).to.equal(204);
        expect((await api.balance(t.token, positionOf(last))).amount).to.equal(8);
        expect((await api.operations(t.token, positionOf(last))).body).to.have.length(2);
      });

      itHttp('keys are per user: two users with the same key do not collide', async () => {
        const [a, b] = await Promise.all([api.newTrader(), api.newTrader()]);
        const key = `shared-${randomUUID()}`;
        const fromA = await api.deposit(a.token, 10, { 'idempotency-key': key });
        const fromB = await api.deposit(b.token, 20, { 'idempotency-key': key });
        expect(fromA.status, fromA.text).to.equal(204);
        expect(fromB.status, fromB.text).to.equal(204);
        expect(fromB.headers.get('idempotent-replayed')).to.equal(null);
        const sameBodyB = await api.deposit(b.token, 20, { 'idempotency-key': `${key}-2` });
        const sameBodyA = await api.deposit(a.token, 20, { 'idempotency-key': `${key}-2` });
        expect(sameBodyA.status).to.equal(204);
        expect((await api.balance(a.token, positionOf(sameBodyA))).amount).to.equal(30);
        expect((await api.balance(b.token, positionOf(sameBodyB))).amount).to.equal(40);
      });

      itHttp('5 concurrent requests with the same key run once', async () => {
        const t = await api.newTrader();
        const key = randomUUID();
        const answers = await Promise.all(
          Array.from({ length: 5 }, () => api.deposit(t.token, 15, { 'idempotency-key': key })),
        );
        expect(
          answers.map((a) => a.status),
          answers.map((a) => a.text).join('\n'),
        ).to.deep.equal([204, 204, 204, 204, 204]);
        expect(new Set(answers.map((a) => a.headers.get('etag'))).size).to.equal(1);
        const last = await api.funded(t.token, 1);
        expect((await api.balance(t.token, last)).amount).to.equal(16);
        expect((await api.operations(t.token, last)).body).to.have.length(2);
      });

      itHttp('with a key, If-Match is optional but still checked when given', async () => {
        const t = await api.newTrader();
        const { etag } = await api.balance(t.token, t.position);
        const ok = await api.deposit(t.token, 5, { 'idempotency-key': randomUUID(), 'if-match': etag });
        expect(ok.status).to.equal(204);
        expectError(
          await api.deposit(t.token, 5, { 'idempotency-key': randomUUID(), 'if-match': etag }),
          412,
          STATE_CHANGED,
        );
        expect((await api.balance(t.token, positionOf(ok))).amount).to.equal(5);
      });

      itHttp(
        'a key longer than 255 characters or with invalid characters → 4xx; 255 characters are accepted',
        async () => {
          const t = await api.newTrader();
          const long = await api.deposit(t.token, 5, { 'idempotency-key': 'k'.repeat(256) });
          expect(long.status).to.be.within(400, 499);
          const spaced = await api.deposit(t.token, 5, { 'idempotency-key': 'has space inside' });
          expect(spaced.status).to.be.within(400, 499);
          const max = await api.deposit(t.token, 5, { 'idempotency-key': `${randomUUID()}${'k'.repeat(219)}` });
          expect(max.status, max.text).to.equal(204);
          expect((await api.balance(t.token, positionOf(max))).amount).to.equal(5);
        },
      );
    });

    describe('lists', () => {
      itHttp('limit accepts 1..500 and refuses anything else with 422', async () => {
        const t = await api.newTrader();
        for (const limit of ['1', '50', '500'])
          expect((await api.operations(t.token, undefined, `?limit=${limit}`)).status, limit).to.equal(200);
        for (const limit of ['0', '501', '-1', 'abc', '1.5', '', '1e2', '10&limit=20', '99999999999999999999']) {
          const answer = await api.operations(t.token, undefined, `?limit=${limit}`);
          expectViolation(answer, 'limit');
        }
      });

      itHttp('a cursor that is not one of ours → 400, never 500', async () => {
        const t = await api.newTrader();
        for (const cursor of ['garbage', 'eyJ4IjoxfQ', '%00', 'x'.repeat(3000), "' OR 1=1 --", '{"$gt":""}']) {
          const answer = await api.operations(t.token, undefined, `?cursor=${encodeURIComponent(cursor)}`);
          expectError(answer, 400);
        }
      });

      itHttp('pages through every operation with Link rel="next", newest first, without gaps or repeats', async () => {
        const t = await api.newTrader();
        let position = t.position;
        for (let i = 1; i <= 7; i++) position = await api.funded(t.token, i);
        const everything = await api.operations(t.token, position, '?limit=500');
        expect(everything.headers.get('link'), 'no next page when everything fits').to.equal(null);
        expect(everything.body.map((op: JsonBody) => op.amount)).to.deep.equal([7, 6, 5, 4, 3, 2, 1]);
        for (const limit of [1, 2, 3, 7]) {
          const paged = await api.allOperations(t.token, position, limit);
          expect(
            paged.map((op) => op.id),
            `limit ${limit}`,
          ).to.deep.equal(everything.body.map((op: JsonBody) => op.id));
        }
        const first = await api.operations(t.token, position, '?limit=3');
        expect(first.body).to.have.length(3);
        const link = first.headers.get('link')!;
        expect(link).to.match(/^<\/api\/v1\/billing\/operations\?[^>]*cursor=[^>]+>; rel="next"$/);
        expect(nextLink(first)).to.include('limit=3');
        // the default page size is 50
        expect((await api.operations(t.token, position)).body).to.have.length(7);
      });

      itHttp('pages stay stable while new operations arrive', async () => {
        const t = await api.newTrader();
        let position = t.position;
        for (let i = 1; i <= 4; i++) position = await api.funded(t.token, i);
        const first = await api.operations(t.token, position, '?limit=2');
        expect(first.body.map((op: JsonBody) => op.amount)).to.deep.equal([4, 3]);
        const later = await api.funded(t.token, 99);
        const second = await api.get(nextLink(first)!, { token: t.token, headers: { 'x-event-position': later } });
        expect(second.body.map((op: JsonBody) => op.amount)).to.deep.equal([2, 1]);
      });
    });

    describe('ownership: the token decides whose account', () => {
      itHttp("user B never sees A's balance, operations or profile", async () => {
        const [a, b] = await Promise.all([api.newTrader({ firstName: 'Alice' }), api.newTrader({ firstName: 'Bob' })]);
        const position = await api.funded(a.token, 77);
        const accountA = await api.balance(a.token, position);
        const accountB = await api.balance(b.token, position);
        expect(accountA.amount).to.equal(77);
        expect(accountB.amount).to.equal(0);
        expect(accountB.body.id).to.not.equal(accountA.body.id);
        expect(accountA.body.id).to.match(UUID);
        expect((await api.operations(b.token, position)).body).to.deep.equal([]);
        expect((await api.operations(a.token, position)).body).to.have.length(1);
        const profileB = await api.profile(b.token, position);
        expect(profileB).to.include({ id: b.id, email: b.email, firstName: 'Bob' });
        // query parameters naming A change nothing
        for (const query of [`?userId=${a.id}`, `?id=${a.id}`, `?accountId=${accountA.body.id}`]) {
          const answer = await api.get(`/api/v1/billing/account${query}`, { token: b.token });
          expect(answer.status).to.equal(200);
          expect(answer.body.id).to.equal(accountB.body.id);
          expect((await api.get(`/api/v1/billing/operations${query}`, { token: b.token })).body).to.deep.equal([]);
          expect((await api.get(`/api/v1/identity/profile${query}`, { token: b.token })).body.id).to.equal(b.id);
        }
      });

      itHttp("user B cannot move A's money: a userId or accountId in the body is an unknown field (422)", async () => {
        const [a, b] = await Promise.all([api.newTrader(), api.newTrader()]);
        const funded = await api.deposit(a.token, 100);
        const etagA = funded.headers.get('etag')!;
        const accountA = await api.balance(a.token, positionOf(funded));
        for (const field of [{ userId: a.id }, { accountId: accountA.body.id }, { user: a.id }]) {
          const answer = await api.move(
            'withdraw',
            b.token,
            { amount: 50, ...field },
            { 'idempotency-key': randomUUID() },
          );
          expectViolation(answer, Object.keys(field)[0]!, 'This field was not expected.');
          const dep = await api.move('deposit', b.token, { amount: 50, ...field }, { 'idempotency-key': randomUUID() });
          expectViolation(dep, Object.keys(field)[0]!, 'This field was not expected.');
        }
        // B's own write touches B's own account only
        const own = await api.deposit(b.token, 5);
        expect(own.status).to.equal(204);
        // A's account is untouched: A's own ETag still holds
        const stillA = await api.withdraw(a.token, 1, { 'if-match': etagA });
        expect(stillA.status, stillA.text).to.equal(204);
        expect((await api.balance(a.token, positionOf(stillA))).amount).to.equal(99);
        expect((await api.balance(b.token, positionOf(own))).amount).to.equal(5);
        // PUT /identity/profile with A's id is refused and leaves A alone
        expectViolation(
          await api.put('/api/v1/identity/profile', {
            token: b.token,
            json: { id: a.id, firstName: 'X', lastName: 'Y' },
          }),
          'id',
        );
        expectViolation(
          await api.put('/api/v1/identity/profile', {
            token: b.token,
            json: { userId: a.id, firstName: 'X', lastName: 'Y' },
          }),
          'userId',
        );
        const profileA = await api.profile(a.token, positionOf(stillA));
        expect(profileA.firstName).to.equal('Test');
      });

      itHttp("an idempotency key of A replayed by B is not A's answer", async () => {
        const [a, b] = await Promise.all([api.newTrader(), api.newTrader()]);
        const key = randomUUID();
        const fromA = await api.deposit(a.token, 33, { 'idempotency-key': key });
        expect(fromA.status).to.equal(204);
        const fromB = await api.deposit(b.token, 33, { 'idempotency-key': key });
        expect(fromB.status).to.equal(204);
        expect(fromB.headers.get('x-event-position')).to.not.equal(fromA.headers.get('x-event-position'));
        expect((await api.balance(b.token, positionOf(fromB))).amount).to.equal(33);
        expect((await api.balance(a.token, positionOf(fromB))).amount).to.equal(33);
      });
    });
  });
}
