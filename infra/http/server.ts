import { createServer, STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
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
import { crossOrigin, type CorsOptions } from './cors.js';
import { refuseBlockedUsers } from './admin-auth.js';
import { authenticate, type AuthState, type SignedOutTokens } from './auth.js';
import { errorBodies, HttpError, problemBody, type ErrorLog } from './errors.js';
import { idempotentRequests } from './idempotency.js';
import { httpMessages } from './messages.js';
import { apiDescriptionRoutes } from './openapi/routes.js';
import { probeRoutes, type Dependency } from './probes.js';
import { commandLimits, guardedServices, signInLimits, type OverloadGuards } from './overload/guards.js';
import { LiveFeed, type LiveFeedOptions } from './live/live-feed.js';
import { streamTickets } from './live/stream-tickets.js';
import { readYourWrites } from './read-your-writes.js';
import { noteFailure, requestLog } from './request-log.js';
import { adminRoutes } from './routes/admin.js';
import { billingRoutes } from './routes/billing.js';
import type { ApiServices } from './routes/context.js';
import { identityRoutes, publicIdentityRoutes } from './routes/identity.js';
import { marketDataRoutes } from './routes/market-data.js';
import { orderingRoutes } from './routes/ordering.js';
import { liveStreamRoutes, notificationRoutes } from './routes/notifications.js';
import { reportRoutes, statisticsRoutes } from './routes/reports.js';
import { tradingRoutes } from './routes/trading.js';

export interface ApiOptions {
  services: ApiServices;
  tokens: TokenService;
  signedOut: SignedOutTokens;
  gate: ConsistencyGate;
  readYourWritesTimeoutMs: number;
  /** Rate limits and bounds on work (overload/guards.ts); without them, none. */
  overload?: OverloadGuards;
  /** The live stream's settings (`STREAM_*`); the defaults when absent. */
  liveStream?: LiveFeedOptions;
}

const LIVE_STREAM_DEFAULTS: LiveFeedOptions = { pollMs: 100, heartbeatMs: 15_000, bufferBytes: 256 * 1024 };

/** The live stream's settings from the configuration. */
export function liveStreamOptions(config: {
  streamPollMs: number;
  streamHeartbeatSeconds: number;
  streamBufferKb: number;
}): LiveFeedOptions {
  return {
    pollMs: config.streamPollMs,
    heartbeatMs: config.streamHeartbeatSeconds * 1000,
    bufferBytes: config.streamBufferKb * 1024,
  };
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
  /** Browser clients of other origins (`CORS_ALLOWED_ORIGINS`); without it, none. */
  cors?: CorsOptions;
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
  if (options.cors) app.use(crossOrigin(options.cors));
  app.use(noTrailingSlash());
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
  app.use(jsonBodies());
  const { overload } = api;
  const services = overload ? guardedServices(api.services, overload) : api.services;
  const wait = readYourWrites(api.gate, {
    timeoutMs: api.readYourWritesTimeoutMs,
    maxWaits: overload?.limits.readYourWritesMaxWaits,
  });
  const waits = onlyFor('GET', wait);
  const open = new Router();
  open.use(waits);
  if (overload) open.use(onlyFor('POST', signInLimits(overload)));
  for (const routes of [publicIdentityRoutes(services), statisticsRoutes(services), marketDataRoutes(services)])
    open.use(routes.routes(), routes.allowedMethods());
  app.use(open.routes()).use(open.allowedMethods());

  const idempotency = idempotentRequests(
    { records: api.services.idempotency, now: Date.now, logError },
    (ctx) => (ctx.state as AuthState).caller.userId,
  );
  const tickets = streamTickets(api.services.idempotency);
  mountLiveStream(app, api, tickets, wait, logError);

  const secured = new Router<AuthState>();
  secured.use(authenticate(api.tokens, api.signedOut));
  secured.use(refuseBlockedUsers({ isBlocked: (userId) => api.services.blockedUsers.isBlocked(userId) }));
  if (overload) secured.use(onlyForCommands(commandLimits(overload)));
  secured.use(onlyFor('POST', idempotency));
  secured.use(waits);
  const sections = [identityRoutes, billingRoutes, tradingRoutes, reportRoutes, orderingRoutes, adminRoutes].map(
    (routes) => routes(services),
  );
  sections.push(notificationRoutes(api.services, tickets));
  for (const routes of sections) secured.use(routes.routes(), routes.allowedMethods());
  app.use(secured.routes()).use(secured.allowedMethods());
}

/** JSON bodies of the methods that carry one, within a megabyte; what cannot be read is a 400 or 413. */
function jsonBodies(): Koa.Middleware {
  return bodyParser({
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
  });
}

/** The live stream (`GET /notifications/stream`): its own authentication (a token or a ticket), so mounted apart. */
function mountLiveStream(
  app: Koa,
  api: ApiOptions,
  tickets: ReturnType<typeof streamTickets>,
  wait: Koa.Middleware,
  logError: ErrorLog,
): void {
  const feed = new LiveFeed(api.services.readStore, api.liveStream ?? LIVE_STREAM_DEFAULTS, (error) => logError(error));
  // Streams end when the server starts to close, instead of holding it open until its timeout.
  app.once(SHUTDOWN, () => feed.close());
  const live = liveStreamRoutes({ feed, tickets, tokens: api.tokens, signedOut: api.signedOut, readYourWrites: wait });
  app.use(live.routes()).use(live.allowedMethods());
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

/**
 * `/api/v1/ordering/orders/` is not `/api/v1/ordering/orders`: the router would answer
 * both, and only one is in the API's description. The other is a 404, like any path it
 * does not describe.
 */
function noTrailingSlash(): Middleware {
  return (ctx, next) => {
    if (ctx.path.length > 1 && ctx.path.endsWith('/')) throw new HttpError(404, httpMessages.notFound);
    return next();
  };
}

function onlyFor(method: string, middleware: Middleware): Middleware {
  return (ctx, next) => (ctx.method === method ? middleware(ctx, next) : next());
}

const COMMAND_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function onlyForCommands(middleware: Middleware): Middleware {
  return (ctx, next) => (COMMAND_METHODS.has(ctx.method) ? middleware(ctx, next) : next());
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

/**
 * A request Node's HTTP parser refuses before Koa sees it (headers over 16 KB, a malformed
 * request line) gets the same problem body as every other refusal, instead of Node's bare
 * status line; one that timed out gets 408. Then the connection is closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, httpMessages.headersTooLarge]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, STATUS_CODES[408]!]
        : [400, httpMessages.badRequest];
  const body = JSON.stringify(problemBody(status, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Correlation-Id: ${uuid()}\r\nConnection: close\r\n\r\n${body}`,
  );
}
/** What `listen`'s `close` tells the app before it stops accepting (long-lived answers end then). */
export const SHUTDOWN = 'shutdown';

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then cuts what is left. */
  close(timeoutMs: number): Promise<void>;
}

/** How long clients may take, and how many connections may be open (node's defaults where absent; 0 connections: no cap). */
export interface ServerLimits {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxConnections?: number;
}

export async function listen(app: Koa, port: number, host: string, limits: ServerLimits = {}): Promise<RunningServer> {
  const server = createServer(app.callback());
  if (limits.requestTimeoutMs !== undefined) server.requestTimeout = limits.requestTimeoutMs;
  if (limits.headersTimeoutMs !== undefined) server.headersTimeout = limits.headersTimeoutMs;
  if (limits.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  if (limits.maxConnections) server.maxConnections = limits.maxConnections;
  server.on('clientError', answerClientError);
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
        app.emit(SHUTDOWN);
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
