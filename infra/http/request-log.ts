/**
 * One JSON log line per request, written when the answer is known: method, route template,
 * path, status, duration, request id and, once authenticated, the caller. A request that
 * failed unexpectedly carries its error on that same line (logged once, tied to its request).
 *
 * Each request gets a pino child bound to its request id (`ctx.state.log`), for anything
 * else worth saying about it.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from '../log/log.js';
import { routeOf } from '../metrics/http.js';

interface RequestLogState {
  requestId?: unknown;
  log?: Logger;
  caller?: { userId?: unknown };
  /** The unexpected error the request ran into (answered with a 500, or a background step of it). */
  failure?: unknown;
}

/** Mounted after the request ids and outside the error handler: it sees the status the client receives. */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const state = ctx.state as RequestLogState;
    // The child is made only when something asks for it: most requests never do, and
    // their one line below carries the request id itself.
    let child: Logger | undefined;
    Object.defineProperty(state, 'log', {
      get: () => (child ??= logger.child({ requestId: state.requestId })),
      enumerable: false,
      configurable: true,
    });
    const started = performance.now();
    try {
      await next();
    } finally {
      const log = child ?? logger;
      const line = {
        ...(child ? {} : { requestId: state.requestId }),
        method: ctx.method,
        route: routeOf(ctx),
        path: ctx.path,
        status: ctx.status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        ...(typeof state.caller?.userId === 'string' ? { userId: state.caller.userId } : {}),
      };
      if (state.failure !== undefined) log.error({ ...line, err: state.failure }, 'request failed');
      else if (ctx.status >= 500) log.warn(line, 'request answered with a server error');
      else log.info(line, 'request');
    }
  };
}

/** Keeps an unexpected error for the request's log line (the first one: it is the cause). */
export function noteFailure(ctx: Context, error: unknown): void {
  const state = ctx.state as RequestLogState;
  if (state.failure === undefined) state.failure = error;
}
