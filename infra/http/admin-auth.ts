/**
 * Two checks beside the bearer token's (auth.ts): a blocked user's token is refused (401) on
 * every request, and the administrators' endpoints need the admin role both in the token and
 * in the read models now (403), so a role taken back counts without waiting for the token to expire.
 */
import type { Middleware } from 'koa';
import { currentRole } from '../../read-api/user-directory.js';
import type { ReadStore } from '../eventsourcing/read-store/read-store.js';
import type { AuthState } from './auth.js';
import type { BlockedUserCheck } from './blocked-users.js';
import { HttpError } from './errors.js';
import { httpMessages } from './messages.js';

export function refuseBlockedUsers(blocked: BlockedUserCheck): Middleware<AuthState> {
  return async (ctx, next) => {
    if (await blocked.isBlocked(ctx.state.caller.userId))
      throw new HttpError(401, httpMessages.userBlocked, { 'WWW-Authenticate': 'Bearer' });
    await next();
  };
}

export function requireAdmin(readStore: Pick<ReadStore, 'get'>): Middleware<AuthState> {
  return async (ctx, next) => {
    const { caller } = ctx.state;
    if (caller.role !== 'admin' || (await currentRole(readStore, caller.userId)) !== 'admin')
      throw new HttpError(403, httpMessages.operationDenied);
    await next();
  };
}
