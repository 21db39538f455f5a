/**
 * Every path parameter is checked at the edge, for every route that has one — found in the
 * OpenAPI document, so a route added later is covered without touching this test. An id no
 * id of this API can be (1,025 characters long, a space, a NUL, a `%` that decodes to
 * nothing) is a 422 naming the parameter (404 for a file of the docs page), never a 500; a
 * well-formed id that names nothing is a 404.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { grantRole } from '../../command-handlers/admin.js';
import { apiDescription } from '../../infra/http/openapi/document.js';
import type { ApiServer } from '../support/api-server.js';
import { eventually } from './trading-client.js';
import { MAX_PATH_ID_LENGTH } from '../../infra/http/schemas/common.js';
import { type Client, expectError, expectViolation, itHttp, type Trader, withApiServer } from './client.js';

interface PathParameter {
  name: string;
  in: string;
  schema: { enum?: string[] };
}

interface Route {
  method: string;
  template: string;
  parameters: PathParameter[];
  signedIn: boolean;
}

/** Every operation of the document whose path has a parameter. */
function routesWithPathParameters(): Route[] {
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(apiDescription().paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, Record<string, unknown>>)) {
      const parameters = ((operation.parameters ?? []) as PathParameter[]).filter((p) => p.in === 'path');
      if (parameters.length === 0) continue;
      routes.push({ method: method.toUpperCase(), template, parameters, signedIn: Array.isArray(operation.security) });
    }
  }
  return routes;
}

/** Values in a path segment (as sent, already percent-encoded) that no id of this API can be. */
const IMPOSSIBLE: Array<[what: string, sent: string]> = [
  ['1,025 characters', 'o'.repeat(1025)],
  [`${MAX_PATH_ID_LENGTH + 1} characters`, 'o'.repeat(MAX_PATH_ID_LENGTH + 1)],
  ['8,000 characters', 'o'.repeat(8_000)],
  ['a space', encodeURIComponent('an order')],
  ['a NUL', encodeURIComponent('order\0')],
  ['a slash', encodeURIComponent('a/b')],
  ['non-ASCII', encodeURIComponent('ördér')],
  ['a quote and SQL', encodeURIComponent("x' OR '1'='1")],
  ['a Mongo operator', encodeURIComponent('{"$gt":""}')],
  ['percent-encoding that decodes to nothing', '%E0%A4%A'],
];

describe('HTTP: path parameters are validated on every route that has one (embedded event store)', function () {
  this.timeout(60_000);
  let api: Client;
  let server: ApiServer;
  let trader: Trader;
  /** The administrators' routes answer 403 to anyone else before they look at a parameter. */
  let adminToken: string;
  // One server for the whole suite (also on the MongoDB read store): its trader is signed up once, before all.
  withApiServer(
    'embedded',
    (started, client) => {
      server = started;
      api = client;
    },
    { shared: true },
  );
  before(async () => {
    trader = await api.newTrader();
    const admin = await api.newTrader();
    await grantRole(server.system.services, admin.email, 'admin', 'cli');
    const login = await api.login(admin.email, admin.password);
    adminToken = login.body.accessToken as string;
    await eventually(async () => {
      const answer = await api.get('/api/v1/admin/users?limit=1', { token: adminToken });
      expect(answer.status, answer.text).to.equal(200);
    });
  });

  const routes = routesWithPathParameters();

  it('finds the routes in the document: the order, item and admin routes, marking a letter read and the docs page files', () => {
    expect(routes.map((r) => `${r.method} ${r.template}`).sort()).to.deep.equal([
      'GET /api/v1/ordering/orders/{id}',
      'GET /api/v1/trading/items/{itemId}',
      'GET /api/v1/trading/items/{itemId}/candles',
      'GET /api/v1/trading/items/{itemId}/order-book',
      'GET /api/v1/trading/purchase-orders/{id}',
      'GET /api/v1/trading/sell-orders/{id}',
      'GET /docs/{asset}',
      'POST /api/v1/admin/parked-events/{handler}/{eventId}/retry',
      'POST /api/v1/admin/parked-events/{handler}/{eventId}/skip',
      'POST /api/v1/admin/users/{userId}/block',
      'POST /api/v1/admin/users/{userId}/unblock',
      'POST /api/v1/notifications/{id}/read',
      'POST /api/v1/trading/purchase-orders/{id}/cancel',
      'POST /api/v1/trading/sell-orders/{id}/cancel',
    ]);
  });

  /** The value under test in the route's first parameter; any other gets a well-formed id (two long ones would only test the header limit). */
  const call = (route: Route, value: string) => {
    let path = route.template;
    route.parameters.forEach((parameter, i) => {
      path = path.replace(`{${parameter.name}}`, i === 0 ? value : randomUUID());
    });
    if (!route.signedIn) return api.request(route.method, path, {});
    const admin = route.template.startsWith('/api/v1/admin/');
    // A skip states its reason: without it the body's 422 would hide the parameter's answer.
    const json = route.template.endsWith('/skip') ? { reason: 'path-parameter test' } : undefined;
    return api.request(route.method, path, { token: admin ? adminToken : trader.token, json });
  };

  for (const route of routesWithPathParameters()) {
    const { method, template } = route;
    const parameter = route.parameters[0]!;
    const listed = parameter.schema.enum !== undefined;

    itHttp(
      `${method} ${template}: an impossible ${parameter.name} is ${listed ? '404' : '422 naming it'}, never 5xx`,
      async () => {
        for (const [what, sent] of IMPOSSIBLE) {
          const answer = await call(route, sent);
          if (listed) expectError(answer, 404);
          else expectViolation(answer, parameter.name);
          expect(answer.status, what).to.be.oneOf([404, 422]);
        }
      },
    );

    itHttp(`${method} ${template}: a well-formed ${parameter.name} that names nothing is 404`, async () => {
      for (const value of [
        randomUUID(),
        `${randomUUID()}.${randomUUID()}`,
        'x'.repeat(MAX_PATH_ID_LENGTH),
        'no-such-u1',
      ]) {
        expectError(await call(route, value), 404);
      }
    });
  }

  itHttp('the 1,025-character order id of the issue: 422 on GET and on both cancels, with the rule named', async () => {
    const id = 'o'.repeat(1025);
    for (const path of [
      `/api/v1/ordering/orders/${id}`,
      `/api/v1/trading/purchase-orders/${id}/cancel`,
      `/api/v1/trading/sell-orders/${id}/cancel`,
    ]) {
      const answer = await api.request(path.startsWith('/api/v1/ordering') ? 'GET' : 'POST', path, {
        token: trader.token,
      });
      expectViolation(answer, 'id', `This value is too long. It should have ${MAX_PATH_ID_LENGTH} characters or less.`);
    }
  });
});
