/**
 * Commands answer as soon as their events are stored and tell the client where they are
 * (`X-Event-Position`). A query given that position (the same header, or `?minPosition=`)
 * answers once the read models have caught up with it, or 503 + Retry-After after a
 * bounded wait; without it, queries answer at once. A position past the end of the event
 * store is refused at once (400): no command answered with it. At most `maxWaits` queries
 * wait at once in this process; more are answered 503 + Retry-After at once.
 */
import type { Context, Middleware } from 'koa';
import {
  comparePositions,
  formatPosition,
  parsePosition,
  type Position,
} from '../eventsourcing/event-store/position.js';
import { PositionNotWritten, type ConsistencyGate } from '../eventsourcing/subscriptions/consistency.js';
import { HttpError } from './errors.js';
import { httpMessages } from './messages.js';

export const POSITION_HEADER = 'X-Event-Position';

export interface ReadYourWritesLimits {
  timeoutMs: number;
  /** Most queries waiting at once (no cap when absent). */
  maxWaits?: number;
}

export function readYourWrites(gate: ConsistencyGate, limits: ReadYourWritesLimits): Middleware {
  let waiting = 0;
  return async (ctx, next) => {
    const position = requestedPosition(ctx);
    if (position) {
      if (limits.maxWaits !== undefined && waiting >= limits.maxWaits)
        throw new HttpError(503, httpMessages.tooManyWaits, { 'Retry-After': '1' });
      waiting++;
      try {
        await gate.waitFor(position, limits.timeoutMs);
      } catch (error) {
        if (error instanceof PositionNotWritten) throw new HttpError(400, httpMessages.positionAhead);
        throw error;
      } finally {
        waiting--;
      }
    }
    await next();
  };
}

/**
 * The position the request waits for: the later of the header and `?minPosition=`, each
 * checked (an invalid one is a 400 even when the other is fine, not silently ignored).
 * Empty, or not sent, is none.
 */
function requestedPosition(ctx: Context): Position | null {
  const query = ctx.query.minPosition;
  if (Array.isArray(query)) throw new HttpError(400, httpMessages.invalidPosition);
  let latest: Position | null = null;
  for (const text of [ctx.get(POSITION_HEADER), query ?? '']) {
    if (text === '') continue;
    const position = /\s/.test(text) ? null : parsePosition(text);
    if (!position) throw new HttpError(400, httpMessages.invalidPosition);
    if (!latest || comparePositions(position, latest) > 0) latest = position;
  }
  return latest;
}

export function announcePosition(ctx: Context, position: Position | null): void {
  if (position) ctx.set(POSITION_HEADER, formatPosition(position));
}
