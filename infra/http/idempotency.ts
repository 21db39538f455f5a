/**
 * Idempotency keys. The first request with a key runs; any later request from the same
 * caller with the same key and body gets the recorded status, body and headers again,
 * and changes nothing. Records live in the event store (a stream per caller and key,
 * claimed with `no_stream`), so concurrent duplicates are settled by the store itself
 * and every API process sees the same records.
 */
import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { v5 as uuidv5 } from 'uuid';
import { WrongExpectedVersion, type EventStore, type JsonObject, type RecordedEvent } from '../event-store/event-store.js';
import { sleep } from '../backoff.js';
import { HttpError, renderError } from './errors.js';
import { httpMessages } from './messages.js';

export interface IdempotencyOptions {
  eventStore: EventStore;
  newId(): string;
  now(): number;
  logError(error: unknown): void;
  /** A request still marked as running after this long is taken to have died. */
  abandonAfterMs?: number;
  /** How long a duplicate waits for the first request to finish before answering 409. */
  waitForFirstMs?: number;
}

/** Response headers worth replaying (the rest are per-response). */
const REPLAYED_HEADERS = ['etag', 'location', 'x-event-position', 'content-type'];
const KEY_NAMESPACE = '6a5e0c3e-2f0b-4e63-8d7a-0f3c9b1e2d44';
const VISIBLE = /^[\x21-\x7e]{1,255}$/;

export const idempotencyStream = (scope: string, key: string) => `idempotency-${createHash('sha256').update(`${scope}\n${key}`).digest('hex')}`;

/**
 * Reads `Idempotency-Key` (or its alias `X-Request-Id`). Handlers find the key in
 * `ctx.state.idempotencyKey` and derive operation ids from `ctx.state.operationId`, so
 * even a re-run after a crash applies an operation once.
 */
export function idempotentRequests(options: IdempotencyOptions, scopeOf: (ctx: Context) => string): Middleware {
  return async (ctx, next) => {
    const key = ctx.get('idempotency-key') || ctx.get('x-request-id');
    if (!key) return next();
    if (!VISIBLE.test(key)) throw new HttpError(400, httpMessages.idempotencyKeyInvalid);
    const scope = scopeOf(ctx);
    const stream = idempotencyStream(scope, key);
    const fingerprint = fingerprintOf(ctx);
    const started = await claim(options, stream, fingerprint);
    if (started.kind === 'replay') return replay(ctx, started.event);

    ctx.state.idempotencyKey = key;
    ctx.state.operationId = uuidv5(`${scope}\n${key}`, KEY_NAMESPACE);
    try {
      await next();
    } catch (error) {
      renderError(ctx, error, options.logError);
    }
    const outcome = ctx.status >= 500 ? 'IdempotentRequestAbandoned' : 'IdempotentRequestCompleted';
    const data: JsonObject = outcome === 'IdempotentRequestAbandoned' ? { at: options.now() } : { status: ctx.status, body: bodyOf(ctx), headers: headersOf(ctx), at: options.now() };
    await options.eventStore
      .appendToStream(stream, [{ id: options.newId(), type: outcome, data }], { expectedRevision: started.revision })
      .catch((error: unknown) => options.logError(error));
  };
}

type Claim = { kind: 'run'; revision: number } | { kind: 'replay'; event: RecordedEvent };

/** Marks the key as running for this request, or finds the recorded answer to replay. */
async function claim(options: IdempotencyOptions, stream: string, fingerprint: string): Promise<Claim> {
  const waitUntil = options.now() + (options.waitForFirstMs ?? 10_000);
  for (;;) {
    const read = await options.eventStore.readStream(stream);
    const events = read.status === 'found' ? read.events : [];
    const first = events[0];
    if (first && first.data.fingerprint !== fingerprint) throw new HttpError(422, httpMessages.idempotencyKeyReused);
    const last = events[events.length - 1];
    if (last?.type === 'IdempotentRequestCompleted') return { kind: 'replay', event: last };
    const running = last?.type === 'IdempotentRequestStarted' && options.now() - Number(last.data.at) < (options.abandonAfterMs ?? 60_000);
    if (!running) {
      try {
        const started = await options.eventStore.appendToStream(
          stream,
          [{ id: options.newId(), type: 'IdempotentRequestStarted', data: { fingerprint, at: options.now() } }],
          { expectedRevision: last ? last.revision : 'no_stream' },
        );
        return { kind: 'run', revision: started.nextExpectedRevision };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
        continue; // another request with the same key got there first: look again
      }
    }
    if (options.now() >= waitUntil) throw new HttpError(409, httpMessages.idempotencyInProgress, { 'Retry-After': '1' });
    await sleep(25);
  }
}

function replay(ctx: Context, completed: RecordedEvent): void {
  const { status, body, headers } = completed.data as { status: number; body: unknown; headers: Record<string, string> };
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
