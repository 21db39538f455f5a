import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import { v4 as uuid } from 'uuid';
import type { TokenService } from '../auth/tokens.js';
import type { Logger } from '../log/log.js';
import { httpDurations, metricsRoute } from '../metrics/http.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ConsistencyGate } from '../eventsourcing/subscriptions/consistency.js';
import { authenticate, type AuthState, type SignedOutTokens } from './auth.js';
import { errorBodies, HttpError, type ErrorLog } from './errors.js';
import { idempotentRequests } from './idempotency.js';
import { httpMessages } from './messages.js';
import { apiDescriptionRoutes } from './openapi/routes.js';
import { probeRoutes, type Dependency } from './probes.js';
import { readYourWrites } from './read-your-writes.js';
import { noteFailure, requestLog } from './request-log.js';
import { billingRoutes } from './routes/billing.js';
import type { ApiServices } from './routes/context.js';
import { identityRoutes, publicIdentityRoutes } from './routes/identity.js';
import { orderingRoutes } from './routes/ordering.js';
import { reportRoutes, statisticsRoutes } from './routes/reports.js';
import { tradingRoutes } from './routes/trading.js';

export interface ApiOptions {
  services: ApiServices;
  tokens: TokenService;
  signedOut: SignedOutTokens;
  gate: ConsistencyGate;
  readYourWritesTimeoutMs: number;
}

export interface HttpAppOptions {
  dependencies: Dependency[];
  logError(error: unknown): void;
  /** The product's endpoints; without it only the probes are served. */
  api?: ApiOptions;
  /** Serves `GET /metrics` and times every request into it. */
  metrics?: Metrics;
  /**
   * Writes one line per request; unexpected errors then go on their request's line instead of
   * to `logError`. The probes tell it when a dependency of `/ready` turns unready, and why.
   */
  requestLog?: Logger;
}

const ONE_MEGABYTE = '1mb';

export function createHttpApp(options: HttpAppOptions): Koa {
  const app = new Koa();
  // Errors are answered by `errorBodies`; Koa's own handler would print them a second time.
  app.silent = true;
  app.use(requestIds());
  let logError: ErrorLog = options.logError;
  if (options.requestLog) {
    app.use(requestLog(options.requestLog));
    logError = (error, ctx) => (ctx ? noteFailure(ctx, error) : options.logError(error));
  }
  if (options.metrics) app.use(httpDurations(options.metrics));
  app.use(errorBodies(logError));
  const probes = probeRoutes(options.dependencies, { log: options.requestLog, metrics: options.metrics });
  app.use(probes.routes()).use(probes.allowedMethods());
  // The API description (`/openapi.json`) and a page to browse it (`/docs`).
  const description = apiDescriptionRoutes();
  app.use(description.routes()).use(description.allowedMethods());
  if (options.metrics) {
    const scrape = metricsRoute(options.metrics);
    app.use(scrape.routes()).use(scrape.allowedMethods());
  }
  if (options.api) mountApi(app, options.api, logError);
  return app;
}

function mountApi(app: Koa, api: ApiOptions, logError: ErrorLog): void {
  app.use(onlyJsonBodies());
  app.use(
    bodyParser({
      enableTypes: ['json'],
      // DELETE too: deleting the account takes the password in its body.
      parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
      jsonLimit: ONE_MEGABYTE,
      // Any JSON value parses; a body that is not an object is then refused by validation (422).
      jsonStrict: false,
      onError: (error) => {
        if ((error as { status?: number }).status === 413) throw new HttpError(413, httpMessages.bodyTooLarge);
        throw new HttpError(400, httpMessages.malformedJson);
      },
    }),
  );
  const open = new Router();
  open.use(onlyFor('GET', readYourWrites(api.gate, api.readYourWritesTimeoutMs)));
  for (const routes of [publicIdentityRoutes(api.services), statisticsRoutes(api.services)])
    open.use(routes.routes(), routes.allowedMethods());
  app.use(open.routes()).use(open.allowedMethods());

  const idempotency = idempotentRequests(
    { records: api.services.idempotency, now: Date.now, logError },
    (ctx) => (ctx.state as AuthState).caller.userId,
  );
  const secured = new Router<AuthState>();
  secured.use(authenticate(api.tokens, api.signedOut));
  secured.use(onlyFor('POST', idempotency));
  secured.use(onlyFor('GET', readYourWrites(api.gate, api.readYourWritesTimeoutMs)));
  const sections = [identityRoutes, billingRoutes, tradingRoutes, reportRoutes, orderingRoutes].map((routes) =>
    routes(api.services),
  );
  for (const routes of sections) secured.use(routes.routes(), routes.allowedMethods());
  app.use(secured.routes()).use(secured.allowedMethods());
}

/**
 * A body in another format than JSON is refused (415) before anything reads it: otherwise
 * the JSON parser would skip it and the request would look as if it had no body at all.
 */
function onlyJsonBodies(): Middleware {
  return (ctx, next) => {
    // An empty body (`Content-Length: 0`, as clients send on a body-less POST) is no body.
    const hasBody = ctx.get('transfer-encoding') !== '' || (ctx.request.length ?? 0) > 0;
    if (hasBody && !ctx.request.is('json', '+json')) throw new HttpError(415, httpMessages.notJson);
    return next();
  };
}

function onlyFor(method: string, middleware: Middleware): Middleware {
  return (ctx, next) => (ctx.method === method ? middleware(ctx, next) : next());
}

/** A request id per request (the caller's `X-Correlation-Id` when it sends one), echoed back. */
function requestIds(): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-correlation-id');
    ctx.state.requestId = /^[\x21-\x7e]{1,128}$/.test(given) ? given : uuid();
    ctx.set('X-Correlation-Id', ctx.state.requestId as string);
    await next();
  };
}

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then cuts what is left. */
  close(timeoutMs: number): Promise<void>;
}

export async function listen(app: Koa, port: number, host: string): Promise<RunningServer> {
  const server = createServer(app.callback());
  let closing = false;
  // Responses not yet sent: told to close their connection once shutdown starts, so a
  // keep-alive client cannot hold the server open (or send more requests) after it.
  const unanswered = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) res.shouldKeepAlive = false;
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const res of unanswered) if (!res.headersSent) res.shouldKeepAlive = false;
        const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Keep-alive connections with no request in flight would hold `close` open for nothing.
        server.closeIdleConnections();
      }),
  };
}
