import { STATUS_CODES } from 'node:http';
import type { Context, Middleware } from 'koa';
import {
  StreamBusy,
  StreamStateMismatch,
  TooMuchContention,
} from '../eventsourcing/command-handling/handle-command.js';
import { InvalidCredentials } from '../../command-handlers/identity.js';
import { BusinessRuleViolation } from '../../domain/decider.js';
import { EventStoreUnavailable, WrongExpectedVersion } from '../eventsourcing/event-store/event-store.js';
import { InvalidCursor } from '../eventsourcing/read-store/read-store.js';
import { ReadModelsNotCaughtUp } from '../eventsourcing/subscriptions/consistency.js';
import { isTransient } from '../eventsourcing/subscriptions/transient.js';
import { httpMessages } from './messages.js';

/**
 * An error the client caused or may see, with its HTTP status. Everything else is a bug:
 * logged with its stack and answered with a 500 that reveals nothing.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra problem-details members (e.g. `violations`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Every error leaves as `{ code, message }` JSON (plus problem-details members). */
/** Logs an unexpected error; told the request it failed, so the log can tie the two together. */
export type ErrorLog = (error: unknown, ctx?: Context) => void;

export function errorBodies(log: ErrorLog): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // The router answers 404/405/501 without a body: give those the same JSON shape.
      if (ctx.status >= 400 && ctx.body == null)
        throw new HttpError(ctx.status, ctx.status === 404 ? httpMessages.notFound : ctx.message);
    } catch (error) {
      renderError(ctx, error, log);
    }
  };
}

/** The error body of `status` (`{ code, message }` plus the RFC 9457 members). */
export function problemBody(status: number, message: string, details: Record<string, unknown> = {}) {
  return {
    code: status,
    message,
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: message,
    ...details,
  };
}

export function renderError(ctx: Context, error: unknown, log: ErrorLog): void {
  const known = toHttpError(error);
  if (!known) log(error, ctx);
  const status = known?.status ?? 500;
  const message = known?.message ?? httpMessages.internal;
  ctx.status = status;
  ctx.set(known?.headers ?? {});
  ctx.type = 'application/json';
  // `{ code, message }` is the contract; the RFC 9457 members ride along.
  ctx.body = problemBody(status, message, known?.details);
}

/** Refusals that are not "422: the rules say no". */
const statusOfRefusal: Record<string, number> = {
  user_not_found: 404,
  order_not_found: 404,
  operation_denied: 403,
  wrong_password: 403,
  account_not_empty: 409,
  open_orders: 409,
  broker_cannot_leave: 409,
};

/** What each failure means to a client. Anything not listed is a bug (500). */
function toHttpError(error: unknown): HttpError | null {
  if (error instanceof HttpError) return error;
  if (error instanceof BusinessRuleViolation) return new HttpError(statusOfRefusal[error.code] ?? 422, error.message);
  if (error instanceof InvalidCredentials) return new HttpError(401, error.message);
  if (error instanceof StreamStateMismatch)
    return error.expected === 'existing'
      ? new HttpError(404, httpMessages.notFound)
      : new HttpError(409, httpMessages.conflict);
  if (error instanceof TooMuchContention) return new HttpError(409, httpMessages.conflict, { 'Retry-After': '1' });
  if (error instanceof StreamBusy) return new HttpError(503, httpMessages.streamBusy, { 'Retry-After': '1' });
  if (error instanceof WrongExpectedVersion) return new HttpError(412, httpMessages.stateChanged);
  if (error instanceof InvalidCursor) return new HttpError(400, httpMessages.invalidCursor);
  if (error instanceof ReadModelsNotCaughtUp)
    return new HttpError(503, httpMessages.notCaughtUp, { 'Retry-After': '1' });
  if (error instanceof EventStoreUnavailable || isTransient(error))
    return new HttpError(503, httpMessages.storeUnavailable, { 'Retry-After': '5' });
  // Errors koa and its body parser raise for bad client input carry `expose` and a 4xx status.
  const candidate = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof candidate?.status === 'number' && candidate.status >= 400 && candidate.status < 500 && candidate.expose) {
    if (candidate.status === 413) return new HttpError(413, httpMessages.bodyTooLarge);
    return new HttpError(candidate.status, String(candidate.message));
  }
  return null;
}
