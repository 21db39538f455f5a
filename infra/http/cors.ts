/**
 * Cross-origin requests from browser clients (CORS): only the origins the operator lists
 * (`CORS_ALLOWED_ORIGINS`, none by default) may call the API from a page, and they may
 * read the headers the API's conventions need: `ETag` (If-Match), `X-Event-Position`
 * (read your writes), `Link` (the next page) and `Retry-After`.
 *
 * - A request from a listed origin gets `Access-Control-Allow-Origin: <that origin>` (never
 *   `*`: the answer depends on the origin, so `Vary: Origin` too) on every answer, errors
 *   included (the headers are set before the rest of the chain runs).
 * - A preflight (`OPTIONS` with `Access-Control-Request-Method`) from a listed origin is
 *   answered here, 204, with the methods and request headers the API accepts; one from
 *   another origin goes on as any `OPTIONS` does, without CORS headers, so the browser
 *   refuses the real request.
 * - Tokens travel in `Authorization`, not in cookies: no `Access-Control-Allow-Credentials`.
 */
import type { Middleware } from 'koa';

export interface CorsOptions {
  /** Exact origins (`scheme://host[:port]`), as the browser sends them in `Origin`. */
  allowedOrigins: readonly string[];
}

/** What a page may read from an answer besides the CORS-safelisted headers. */
export const EXPOSED_HEADERS = ['ETag', 'X-Event-Position', 'Link', 'Retry-After', 'X-Correlation-Id'] as const;

const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The request headers the API reads (Content-Type for JSON bodies, which are not CORS-safelisted). */
const ALLOWED_REQUEST_HEADERS = [
  'Authorization',
  'Content-Type',
  'If-Match',
  'If-None-Match',
  'Idempotency-Key',
  'X-Request-Id',
  'X-Event-Position',
  'X-Correlation-Id',
] as const;

/** How long a browser may cache a preflight's answer, in seconds. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function crossOrigin(options: CorsOptions): Middleware {
  const allowed = new Set(options.allowedOrigins);
  return async (ctx, next) => {
    const origin = ctx.get('origin');
    // Any answer may differ by origin once an allow-list exists: caches must keep them apart.
    if (allowed.size > 0) ctx.vary('Origin');
    if (origin === '' || !allowed.has(origin)) return next();
    ctx.set('Access-Control-Allow-Origin', origin);
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method') !== '') {
      ctx.set('Access-Control-Allow-Methods', ALLOWED_METHODS.join(', '));
      ctx.set('Access-Control-Allow-Headers', ALLOWED_REQUEST_HEADERS.join(', '));
      ctx.set('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
      ctx.vary('Access-Control-Request-Method');
      ctx.vary('Access-Control-Request-Headers');
      ctx.status = 204;
      return;
    }
    ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS.join(', '));
    return next();
  };
}
