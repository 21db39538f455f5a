/**
 * CORS for browser clients (infra/http/cors.ts): the origins of CORS_ALLOWED_ORIGINS may
 * call the API and read its convention headers; every other origin, and every origin when
 * the list is empty (the default), gets no CORS header at all.
 */
import { expect } from 'chai';
import { loadConfig } from '../../infra/config/config.js';
import { EXPOSED_HEADERS } from '../../infra/http/cors.js';
import { startApiServer, type ApiServer } from '../support/api-server.js';
import { Client, itHttp } from './client.js';

const APP = 'https://app.example.com';
const LOCAL = 'http://localhost:3000';

function preflight(baseUrl: string, path: string, origin: string, method = 'POST'): Promise<Response> {
  return fetch(baseUrl + path, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type, idempotency-key, if-match',
    },
  });
}

describe('CORS for browser clients', function () {
  this.timeout(30_000);

  describe('with an allow-list', () => {
    let server: ApiServer;
    let api: Client;
    before(async () => {
      server = await startApiServer({ env: { CORS_ALLOWED_ORIGINS: `${APP}, ${LOCAL}` } });
      api = new Client(server.baseUrl);
    });
    after(() => server.close());

    it('answers a preflight from a listed origin with the methods and headers the API takes', async () => {
      for (const origin of [APP, LOCAL]) {
        const answer = await preflight(server.baseUrl, '/api/v1/billing/account/deposit', origin);
        expect(answer.status).to.equal(204);
        expect(answer.headers.get('access-control-allow-origin')).to.equal(origin);
        const methods = answer.headers.get('access-control-allow-methods') ?? '';
        for (const method of ['GET', 'POST', 'PUT', 'DELETE']) expect(methods).to.include(method);
        const headers = (answer.headers.get('access-control-allow-headers') ?? '').toLowerCase();
        for (const header of ['authorization', 'content-type', 'idempotency-key', 'if-match', 'x-event-position'])
          expect(headers).to.include(header);
        expect(Number(answer.headers.get('access-control-max-age'))).to.be.greaterThan(0);
        expect(answer.headers.get('vary')).to.include('Origin');
        // Bearer tokens, no cookies: credentials are never allowed.
        expect(answer.headers.get('access-control-allow-credentials')).to.equal(null);
      }
    });

    it('answers a preflight from another origin without any CORS header', async () => {
      const answer = await preflight(server.baseUrl, '/api/v1/billing/account/deposit', 'https://evil.example.com');
      expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
      expect(answer.headers.get('access-control-allow-methods')).to.equal(null);
      expect(answer.headers.get('vary')).to.include('Origin');
    });

    itHttp('lets a listed origin read ETag, X-Event-Position, Link and Retry-After', async () => {
      const trader = await api.newTrader();
      const headers = { origin: APP, 'idempotency-key': `cors-${Date.now()}` };
      const deposited = await api.move('deposit', trader.token, { amount: 10 }, headers);
      expect(deposited.status, deposited.text).to.equal(204);
      expect(deposited.headers.get('access-control-allow-origin')).to.equal(APP);
      const exposed = (deposited.headers.get('access-control-expose-headers') ?? '').split(/,\s*/);
      for (const name of ['ETag', 'X-Event-Position', 'Link', 'Retry-After']) expect(exposed).to.include(name);
      expect(exposed).to.deep.equal([...EXPOSED_HEADERS]);
      expect(deposited.headers.get('vary')).to.include('Origin');
    });

    itHttp('puts the CORS headers on error answers too, so the page can read the problem', async () => {
      const answer = await api.get('/api/v1/billing/account', { headers: { origin: APP } });
      expect(answer.status).to.equal(401);
      expect(answer.headers.get('access-control-allow-origin')).to.equal(APP);
      expect(answer.headers.get('access-control-expose-headers')).to.include('Retry-After');
    });

    itHttp('gives an answer to an unlisted origin no CORS header', async () => {
      const answer = await api.get('/.well-known/jwks.json', { headers: { origin: 'https://app.example.com.evil' } });
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
      expect(answer.headers.get('access-control-expose-headers')).to.equal(null);
    });
  });

  describe('by default (no allow-list)', () => {
    let server: ApiServer;
    before(async () => {
      server = await startApiServer();
    });
    after(() => server.close());

    it('gives no origin any CORS header, preflight or not', async () => {
      const answer = await preflight(server.baseUrl, '/api/v1/identity/login', APP);
      expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
      const plain = await fetch(`${server.baseUrl}/.well-known/jwks.json`, { headers: { origin: APP } });
      expect(plain.status).to.equal(200);
      expect(plain.headers.get('access-control-allow-origin')).to.equal(null);
    });
  });

  describe('CORS_ALLOWED_ORIGINS', () => {
    it('is empty by default and takes origins separated by commas', () => {
      expect(loadConfig({}).corsAllowedOrigins).to.deep.equal([]);
      expect(loadConfig({ CORS_ALLOWED_ORIGINS: ` ${APP},${LOCAL} ,` }).corsAllowedOrigins).to.deep.equal([APP, LOCAL]);
      expect(loadConfig({ CORS_ALLOWED_ORIGINS: 'http://[::1]:8080' }).corsAllowedOrigins).to.deep.equal([
        'http://[::1]:8080',
      ]);
    });

    for (const bad of ['*', 'app.example.com', 'https://app.example.com/', 'https://app.example.com/path', 'null']) {
      it(`refuses ${JSON.stringify(bad)}, naming the variable`, () => {
        expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: bad })).to.throw(/CORS_ALLOWED_ORIGINS=.*expected origins/);
      });
    }
  });
});
