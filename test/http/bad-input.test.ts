/**
 * Bad input over HTTP, on a real listening server (embedded and EventStoreDB stores):
 * every malformed, mistyped, oversized or hostile request gets the right 4xx with the
 * `{ code, message }` body, never a 500, and leaves the state as it was.
 *
 * "State unchanged" is proven on the write side: the account's ETag taken before the bad
 * requests must still be accepted by an If-Match write after them.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { httpMessages } from '../../infra/http/messages.js';
import { startApiServer, type ApiServer } from '../support/api-server.js';
import {
  withApiServer,
  Client,
  eventStores,
  expectError,
  expectViolation,
  itHttp,
  positionOf,
  uniqueEmail,
  type Trader,
  type JsonBody,
} from './client.js';

const DEPOSIT = '/api/v1/billing/account/deposit';
const WITHDRAW = '/api/v1/billing/account/withdraw';

for (const eventStore of eventStores) {
  describe(`HTTP bad input (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let api: Client;
    withApiServer(eventStore, (_server, client) => {
      api = client;
    });

    /** A trader with 100 on the account, and the ETag of that state. */
    async function fundedTrader(): Promise<{ t: Trader; etag: string }> {
      const t = await api.newTrader();
      const funded = await api.deposit(t.token, 100);
      expect(funded.status, funded.text).to.equal(204);
      return { t, etag: funded.headers.get('etag')! };
    }

    /** The account is still at the state of `etag` (balance 100, one operation). */
    async function expectUnchanged(t: Trader, etag: string): Promise<void> {
      const probe = await api.withdraw(t.token, 1, { 'if-match': etag });
      expect(probe.status, `the account changed under the bad requests: ${probe.text}`).to.equal(204);
      const position = positionOf(probe);
      expect((await api.balance(t.token, position)).amount).to.equal(99);
      const ops = await api.operations(t.token, position);
      expect(ops.body.map((op: JsonBody) => [op.type, op.amount])).to.deep.equal([
        ['withdraw', 1],
        ['deposit', 100],
      ]);
    }

    /** POSTs `raw` with an idempotency key; `contentType` null sends none (fetch then says text/plain). */
    const post = (
      path: string,
      token: string,
      raw: string,
      contentType: string | null = 'application/json',
      headers: Record<string, string> = {},
    ) =>
      api.post(path, {
        token,
        raw,
        contentType: contentType ?? undefined,
        headers: { 'idempotency-key': randomUUID(), ...headers },
      });

    describe('bodies of deposit and withdraw', () => {
      itHttp('malformed JSON → 400', async () => {
        const { t, etag } = await fundedTrader();
        for (const path of [DEPOSIT, WITHDRAW]) {
          for (const raw of [
            '{"amount":',
            '{amount: 10}',
            "{'amount': 10}",
            '{"amount": 10,}',
            'amount=10',
            '{"amount": 10}}',
            '\u0000',
            '{"amount": 01}',
            '{"amount": NaN}',
            '{"amount": Infinity}',
          ]) {
            const answer = await post(path, t.token, raw);
            expectError(answer, 400);
          }
        }
        await expectUnchanged(t, etag);
      });

      itHttp('a JSON array body → 422', async () => {
        const { t, etag } = await fundedTrader();
        for (const raw of ['[]', '[{"amount": 10}]', '[10]']) {
          const answer = await post(DEPOSIT, t.token, raw);
          expectError(answer, 422);
        }
        await expectUnchanged(t, etag);
      });

      // The specification allows 400 or 422 here (the body parser refuses non-object JSON as malformed).
      itHttp('a JSON string, number, boolean or null body → 400 or 422, never executed', async () => {
        const { t, etag } = await fundedTrader();
        for (const raw of ['"100"', '100', 'true', 'null']) {
          const answer = await post(DEPOSIT, t.token, raw);
          expect(answer.status, `${raw} → ${answer.text}`).to.be.oneOf([400, 422]);
        }
        await expectUnchanged(t, etag);
      });

      itHttp("wrong types of amount → 422 at 'amount'", async () => {
        const { t, etag } = await fundedTrader();
        for (const path of [DEPOSIT, WITHDRAW]) {
          for (const amount of ['100', '10.5', true, null, {}, [], [10], { $gt: 0 }, { $numberDecimal: '10' }]) {
            const answer = await api.move(
              path.endsWith('deposit') ? 'deposit' : 'withdraw',
              t.token,
              { amount },
              { 'idempotency-key': randomUUID() },
            );
            expectViolation(answer, 'amount', 'This value should be of type number.');
          }
        }
        await expectUnchanged(t, etag);
      });

      itHttp('a missing amount → 422 "This field is missing." (also for an empty body)', async () => {
        const { t, etag } = await fundedTrader();
        for (const kind of ['deposit', 'withdraw'] as const) {
          expectViolation(
            await api.move(kind, t.token, {}, { 'idempotency-key': randomUUID() }),
            'amount',
            'This field is missing.',
          );
          expectViolation(
            await api.move(kind, t.token, { sum: 10 }, { 'idempotency-key': randomUUID() }),
            'amount',
            'This field is missing.',
          );
        }
        const empty = await post(DEPOSIT, t.token, '');
        expect(empty.status, empty.text).to.be.oneOf([400, 422]);
        const none = await api.post(DEPOSIT, { token: t.token, headers: { 'idempotency-key': randomUUID() } });
        expect(none.status, none.text).to.be.oneOf([400, 422]);
        await expectUnchanged(t, etag);
      });

      itHttp('unknown fields → 422 "This field was not expected."', async () => {
        const { t, etag } = await fundedTrader();
        for (const kind of ['deposit', 'withdraw'] as const) {
          for (const extra of [
            { currency: 'EUR' },
            { description: 'free money' },
            { balance: 1_000_000 },
            { $where: 'sleep(1000)' },
            { __proto__x: 1 },
          ]) {
            const answer = await api.move(kind, t.token, { amount: 10, ...extra }, { 'idempotency-key': randomUUID() });
            expectViolation(answer, Object.keys(extra)[0]!, 'This field was not expected.');
          }
        }
        // prototype-pollution shapes: refused (the parser may refuse them as malformed)
        const proto = await post(DEPOSIT, t.token, '{"amount": 10, "__proto__": {"amount": 1}}');
        expect(proto.status, proto.text).to.be.oneOf([400, 422]);
        const viaConstructor = await post(DEPOSIT, t.token, '{"amount": 10, "constructor": {"prototype": {"x": 1}}}');
        expect(viaConstructor.status, viaConstructor.text).to.be.oneOf([400, 422]);
        await expectUnchanged(t, etag);
      });

      itHttp("amounts out of range or with fractional cents → 422 at 'amount'", async () => {
        const { t, etag } = await fundedTrader();
        const cases: Array<[number, string]> = [
          [-5, 'This value should be greater than or equal to 1.'],
          [-0, 'This value should be greater than or equal to 1.'],
          [0, 'This value should be greater than or equal to 1.'],
          [0.5, 'This value should be greater than or equal to 1.'],
          [0.99, 'This value should be greater than or equal to 1.'],
          [10000.01, 'This value should be less than or equal to 10000.'],
          [10001, 'This value should be less than or equal to 10000.'],
          [1e21, 'This value should be less than or equal to 10000.'],
          [10.001, 'This value should have at most 2 decimal places.'],
          [1.005, 'This value should have at most 2 decimal places.'],
          [99.999, 'This value should have at most 2 decimal places.'],
        ];
        for (const kind of ['deposit', 'withdraw'] as const) {
          for (const [amount, detail] of cases) {
            const answer = await api.move(kind, t.token, { amount }, { 'idempotency-key': randomUUID() });
            expectViolation(answer, 'amount', detail);
          }
          for (const raw of [
            '{"amount": 1e400}',
            '{"amount": -1e400}',
            '{"amount": 1.0000001}',
            '{"amount": 5e-324}',
          ]) {
            const answer = await post(kind === 'deposit' ? DEPOSIT : WITHDRAW, t.token, raw);
            expect(answer.status, `${raw}: ${answer.text}`).to.be.oneOf([400, 422]);
          }
        }
        await expectUnchanged(t, etag);
      });

      itHttp('a body over 1 MB → 413 (deposit, register, login, profile)', async () => {
        const { t, etag } = await fundedTrader();
        const pad = 'x'.repeat(1100 * 1024);
        const answers = [
          await post(DEPOSIT, t.token, JSON.stringify({ amount: 10, pad })),
          await api.post('/api/v1/identity/register', {
            raw: JSON.stringify({ email: uniqueEmail(), password: 'secret', firstName: pad, lastName: 'L' }),
            contentType: 'application/json',
          }),
          await api.post('/api/v1/identity/login', {
            raw: JSON.stringify({ email: t.email, password: pad }),
            contentType: 'application/json',
          }),
          await api.put('/api/v1/identity/profile', {
            token: t.token,
            raw: JSON.stringify({ firstName: pad, lastName: 'L' }),
            contentType: 'application/json',
          }),
        ];
        expect(
          answers.map((a) => a.describe),
          answers.map((a) => a.text).join('\n'),
        ).to.deep.equal([
          `POST ${DEPOSIT} → 413`,
          'POST /api/v1/identity/register → 413',
          'POST /api/v1/identity/login → 413',
          'PUT /api/v1/identity/profile → 413',
        ]);
        await expectUnchanged(t, etag);
      });

      itHttp('a body just under 1 MB is parsed (then refused for its unknown field, 422)', async () => {
        const { t, etag } = await fundedTrader();
        const under = JSON.stringify({ amount: 10, pad: 'x'.repeat(1000 * 1000) });
        expectViolation(await post(DEPOSIT, t.token, under), 'pad');
        await expectUnchanged(t, etag);
      });

      const nestedAmount = (depth: number) => `{"amount": ${'['.repeat(depth)}${']'.repeat(depth)}}`;

      itHttp('deeply nested JSON (within 1 MB) with an Idempotency-Key → 4xx, never 500', async () => {
        const { t, etag } = await fundedTrader();
        const withKey = await post(DEPOSIT, t.token, nestedAmount(200_000));
        expect(withKey.status, `with Idempotency-Key: ${withKey.text.slice(0, 200)}`).to.be.within(400, 499);
        await expectUnchanged(t, etag);
      });

      itHttp('deeply nested JSON (within 1 MB) with If-Match → 4xx, never 500', async () => {
        const { t, etag } = await fundedTrader();
        const nested = nestedAmount(200_000);
        const withIfMatch = await api.post(DEPOSIT, {
          token: t.token,
          raw: nested,
          contentType: 'application/json',
          headers: { 'if-match': etag },
        });
        expect(withIfMatch.status, `with If-Match: ${withIfMatch.text.slice(0, 200)}`).to.be.within(400, 499);
        await expectUnchanged(t, etag);
      });

      itHttp('deeply nested JSON in a registration → 4xx, never 500', async () => {
        const depth = 200_000;
        const nested = `{"email": "${uniqueEmail()}", "password": "secret", "firstName": ${'['.repeat(depth)}${']'.repeat(depth)}, "lastName": "L"}`;
        const answer = await api.post('/api/v1/identity/register', { raw: nested, contentType: 'application/json' });
        expect(answer.status, answer.text.slice(0, 200)).to.be.within(400, 499);
      });

      itHttp('a content type other than JSON → 415, never executed', async () => {
        const NOT_JSON = 'Unsupported Content-Type: send the body as application/json';
        const { t, etag } = await fundedTrader();
        for (const [raw, type] of [
          ['{"amount": 10}', 'text/plain'],
          ['amount=10', 'application/x-www-form-urlencoded'],
          ['<amount>10</amount>', 'application/xml'],
          ['{"amount": 10}', 'multipart/form-data; boundary=x'],
          ['{"amount": 10}', null],
        ] as const) {
          const answer = await post(DEPOSIT, t.token, raw, type);
          expectError(answer, 415, NOT_JSON);
        }
        const bytes = await api.post(DEPOSIT, {
          token: t.token,
          raw: new TextEncoder().encode('{"amount": 10}'),
          headers: { 'idempotency-key': randomUUID() },
        });
        expectError(bytes, 415, NOT_JSON);
        await expectUnchanged(t, etag);
      });

      itHttp('a 415 does not use up its Idempotency-Key: the same key with a JSON body then deposits', async () => {
        const { t, etag } = await fundedTrader();
        const key = randomUUID();
        const refused = await post(DEPOSIT, t.token, '{"amount": 10}', 'text/plain', { 'idempotency-key': key });
        expect(refused.status, refused.text).to.equal(415);
        await expectUnchanged(t, etag);
        const accepted = await post(DEPOSIT, t.token, '{"amount": 10}', 'application/json', { 'idempotency-key': key });
        expect(accepted.status, accepted.text).to.equal(204);
      });

      itHttp('a JSON body with a broken or unknown Content-Encoding → 4xx', async () => {
        const { t, etag } = await fundedTrader();
        const gzip = await post(DEPOSIT, t.token, '{"amount": 10}', 'application/json', { 'content-encoding': 'gzip' });
        expect(gzip.status, gzip.text).to.be.within(400, 499);
        const unknown = await post(DEPOSIT, t.token, '{"amount": 10}', 'application/json', {
          'content-encoding': 'rot13',
        });
        expect(unknown.status, unknown.text).to.be.within(400, 499);
        await expectUnchanged(t, etag);
      });

      itHttp('application/json with a charset parameter is JSON', async () => {
        const t = await api.newTrader();
        const answer = await post(DEPOSIT, t.token, '{"amount": 10}', 'application/json; charset=utf-8');
        expect(answer.status, answer.text).to.equal(204);
        expect((await api.balance(t.token, positionOf(answer))).amount).to.equal(10);
      });
    });

    describe('hostile-looking strings', () => {
      itHttp('NoSQL operators as values → 422, never a match', async () => {
        const t = await api.newTrader();
        expectViolation(
          await api.register({ email: { $gt: '' }, password: 'secret', firstName: 'A', lastName: 'B' }),
          'email',
        );
        expectViolation(
          await api.register({ email: uniqueEmail(), password: { $ne: null }, firstName: 'A', lastName: 'B' }),
          'password',
        );
        expectViolation(
          await api.post('/api/v1/identity/login', { json: { email: { $regex: '.*' }, password: { $ne: 'x' } } }),
          'email',
        );
        expectViolation(
          await api.post('/api/v1/identity/login', { json: { email: t.email, password: { $ne: 'x' } } }),
          'password',
        );
        expectViolation(
          await api.put('/api/v1/identity/profile', {
            token: t.token,
            json: { firstName: { $set: 'x' }, lastName: 'B' },
          }),
          'firstName',
        );
      });

      itHttp('SQL-injection-looking names are stored and shown verbatim', async () => {
        const firstName = "'; DROP TABLE events; --";
        const lastName = 'Robert"); DELETE FROM accounts WHERE ("1"="1';
        const registered = await api.register({ email: uniqueEmail(), password: "' OR '1'='1", firstName, lastName });
        expect(registered.status, registered.text).to.equal(201);
        expect(registered.body).to.include({ firstName, lastName });
        const token = (await api.login(registered.body.email as string, "' OR '1'='1")).body.accessToken as string;
        const profile = await api.profile(token, positionOf(registered));
        expect(profile).to.include({ firstName, lastName });
        expectError(
          await api.login(registered.body.email as string, "' OR 1=1 --"),
          401,
          'email or password is incorrect',
        );
        expectError(await api.login("' OR 1=1 --", "' OR 1=1 --"), 401, 'email or password is incorrect');
        const odd = await api.put('/api/v1/identity/profile', {
          token,
          json: { firstName: '<script>alert(1)</script>', lastName: 'Ünïcødé 名前 🙂' },
        });
        expect(odd.status, odd.text).to.equal(200);
        const after = await api.profile(token, positionOf(odd));
        expect(after).to.include({ firstName: '<script>alert(1)</script>', lastName: 'Ünïcødé 名前 🙂' });
        // and the system still works for everyone
        const other = await api.newTrader();
        expect((await api.balance(other.token, other.position)).amount).to.equal(0);
      });

      itHttp('an SQL-injection-looking email is refused (422 at email) or stored verbatim', async () => {
        for (const email of [
          "'; DROP TABLE events; --@market.test",
          `robert'--${randomUUID().slice(0, 6)}@market.test`,
          'a@b.com; DROP TABLE users',
        ]) {
          const answer = await api.register({ email, password: 'secret', firstName: 'A', lastName: 'B' });
          if (answer.status === 201) {
            expect(answer.body.email).to.equal(email);
            expect((await api.login(email, 'secret')).status).to.equal(200);
          } else {
            expectViolation(answer, 'email');
          }
        }
      });
    });

    describe('routes, methods, headers', () => {
      let t: Trader;
      beforeEach(async () => {
        t = await api.newTrader();
      });

      itHttp('unknown routes → 404 JSON, with or without a token', async () => {
        for (const path of [
          '/api/v1/nope',
          '/api/v1/billing/accounts',
          '/api/v1/billing/account/transfer',
          '/api/v2/billing/account',
          '/nope',
          '/api/v1/identity',
          '/api/v1/billing/account/deposit/extra',
          '/.well-known/other.json',
        ]) {
          expectError(await api.get(path, { token: t.token }), 404);
          expectError(await api.get(path), 404);
          expectError(
            await api.post(path, { token: t.token, json: { amount: 1 }, headers: { 'idempotency-key': randomUUID() } }),
            404,
          );
        }
      });

      itHttp('a wrong method on a known route → 405 JSON with Allow', async () => {
        const cases: Array<[string, string]> = [
          ['DELETE', '/api/v1/billing/account'],
          ['PUT', '/api/v1/billing/account'],
          ['PATCH', '/api/v1/billing/account'],
          ['GET', '/api/v1/billing/account/deposit'],
          ['PUT', '/api/v1/billing/account/withdraw'],
          ['POST', '/api/v1/billing/operations'],
          ['PATCH', '/api/v1/identity/profile'],
          ['POST', '/api/v1/identity/profile'],
          ['GET', '/api/v1/identity/password'],
          ['GET', '/api/v1/identity/logout-all'],
          ['GET', '/api/v1/identity/register'],
          ['GET', '/api/v1/identity/login'],
          ['GET', '/api/v1/identity/logout'],
          ['POST', '/.well-known/jwks.json'],
        ];
        for (const [method, path] of cases) {
          const answer = await api.request(method, path, { token: t.token });
          expectError(answer, 405);
          expect(answer.headers.get('allow'), `${method} ${path}`).to.be.a('string').and.not.equal('');
        }
      });

      itHttp('an invalid X-Event-Position or minPosition → 400', async () => {
        for (const value of ['abc', '-1', '1.5', '1-2-3', '0x10', '18446744073709551616', '1 2', '1-']) {
          expectError(
            await api.get('/api/v1/billing/account', { token: t.token, headers: { 'x-event-position': value } }),
            400,
          );
          expectError(
            await api.get(`/api/v1/billing/operations?minPosition=${encodeURIComponent(value)}`, { token: t.token }),
            400,
          );
          expectError(
            await api.get('/api/v1/identity/profile', { token: t.token, headers: { 'x-event-position': value } }),
            400,
          );
        }
      });

      itHttp('a reached X-Event-Position or minPosition answers at once', async () => {
        const answer = await api.get(`/api/v1/billing/account?minPosition=${t.position}`, { token: t.token });
        expect(answer.status, answer.text).to.equal(200);
        expect(
          (await api.get('/api/v1/billing/account', { token: t.token, headers: { 'x-event-position': '0' } })).status,
        ).to.equal(200);
      });
    });

    describe('read-your-writes timeout', () => {
      let quick: ApiServer;
      let quickApi: Client;
      before(async () => {
        quick = await startApiServer({ eventStore, env: { READ_YOUR_WRITES_TIMEOUT_MS: '200' } });
        quickApi = new Client(quick.baseUrl);
      });
      after(async () => {
        await quick?.close();
      });
      /** The balance once the read models reach `position`: asked again past this server's short wait. */
      async function settledAmount(token: string, position: string): Promise<number> {
        for (let attempt = 0; ; attempt++) {
          const answer = await quickApi.account(token, position);
          if (answer.status === 200 || attempt >= 50) {
            expect(answer.status, answer.text).to.equal(200);
            return answer.body.amount as number;
          }
        }
      }

      itHttp('a position past the end of the event store → 400 at once, no wait', async () => {
        const trader = await quickApi.newTrader();
        for (const [path, headers] of [
          ['/api/v1/billing/account', { 'x-event-position': '999999999999' }],
          ['/api/v1/billing/operations?minPosition=999999999999', {}],
          ['/api/v1/identity/profile', { 'x-event-position': '999999999999-999999999999' }],
        ] as const) {
          const answer = await quickApi.get(path, { token: trader.token, headers });
          expectError(answer, 400, httpMessages.positionAhead);
        }
        // and the server is fine afterwards
        expect(await settledAmount(trader.token, trader.position)).to.equal(0);
      });

      itHttp('a position the read models have not reached → 503 with Retry-After after the bounded wait', async () => {
        const trader = await quickApi.newTrader();
        const billing = quick.system.runners.find((r) => r.handler.name === 'billing')!;
        await billing.stop(); // the billing read model lags behind, as it may at any time
        let position = trader.position;
        try {
          position = await quickApi.funded(trader.token, 10);
          for (const path of ['/api/v1/billing/account', `/api/v1/billing/operations?minPosition=${position}`]) {
            const started = Date.now();
            const answer = await quickApi.get(path, { token: trader.token, headers: { 'x-event-position': position } });
            const took = Date.now() - started;
            expectError(answer, 503);
            expect(answer.headers.get('retry-after'), path).to.match(/^\d+$/);
            expect(took, `${path} waited ${took} ms`).to.be.within(150, 3000);
          }
        } finally {
          billing.start();
        }
        expect(await settledAmount(trader.token, position)).to.equal(10);
      });
    });
  });
}
