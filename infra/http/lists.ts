/**
 * List parameters shared by every list endpoint: `limit` (default 50, 1..500) and an
 * opaque `cursor` for the next page, announced in a `Link: <…>; rel="next"` header so
 * endpoints that return a plain JSON array keep returning one.
 */
import type { Context } from 'koa';
import type { Page } from '../../read-api/page.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../eventsourcing/read-store/read-store.js';
import { HttpError } from './errors.js';
import { httpMessages } from './messages.js';

export function pageOf(ctx: Context): Page {
  const { limit, cursor } = ctx.query;
  let parsed = DEFAULT_LIMIT;
  if (limit !== undefined) {
    if (typeof limit !== 'string' || !/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT) {
      throw new HttpError(422, httpMessages.invalidLimit);
    }
    parsed = Number(limit);
  }
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length > 2048))
    throw new HttpError(400, httpMessages.invalidCursor);
  return { limit: parsed, after: cursor };
}

/** Announces the next page; `filters` are the list's own query parameters, which the next page keeps. */
export function linkNextPage(
  ctx: Context,
  next: string | undefined,
  limit: number,
  filters: Record<string, string | undefined> = {},
): void {
  if (!next) return;
  const kept = Object.entries(filters).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const params = new URLSearchParams([...kept, ['limit', String(limit)], ['cursor', next]]);
  ctx.set('Link', `<${ctx.path}?${params.toString()}>; rel="next"`);
}
