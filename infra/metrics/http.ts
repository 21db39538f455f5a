/** HTTP diagnostics: the request-duration histogram (a Koa middleware) and `GET /metrics`. */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Metrics } from './metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The label for requests no route matched (404s of any path: the raw path would be unbounded). */
export const UNMATCHED_ROUTE = 'unmatched';

interface MatchedLayer {
  path: unknown;
  methods: string[];
}

/**
 * The route template the request's path matched (`/api/v1/ordering/orders/:id`), never the
 * URL itself. @koa/router lists the matched layers on the context (outside its typings);
 * the route is the last one that answers methods — not `_matchedRoute`, which names a
 * middleware layer (`authenticate`) when that one ends the request.
 */
export function routeOf(ctx: Context): string {
  const matched = (ctx as Context & { matched?: MatchedLayer[] }).matched ?? [];
  const route = matched.findLast((layer) => layer.methods.length > 0 && typeof layer.path === 'string');
  return route ? (route.path as string) : UNMATCHED_ROUTE;
}

export function methodOf(ctx: Context): string {
  return METHODS.has(ctx.method) ? ctx.method : 'OTHER';
}

/** Mounted outside the error handler, so it sees the status the client receives. */
export function httpDurations(metrics: Pick<Metrics, 'httpDuration'>): Middleware {
  return async (ctx, next) => {
    const stop = metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      stop({ method: methodOf(ctx), route: routeOf(ctx), status: String(ctx.status) });
    }
  };
}

export function metricsRoute(metrics: Pick<Metrics, 'scrape'>): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    const { contentType, body } = await metrics.scrape();
    ctx.type = contentType;
    ctx.body = body;
  });
  return router;
}
