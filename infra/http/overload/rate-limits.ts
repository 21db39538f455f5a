/**
 * Rate limits on registration, sign-in and every command: a token bucket per client
 * address and one per account, each request taking a token from both (the address's
 * first). An empty bucket answers 429 with `Retry-After` (whole seconds until a token is
 * back) and the usual problem body; nothing behind it runs, so a refused request changes
 * nothing and is never kept for an `Idempotency-Key`.
 */
import type { Context, Middleware } from 'koa';
import { HttpError } from '../errors.js';
import { httpMessages } from '../messages.js';
import type { BucketStore } from './token-buckets.js';

/** One kind of bucket: how many a minute, and whose bucket a request takes from (null: none). */
export interface RateLimit {
  name: string;
  perMinute: number;
  keyOf(ctx: Context): string | null;
}

export function rateLimited(buckets: BucketStore, limits: RateLimit[], now: () => number = Date.now): Middleware {
  const active = limits.filter((limit) => limit.perMinute > 0);
  return async (ctx, next) => {
    for (const limit of active) {
      const key = limit.keyOf(ctx);
      if (key === null) continue;
      const taken = await buckets.take(`${limit.name}:${key}`, limit.perMinute, now());
      if (!taken.allowed) throw tooManyRequests(taken.retryAfterMs);
    }
    await next();
  };
}

export function tooManyRequests(retryAfterMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new HttpError(429, httpMessages.tooManyRequests, { 'Retry-After': String(seconds) });
}

/** The email a registration or sign-in names (case-insensitively, as accounts are), if its body has one. */
export function emailOf(ctx: Context): string | null {
  const body = (ctx.request as { body?: unknown }).body;
  const email = body !== null && typeof body === 'object' ? (body as { email?: unknown }).email : undefined;
  return typeof email === 'string' && email.trim() !== '' ? email.trim().toLowerCase().slice(0, 320) : null;
}
