/** `?asOf=` read from a request: a position or a time, checked (422 naming `asOf` otherwise). */
import type { Context } from 'koa';
import type { AsOf } from '../../read-api/time-travel.js';
import { parsePosition } from '../eventsourcing/event-store/position.js';
import { HttpError } from './errors.js';
import { httpMessages } from './messages.js';
import { asOfQuery, isPositionText } from './schemas/time-travel.js';
import { validate } from './validation.js';

/** The point the request asks about; null when it asks about now. */
export function asOfOf(ctx: Context): AsOf | null {
  const { asOf } = validate(asOfQuery, ctx.query);
  if (asOf === undefined) return null;
  if (isPositionText(asOf)) {
    const position = parsePosition(asOf);
    if (!position) throw new HttpError(422, httpMessages.asOfInvalid);
    return { position };
  }
  return { time: new Date(asOf) };
}

/** The refusals of a point the past cannot answer for. */
export function refusePoint(outcome: { status: 'future' | 'before-account' }): never {
  if (outcome.status === 'future') throw new HttpError(422, httpMessages.asOfInFuture);
  throw new HttpError(404, httpMessages.asOfBeforeAccount);
}
