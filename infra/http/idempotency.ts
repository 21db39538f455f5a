/**
 * Idempotency keys. The first request with a key runs; any later request from the same
 * caller with the same key and body gets the recorded status, body and headers again,
 * and changes nothing. The record lives in the event store (a stream per caller and key,
 * written with `no_stream`), so every API process sees the same records.
 *
 * Requests with a key derive their operation id from it (`ctx.state.operationId`), and
 * every command applies an operation id once. So two copies of a request racing each
 * other both run, but only one changes anything, and only the first record is kept: the
 * other copy answers with it. That costs one read and one append per request, with no
 * lock to wait for or to leave behind when a process dies mid-request.
 */
import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { v5 as uuidv5 } from 'uuid';
import { WrongExpectedVersion, type EventStore, type JsonObject, type RecordedEvent } from '../event-store/event-store.js';
import { HttpError, renderError, type ErrorLog } from './errors.js';
import { httpMessages } from './messages.js';

export interface IdempotencyOptions {
  eventStore: EventStore;
  newId(): string;
  now(): number;
  logError: ErrorLog;
}

/** Response headers worth replaying (the rest are per-response). */
const REPLAYED_HEADERS = ['etag', 'location', 'x-event-position', 'content-type'];
const KEY_NAMESPACE = '6a5e0c3e-2f0b-4e63-8d7a-0f3c9b1e2d44';
const VISIBLE = /^[\x21-\x7e]{1,255}$/;

export const idempotencyStream = (scope: string, key: string) => `idempotency-${createHash('sha256').update(`${scope}\n${key}`).digest('hex')}`;

/** Reads `Idempotency-Key` (or its alias `X-Request-Id`) and replays or records the answer. */
export function idempotentRequests(options: IdempotencyOptions, scopeOf: (ctx: Context) => string): Middleware {
  return async (ctx, next) => {
    const key = ctx.get('idempotency-key') || ctx.get('x-request-id');
    if (!key) return next();
    if (!VISIBLE.test(key)) throw new HttpError(400, httpMessages.idempotencyKeyInvalid);
    const scope = scopeOf(ctx);
    const stream = idempotencyStream(scope, key);
    const fingerprint = fingerprintOf(ctx);
    const recorded = await recordOf(options.eventStore, stream);
    if (recorded) return replay(ctx, recorded, fingerprint);

    ctx.state.idempotencyKey = key;
    ctx.state.operationId = uuidv5(`${scope}\n${key}`, KEY_NAMESPACE);
    try {
      await next();
    } catch (error) {
      renderError(ctx, error, options.logError);
    }
    // A failure of ours is not an answer worth keeping: a retry with the key runs again.
    if (ctx.status >= 500) return;
    const data: JsonObject = { fingerprint, status: ctx.status, body: bodyOf(ctx), headers: headersOf(ctx), at: options.now() };
    try {
      await options.eventStore.appendToStream(stream, [{ id: options.newId(), type: 'IdempotentRequestCompleted', data }], { expectedRevision: 'no_stream' });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) {
        options.logError(error, ctx);
        return;
      }
      // A copy of this request finished first: answer as it did.
      const first = await recordOf(options.eventStore, stream);
      if (first) replay(ctx, first, fingerprint);
    }
  };
}

async function recordOf(eventStore: EventStore, stream: string): Promise<RecordedEvent | null> {
  const read = await eventStore.readStream(stream, { maxCount: 1 });
  return read.status === 'found' ? (read.events[0] ?? null) : null;
}

function replay(ctx: Context, completed: RecordedEvent, fingerprint: string): void {
  const { status, body, headers } = completed.data as { status: number; body: unknown; headers: Record<string, string> };
  if (completed.data.fingerprint !== fingerprint) throw new HttpError(422, httpMessages.idempotencyKeyReused);
  ctx.status = status;
  ctx.set(headers);
  ctx.set('Idempotent-Replayed', 'true');
  if (body !== null) ctx.body = body;
}

function fingerprintOf(ctx: Context): string {
  const body: unknown = (ctx.request as { body?: unknown }).body;
  return createHash('sha256').update(`${ctx.method} ${ctx.path}\n${canonicalJson(body ?? null)}`).digest('base64url');
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

function bodyOf(ctx: Context): JsonObject[string] {
  if (ctx.body === undefined || ctx.body === null || ctx.status === 204) return null;
  // Bodies here are plain JSON values built by the handlers.
  return JSON.parse(JSON.stringify(ctx.body)) as JsonObject[string];
}

function headersOf(ctx: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = ctx.response.get(name);
    if (value) headers[name] = value;
  }
  return headers;
}
