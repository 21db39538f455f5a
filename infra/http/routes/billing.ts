/** /api/v1/billing/*: the caller's own account only (the user id comes from the token, never from the request). */
import Router from '@koa/router';
import type { Context } from 'koa';
import { accountIdOf, depositMoney, withdrawMoney } from '../../../command-handlers/billing.js';
import { accountStream } from '../../../domain/billing/events.js';
import { getAccount, listOperations } from '../../../read-api/billing.js';
import { accountAsOf, type AsOf } from '../../../read-api/time-travel.js';
import { asOfOf, refusePoint } from '../as-of.js';
import type { AuthState } from '../auth.js';
import { HttpError } from '../errors.js';
import { linkNextPage, pageOf } from '../lists.js';
import { httpMessages } from '../messages.js';
import { etagOf, expectedRevisionOf } from '../preconditions.js';
import { announcePosition } from '../read-your-writes.js';
import { moneyMovementBody, type Account, type Operation } from '../schemas/billing.js';
import { toMoney, validate } from '../validation.js';
import { bodyOf, isRetriable, metadataOf, operationIdOf, type ApiServices } from './context.js';

export function billingRoutes(services: ApiServices): Router<AuthState> {
  const router = new Router<AuthState>();

  router.get('/api/v1/billing/account', async (ctx) => {
    const asOf = asOfOf(ctx);
    if (asOf) return pastAccount(ctx, services, asOf);
    const found = await getAccount(services.readStore, ctx.state.caller.userId);
    if (!found) throw new HttpError(404, httpMessages.notFound);
    ctx.set('ETag', etagOf(found.revision));
    ctx.body = {
      id: found.id,
      amount: toMoney(found.amount),
      createdAt: found.createdAt,
      updatedAt: found.updatedAt,
    } satisfies Account;
  });

  const movement = (move: typeof depositMoney) => async (ctx: Context & { state: AuthState }) => {
    const expectedRevision = expectedRevisionOf(ctx);
    const { amount } = validate(moneyMovementBody, bodyOf(ctx));
    const operationId = operationIdOf(ctx, services);
    const retriable = isRetriable(ctx);
    const result = await move(
      services,
      { userId: ctx.state.caller.userId, amount, operationId, expectedRevision, retriable },
      metadataOf(ctx),
    );
    announcePosition(ctx, result.position);
    ctx.set('ETag', etagOf(result.revision));
    ctx.status = 204;
  };
  router.post('/api/v1/billing/account/deposit', movement(depositMoney));
  router.post('/api/v1/billing/account/withdraw', movement(withdrawMoney));

  router.get('/api/v1/billing/operations', async (ctx) => {
    const page = pageOf(ctx);
    const { items, next } = await listOperations(services.readStore, ctx.state.caller.userId, page);
    linkNextPage(ctx, next, page.limit);
    ctx.body = items.map((op): Operation => ({ ...op, amount: toMoney(op.amount) }));
  });
  return router;
}

/** The account as it was at the point, folded from its events (read-api/time-travel.ts). */
async function pastAccount(ctx: Context & { state: AuthState }, services: ApiServices, asOf: AsOf): Promise<void> {
  const userId = ctx.state.caller.userId;
  const past = await accountAsOf(services.eventStore, accountStream(userId), asOf, services.now());
  if (past.status !== 'found') refusePoint(past);
  ctx.set('ETag', etagOf(past.value.revision));
  ctx.body = {
    id: accountIdOf(userId),
    amount: toMoney(past.value.amount),
    createdAt: past.value.createdAt,
    updatedAt: past.value.updatedAt,
  } satisfies Account;
}
