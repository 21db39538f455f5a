/**
 * Optimistic preconditions. A GET of something a POST can change returns an ETag that is
 * the revision of the stream behind it; the POST sends it back as If-Match and is appended
 * with that expected revision. Without If-Match a request must carry an Idempotency-Key.
 */
import type { Context } from 'koa';
import { HttpError } from './errors.js';
import { httpMessages } from './messages.js';

export function etagOf(revision: number): string {
  return `"${revision}"`;
}

const STRONG_ETAG = /^"(-1|0|[1-9]\d{0,15})"$/;

/**
 * The revision named by If-Match, or undefined when the request relies on its
 * Idempotency-Key instead. A value that names no revision can never match: 412.
 */
export function expectedRevisionOf(ctx: Context): number | undefined {
  const ifMatch = ctx.get('if-match').trim();
  if (!ifMatch) {
    if (ctx.state.idempotencyKey) return undefined;
    throw new HttpError(428, httpMessages.missingIfMatch);
  }
  const match = STRONG_ETAG.exec(ifMatch);
  if (!match) throw new HttpError(412, httpMessages.stateChanged);
  return Number(match[1]);
}
