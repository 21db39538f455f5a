/** /api/v1/admin/*: what administrators do (admin role only: anyone else 403). */
import Router from '@koa/router';
import { blockUser, unblockUser } from '../../../command-handlers/admin.js';
import type { UserBlocked } from '../../../domain/identity/admin-events.js';
import type { Side } from '../../../domain/trading/events.js';
import { listOrders } from '../../../read-api/trading.js';
import { searchUsers } from '../../../read-api/user-directory.js';
import type { ReadStore } from '../../eventsourcing/read-store/read-store.js';
import { requireAdmin } from '../admin-auth.js';
import type { AuthState } from '../auth.js';
import { linkNextPage, pageOf } from '../lists.js';
import { announcePosition } from '../read-your-writes.js';
import {
  checkQuery,
  parkedPath,
  parkedQuery,
  skipBody,
  userPath,
  userSearchQuery,
  type DirectoryUser,
} from '../schemas/admin.js';
import { HttpError } from '../errors.js';
import { httpMessages } from '../messages.js';
import { validate } from '../validation.js';
import { bodyOf, metadataOf, type ApiServices } from './context.js';

export function adminRoutes(services: ApiServices): Router<AuthState> {
  const router = new Router<AuthState>();
  router.use('/api/v1/admin', requireAdmin(services.readStore));
  router.get('/api/v1/admin/users', async (ctx) => {
    const { email, role, blocked } = validate(userSearchQuery, ctx.query);
    const page = pageOf(ctx);
    const search = { email, role, blocked: blocked === undefined ? undefined : blocked === 'true' };
    const found = await searchUsers(services.readStore, search, page);
    linkNextPage(ctx, found.next, page.limit, { email, role, blocked });
    ctx.body = found.items satisfies DirectoryUser[];
  });
  router.post('/api/v1/admin/users/:userId/block', async (ctx) => {
    const { userId } = validate(userPath, ctx.params);
    const openOrders = await pendingOrdersOf(services.readStore, userId);
    const by = ctx.state.caller.userId;
    const { position } = await blockUser(services, { userId, by, openOrders }, metadataOf(ctx));
    services.blockedUsers.remember(userId, true);
    announcePosition(ctx, position);
    ctx.status = 204;
  });
  router.post('/api/v1/admin/users/:userId/unblock', async (ctx) => {
    const { userId } = validate(userPath, ctx.params);
    const { position } = await unblockUser(services, { userId, by: ctx.state.caller.userId }, metadataOf(ctx));
    services.blockedUsers.remember(userId, false);
    announcePosition(ctx, position);
    ctx.status = 204;
  });
  operatorRoutes(router, services);
  return router;
}

/** Parked events and the consistency check: the CLI's tools (`parked`, `check`), on this process's stores. */
function operatorRoutes(router: Router<AuthState>, services: ApiServices): void {
  const tools = () => services.operatorTools!;
  router.get('/api/v1/admin/parked-events', async (ctx) => {
    const { name } = validate(parkedQuery, ctx.query);
    ctx.body = found(await tools().listParked(name));
  });
  router.post('/api/v1/admin/parked-events/:handler/:eventId/retry', async (ctx) => {
    const { handler, eventId } = validate(parkedPath, ctx.params);
    ctx.body = found(await tools().retryParked(`${handler}/${eventId}`));
  });
  router.post('/api/v1/admin/parked-events/:handler/:eventId/skip', async (ctx) => {
    const { handler, eventId } = validate(parkedPath, ctx.params);
    const { reason } = validate(skipBody, bodyOf(ctx));
    ctx.body = found(await tools().skipParked(`${handler}/${eventId}`, reason, ctx.state.caller.userId));
  });
  router.get('/api/v1/admin/consistency', async (ctx) => {
    const { graceSeconds } = validate(checkQuery, ctx.query);
    const checks = await tools().check(Number(graceSeconds ?? 60) * 1000);
    ctx.body = { consistent: checks.every((c) => c.ok), checks };
  });
}

function found<T>(value: T | null): T {
  if (value === null) throw new HttpError(404, httpMessages.notFound);
  return value;
}

/** The user's pending orders as the read models show them: what the block's process manager cancels. */
async function pendingOrdersOf(readStore: ReadStore, userId: string): Promise<UserBlocked['data']['openOrders']> {
  const open: UserBlocked['data']['openOrders'] = [];
  for (const side of ['purchase', 'sell'] as Side[]) {
    let after: string | undefined;
    do {
      const page = await listOrders(readStore, userId, side, 'pending', { limit: 500, after });
      // An order in a deal cannot be canceled: the process manager takes the market's refusal as the outcome.
      for (const order of page.items) open.push({ orderId: order.id, side });
      after = page.next;
    } while (after !== undefined);
  }
  return open;
}
