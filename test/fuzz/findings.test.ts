/**
 * What the fuzzer of the OpenAPI document found, each pinned down as a plain example so it
 * stays fixed whatever seed the fuzzer runs with.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { apiDescription } from '../../infra/http/openapi/document.js';
import { type Client, expectError, expectViolation, itHttp, type Trader, withApiServer } from '../http/client.js';
import { resolverOf } from './operations.js';

describe('what the fuzzer found (embedded event store)', function () {
  this.timeout(60_000);
  let api: Client;
  let trader: Trader;
  withApiServer('embedded', (_server, client) => {
    api = client;
  });
  before(async () => {
    trader = await api.newTrader();
  });

  itHttp(
    'an Idempotency-Key sent empty is a 400, not a request without a key (nor one keyed by X-Request-Id)',
    async () => {
      const cases: Record<string, string>[] = [
        { 'idempotency-key': '' },
        { 'idempotency-key': '', 'x-request-id': randomUUID() },
        { 'x-request-id': '' },
      ];
      for (const headers of cases)
        expectError(
          await api.deposit(trader.token, 10, headers),
          400,
          'Idempotency-Key must be 1 to 255 visible characters',
        );
      expect((await api.balance(trader.token, trader.position)).amount).to.equal(0);
    },
  );

  itHttp('a ?minPosition= that is no position is a 400 even beside a good X-Event-Position', async () => {
    const answer = await api.get('/api/v1/billing/account?minPosition=5e-324', {
      token: trader.token,
      headers: { 'x-event-position': trader.position },
    });
    expectError(answer, 400, 'Invalid event position');
    const spaced = await api.get(`/api/v1/billing/account?minPosition=%20${trader.position}`, { token: trader.token });
    expectError(spaced, 400, 'Invalid event position');
  });

  itHttp('given both, the later position counts: one past the head beside a reached one is the 400', async () => {
    const answer = await api.get('/api/v1/billing/account?minPosition=999999999999', {
      token: trader.token,
      headers: { 'x-event-position': trader.position },
    });
    expectError(answer, 400, 'The event position is past the end of the event store');
  });

  itHttp('an empty position (header or query) is none, as the document says', async () => {
    const answer = await api.get('/api/v1/billing/account?minPosition=', {
      token: trader.token,
      headers: { 'x-event-position': '' },
    });
    expect(answer.status, answer.text).to.equal(200);
  });

  itHttp('a blank name is refused, and the document says so (pattern \\S)', async () => {
    const answer = await api.register({
      email: `blank-${randomUUID()}@market.test`,
      password: 'secret',
      firstName: 'A',
      lastName: ' ',
    });
    expectViolation(answer, 'lastName');
    expect(documented('lastName', ' ')).to.equal(false);
    expect(documented('lastName', ' Ada ')).to.equal(true);
  });

  itHttp('a name is at most 100 characters as sent, spaces around it included', async () => {
    const padded = `  ${'n'.repeat(99)}  `;
    expectViolation(
      await api.register({
        email: `long-${randomUUID()}@market.test`,
        password: 'secret',
        firstName: padded,
        lastName: 'L',
      }),
      'firstName',
      'This value is too long. It should have 100 characters or less.',
    );
    expect(documented('firstName', padded)).to.equal(false);
  });

  itHttp('a phone of fewer than 3 characters between spaces is refused, and the document says so', async () => {
    const answer = await api.put('/api/v1/identity/profile', {
      token: trader.token,
      json: { firstName: 'A', lastName: 'B', phone: '  1' },
    });
    expectViolation(answer, 'phone');
    expect(documented('phone', '  1')).to.equal(false);
    expect(documented('phone', ' +1 555 ')).to.equal(true);
  });

  itHttp(
    "an email whose host name ends in '-' is refused (the answer's own format: email would refuse it)",
    async () => {
      const email = `x${randomUUID().slice(0, 6)}@a-.example.com`;
      expectViolation(await api.register({ email, password: 'secret', firstName: 'A', lastName: 'B' }), 'email');
      expect(documented('email', email)).to.equal(false);
      expect(documented('email', '  ada@example.com ')).to.equal(true);
    },
  );

  itHttp('headers over 16 KB: 431 with the problem body, as documented', async () => {
    const answer = await api.get('/api/v1/billing/account', {
      headers: { authorization: `Bearer ${'A'.repeat(17_000)}` },
    });
    expectError(answer, 431, 'Request headers too large (limit 16 KB)');
  });

  itHttp('a trailing slash names no operation: 404, not the list without it', async () => {
    expectError(await api.get('/api/v1/ordering/orders/', { token: trader.token }), 404);
    expectError(await api.get('/docs/'), 404);
    expect((await api.get('/api/v1/ordering/orders', { token: trader.token })).status).to.equal(200);
  });
});

/** Whether the register body's (or profile's) schema in the document accepts `value` for `field`. */
function documented(field: string, value: unknown): boolean {
  const document = apiDescription();
  const resolve = resolverOf(document);
  const body = document.paths['/api/v1/identity/register']!.post!.requestBody!.content['application/json']!.schema!;
  const properties = resolve(body).properties as Record<string, Record<string, unknown>>;
  const ajv = new Ajv2020({ strict: false });
  addFormats.default(ajv);
  return ajv.validate(properties[field]!, value);
}
