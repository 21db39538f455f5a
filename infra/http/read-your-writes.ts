/**
 * Commands answer as soon as their events are stored and tell the client where they are
 * (`X-Event-Position`). A query given that position (the same header, or `?minPosition=`)
 * answers once the read models have caught up with it, or 503 + Retry-After after a
 * bounded wait; without it, queries answer at once.
 */
import type { Context, Middleware } from 'koa';
import { formatPosition, parsePosition, type Position } from '../eventsourcing/event-store/position.js';
import type { ConsistencyGate } from '../eventsourcing/subscriptions/consistency.js';
import { HttpError } from './errors.js';
import { httpMessages } from './messages.js';

export const POSITION_HEADER = 'X-Event-Position';

export function readYourWrites(gate: ConsistencyGate, timeoutMs: number): Middleware {
  return async (ctx, next) => {
    const text = ctx.get(POSITION_HEADER) || (typeof ctx.query.minPosition === 'string' ? ctx.query.minPosition : '');
    if (text) {
      const position = parsePosition(text);
      if (!position) throw new HttpError(400, httpMessages.invalidPosition);
      await gate.waitFor(position, timeoutMs);
    }
    await next();
  };
}

export function announcePosition(ctx: Context, position: Position | null): void {
  if (position) ctx.set(POSITION_HEADER, formatPosition(position));
}
