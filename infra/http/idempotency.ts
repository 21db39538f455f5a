/**
 * Idempotency keys. The first request with a key runs; once one has an outcome (not a 412,
 * a 409, a 503… see `isOutcome`), any later request from the same caller with the same key
 * and body gets the kept status, body and headers again, and changes nothing. The answers
 * are kept in `IdempotencyRecords` (next to the read models, shared by every API process),
 * first insert wins.
 *
 * Requests with a key derive their operation id from it (`ctx.state.operationId`), and
 * every command applies an operation id once. So two copies of a request racing each
 * other both run, but only one changes anything, and only the first answer is kept: the
 * other copy answers with it. That costs one read and one insert per request, with no
 * lock to wait for or to leave behind when a process dies mid-request.
 *
 * A command that must tell a retry it no longer remembers from a request it never saw
 * claims the key before it runs (`ctx.state.claimFirstAttempt()`, a second insert, only for
 * those commands): it learns when the request was first attempted.
 */
import { hash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { IdempotencyRecords, KeptAnswer } from '../idempotency/records.js';
import { HttpError, renderError, type ErrorLog } from './errors.js';
import { httpMessages } from './messages.js';
import { nameBasedUuid } from '../eventsourcing/name-based-id.js';

export interface IdempotencyOptions {
  records: IdempotencyRecords;
  now(): number;
  logError: ErrorLog;
}

/** Response headers worth replaying (the rest are per-response). */
const REPLAYED_HEADERS = ['etag', 'location', 'x-event-position', 'content-type'];
const KEY_NAMESPACE = '6a5e0c3e-2f0b-4e63-8d7a-0f3c9b1e2d44';
const VISIBLE = /^[\x21-\x7e]{1,255}$/;

/** Reads `Idempotency-Key` (or its alias `X-Request-Id`) and replays or records the answer. */
export function idempotentRequests(options: IdempotencyOptions, scopeOf: (ctx: Context) => string): Middleware {
  const { records } = options;
  return async (ctx, next) => {
    const key = keyOf(ctx);
    if (key === undefined) return next();
    if (!VISIBLE.test(key)) throw new HttpError(400, httpMessages.idempotencyKeyInvalid);
    const scope = scopeOf(ctx);
    const fingerprint = fingerprintOf(ctx);
    const kept = await records.find(scope, key);
    if (kept) return replay(ctx, kept, fingerprint);

    ctx.state.idempotencyKey = key;
    const startedAt = options.now();
    let claimed: Promise<number> | undefined;
    ctx.state.claimFirstAttempt = () => {
      claimed ??= records.claim(scope, key, startedAt);
      return claimed;
    };
    ctx.state.operationId = nameBasedUuid(`${scope}\n${key}`, KEY_NAMESPACE);
    try {
      await next();
    } catch (error) {
      renderError(ctx, error, options.logError);
    }
    // Only an outcome is kept. An answer about the moment (see `isOutcome`) would tell
    // every retry the same thing long after it stopped being true: the retry runs again.
    // A copy of this request that finished meanwhile has the outcome: answer with it.
    if (!isOutcome(ctx.status)) {
      const first = await records.find(scope, key).catch((error: unknown) => {
        options.logError(error, ctx);
        return null;
      });
      if (first) replay(ctx, first, fingerprint);
      return;
    }
    try {
      const first = await records.keep(scope, key, {
        fingerprint,
        status: ctx.status,
        body: bodyOf(ctx),
        headers: headersOf(ctx),
        at: options.now(),
      });
      // A copy of this request finished first: answer as it did.
      if (first) replay(ctx, first, fingerprint);
    } catch (error) {
      // The request is done and its answer stands; a retry runs again under the same operation id.
      options.logError(error, ctx);
    }
  };
}

/**
 * The request's key: `Idempotency-Key` when it is there at all, else its alias `X-Request-Id`.
 * A header sent empty is a key that is not valid (400), not a request without one: the
 * client meant to make it safe to retry, and running it without a key would not be.
 */
function keyOf(ctx: Context): string | undefined {
  for (const name of ['idempotency-key', 'x-request-id']) if (ctx.headers[name] !== undefined) return ctx.get(name);
  return undefined;
}

/**
 * Answers that say how things stood when the request came, not what became of it, and so
 * are never kept for replay (a retry with the key runs again, under the same operation id):
 * - 404: what the request names is not there (yet): an account is opened just after its
 *   user registers, so a keyed deposit can come first;
 * - 409: other writers kept the stream busy (the command never took effect), or it changed
 *   under the request;
 * - 412: the `If-Match` was stale; the same key with the current one must be able to run
 *   (the key is part of neither the ETag nor the precondition);
 * - 428: the precondition was missing (with a key it never is: kept for completeness);
 * - 408, 425, 429: too slow, too early, too many: come back later;
 * - 5xx: our failure, or a store that did not answer (503).
 * Everything else (2xx, and refusals such as 400, 403, 422) is what the request came to, and
 * every later request with the key gets it again.
 */
const NOT_OUTCOMES = new Set([404, 408, 409, 412, 425, 428, 429]);

export function isOutcome(status: number): boolean {
  return status < 500 && !NOT_OUTCOMES.has(status);
}

function replay(ctx: Context, kept: KeptAnswer, fingerprint: string): void {
  if (kept.fingerprint !== fingerprint) throw new HttpError(422, httpMessages.idempotencyKeyReused);
  ctx.status = kept.status;
  ctx.set(kept.headers);
  ctx.set('Idempotent-Replayed', 'true');
  if (kept.body !== null) ctx.body = JSON.parse(kept.body) as unknown;
}

function fingerprintOf(ctx: Context): string {
  const body: unknown = (ctx.request as { body?: unknown }).body;
  // One-shot hashing: a Hash object per request cost more than the hashing itself.
  return hash('sha256', `${ctx.method} ${ctx.path}\n${canonicalJson(body ?? null)}`, 'base64url');
}

/** Deeper than any request of this API; a body nested further is refused instead of exhausting the stack. */
const MAX_DEPTH = 64;

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) throw new HttpError(422, httpMessages.nestedTooDeeply);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], depth + 1)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function bodyOf(ctx: Context): string | null {
  if (ctx.body === undefined || ctx.body === null || ctx.status === 204) return null;
  // Bodies here are plain JSON values built by the handlers.
  return JSON.stringify(ctx.body);
}

function headersOf(ctx: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = ctx.response.get(name);
    if (value) headers[name] = value;
  }
  return headers;
}
