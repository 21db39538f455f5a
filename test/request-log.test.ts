/**
 * One JSON line per request (pino), captured from the logger's stream: over the real API,
 * and over a bare app for the failures the API never has.
 */
import { expect } from 'chai';
import type { Middleware } from 'koa';
import { createHttpApp, listen, type RunningServer } from '../infra/http/server.js';
import type { Logger } from '../infra/log/log.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { Client, itHttp } from './http/client.js';
import { startApiServer, type ApiServer } from './support/api-server.js';
import { capturedLogger, flushed, type Line } from './support/captured-log.js';

/** The request lines (the server also logs its projections, the broker…). */
const requestLines = (lines: Line[], requestId?: string) =>
  lines.filter((l) => 'route' in l && 'status' in l && (!requestId || l.requestId === requestId));

describe('request log', () => {
  describe('over the API', () => {
    let server: ApiServer;
    let api: Client;
    const captured = capturedLogger();

    before(async () => {
      server = await startApiServer({ logger: captured.logger });
      api = new Client(server.baseUrl);
    });
    after(async () => {
      await server?.close();
    });

    itHttp('writes one line per request: method, route, path, status, duration and the request id', async () => {
      const registered = await api.register({
        email: `log-${Date.now()}@market.test`,
        password: 'secret-password',
        firstName: 'Log',
        lastName: 'Line',
      });
      expect(registered.status).to.equal(201);
      const missing = await api.get('/api/v1/ordering/orders/not-there?secret=1', {
        headers: { 'x-correlation-id': 'log-test-404' },
      });
      expect(missing.status).to.equal(401);
      await flushed();

      const [registration, ...more] = requestLines(captured.lines, registered.headers.get('x-correlation-id')!);
      expect(more, 'one line for the request').to.deep.equal([]);
      expect(registration).to.include({
        level: 30,
        msg: 'request',
        service: 'marketplace',
        method: 'POST',
        route: '/api/v1/identity/register',
        path: '/api/v1/identity/register',
        status: 201,
      });
      expect(registration!.durationMs).to.be.a('number').at.least(0);
      expect(registration, 'nobody is signed in yet').to.not.have.property('userId');

      const lines = requestLines(captured.lines, 'log-test-404');
      expect(lines).to.have.length(1);
      // The path without its query (which may carry anything), the route as declared.
      expect(lines[0]).to.include({
        method: 'GET',
        route: '/api/v1/ordering/orders/:id',
        path: '/api/v1/ordering/orders/not-there',
        status: 401,
      });
    });

    itHttp('names the caller once the request is authenticated', async () => {
      const trader = await api.newTrader();
      const answer = await api.get('/api/v1/identity/profile', {
        token: trader.token,
        headers: { 'x-correlation-id': 'log-test-profile' },
      });
      expect(answer.status).to.equal(200);
      await flushed();
      const lines = requestLines(captured.lines, 'log-test-profile');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ userId: trader.id, status: 200, route: '/api/v1/identity/profile' });
    });
  });

  describe('of failures', () => {
    let running: RunningServer | null = null;
    afterEach(async () => {
      await running?.close(1000);
      running = null;
    });

    /** A bare app (probes and /metrics) with `extra` where the API's routes would go. */
    async function start(logger: Logger, extra: Middleware, logged: unknown[]): Promise<Client> {
      const app = createHttpApp({
        dependencies: [],
        logError: (error) => logged.push(error),
        metrics: new Metrics(),
        requestLog: logger,
      });
      app.use(extra);
      running = await listen(app, 0, '127.0.0.1');
      return new Client(`http://127.0.0.1:${running.port}`);
    }

    it('logs an unexpected error once, on its request’s line, at error level', async () => {
      const { logger, lines } = capturedLogger();
      const logged: unknown[] = [];
      const client = await start(
        logger,
        (ctx, next) => {
          if (ctx.path !== '/boom') return next();
          throw new Error('the disk is on fire');
        },
        logged,
      );
      const answer = await fetch(`${client.baseUrl}/boom`, { headers: { 'x-correlation-id': 'log-test-500' } });
      expect(answer.status).to.equal(500);
      expect(await answer.text(), 'the client learns nothing of it').to.not.include('fire');
      await flushed();

      expect(logged, 'not also through logError').to.deep.equal([]);
      const mentions = lines.filter((l) => JSON.stringify(l).includes('the disk is on fire'));
      expect(mentions).to.have.length(1);
      expect(mentions[0]).to.include({
        level: 50,
        msg: 'request failed',
        requestId: 'log-test-500',
        path: '/boom',
        status: 500,
        method: 'GET',
      });
      expect(mentions[0]!.err).to.include({ type: 'Error', message: 'the disk is on fire' });
      expect(mentions[0]!.err?.stack).to.include('request-log.test');
    });

    it('gives each request a child logger bound to its request id', async () => {
      const { logger, lines } = capturedLogger();
      const client = await start(
        logger,
        (ctx) => {
          (ctx.state.log as Logger).info({ detail: 42 }, 'something worth saying');
          ctx.body = { ok: true };
        },
        [],
      );
      expect(
        (await fetch(`${client.baseUrl}/anything`, { headers: { 'x-correlation-id': 'log-test-child' } })).status,
      ).to.equal(200);
      await flushed();
      expect(lines.find((l) => l.msg === 'something worth saying')).to.include({
        requestId: 'log-test-child',
        detail: 42,
      });
      expect(requestLines(lines, 'log-test-child')).to.have.length(1);
    });
  });
});
