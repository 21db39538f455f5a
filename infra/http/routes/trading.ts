/** /api/v1/trading/*: items (listed by the broker), orders, portfolio. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { cancelOrder, listItem, placeOrder } from '../../../command-handlers/trading.js';
import { accountStream } from '../../../domain/billing/events.js';
import type { Side } from '../../../domain/trading/events.js';
import { failureReasonWords } from '../../../domain/messages.js';
import {
  getTrackedOrder,
  listItems,
  listOrders,
  listPortfolio,
  orderCollectionRevision,
  type TrackedOrderView,
} from '../../../read-api/trading.js';
import { accountAsOf, portfolioAsOf, type AsOf } from '../../../read-api/time-travel.js';
import { asOfOf, refusePoint } from '../as-of.js';
import { requireRole, type AuthState } from '../auth.js';
import { HttpError } from '../errors.js';
import { linkNextPage, pageOf } from '../lists.js';
import { httpMessages } from '../messages.js';
import { etagOf, expectedRevisionOf } from '../preconditions.js';
import { announcePosition } from '../read-your-writes.js';
import { orderPath } from '../schemas/common.js';
import {
  listItemBody,
  orderListQuery,
  placeOrderBody,
  type Holding,
  type Order,
  type TrackedOrder,
  type TradingItem,
  type TradingItemWithQuote,
} from '../schemas/trading.js';
import { moneyOrNull, toMoney, validate } from '../validation.js';
import { bodyOf, firstAttemptOf, metadataOf, operationIdOf, type ApiServices } from './context.js';

type AuthContext = Context & { state: AuthState };

export function orderJson(order: {
  id: string;
  itemId: string;
  price: number;
  commission: number;
  status: string;
  createdAt: string;
  updatedAt: string;
}): Order {
  // Statuses come from the domain's events (or the read model they built): only the ones `Order` lists.
  const status = order.status as Order['status'];
  return {
    id: order.id,
    itemId: order.itemId,
    price: toMoney(order.price),
    commission: toMoney(order.commission),
    status,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}

export function tradingRoutes(services: ApiServices): Router<AuthState> {
  const router = new Router<AuthState>();
  itemRoutes(router, services);
  for (const [path, side] of [
    ['purchase-orders', 'purchase'],
    ['sell-orders', 'sell'],
  ] as const) {
    orderRoutes(router, services, path, side);
  }
  router.get('/api/v1/trading/user-items', async (ctx) => {
    const page = pageOf(ctx);
    const asOf = asOfOf(ctx);
    if (asOf) return pastPortfolio(ctx, services, asOf);
    const { items, next } = await listPortfolio(services.readStore, ctx.state.caller.userId, page);
    linkNextPage(ctx, next, page.limit);
    ctx.body = items satisfies Holding[];
  });
  return router;
}

/** /api/v1/trading/items: the items listed, and listing one (the broker). */
function itemRoutes(router: Router<AuthState>, services: ApiServices): void {
  router.get('/api/v1/trading/items', async (ctx) => {
    const page = pageOf(ctx);
    const { items, next } = await listItems(services.readStore, page);
    linkNextPage(ctx, next, page.limit);
    ctx.body = items.map(
      ({ commissionBasisPoints, initialPrice, bestBid, bestAsk, lastPrice, ...item }): TradingItemWithQuote => ({
        ...item,
        initialPrice: toMoney(initialPrice),
        commissionPercent: commissionBasisPoints / 100,
        bestBid: moneyOrNull(bestBid),
        bestAsk: moneyOrNull(bestAsk),
        lastPrice: moneyOrNull(lastPrice),
      }),
    );
  });

  router.post('/api/v1/trading/items', requireRole('broker'), async (ctx) => {
    const { name, initialCount, initialPrice, commissionPercent } = validate(listItemBody, bodyOf(ctx));
    const listing = { name, initialCount, initialPrice, commissionBasisPoints: commissionPercent };
    const { item, position } = await listItem(
      services,
      ctx.state.caller.userId,
      operationIdOf(ctx, services),
      listing,
      metadataOf(ctx),
    );
    announcePosition(ctx, position);
    ctx.status = 201;
    ctx.body = {
      id: item.id,
      name,
      initialCount,
      initialPrice: toMoney(initialPrice),
      commissionPercent: commissionPercent / 100,
      createdAt: item.createdAt,
    } satisfies TradingItem;
  });
}

/** /api/v1/trading/<side>-orders: the caller's orders of one side, one of them, placing one, canceling one. */
function orderRoutes(router: Router<AuthState>, services: ApiServices, path: string, side: Side): void {
  router.get(`/api/v1/trading/${path}`, async (ctx) => {
    const page = pageOf(ctx);
    const { status } = validate(orderListQuery, ctx.query);
    const userId = ctx.state.caller.userId;
    const [revision, { items, next }] = await Promise.all([
      orderCollectionRevision(services.readStore, userId),
      listOrders(services.readStore, userId, side, status, page),
    ]);
    ctx.set('ETag', etagOf(revision));
    linkNextPage(ctx, next, page.limit, { status });
    ctx.body = items.map(trackedOrderJson);
  });
  router.get(`/api/v1/trading/${path}/:id`, async (ctx) => {
    const { id } = validate(orderPath, ctx.params);
    const order = await getTrackedOrder(services.readStore, id);
    if (!order || order.side !== side) throw new HttpError(404, httpMessages.notFound);
    if (order.ownerId !== ctx.state.caller.userId) throw new HttpError(403, httpMessages.operationDenied);
    ctx.body = trackedOrderJson(order);
  });
  router.post(`/api/v1/trading/${path}`, (ctx) => place(ctx, services, side));
  router.post(`/api/v1/trading/${path}/:id/cancel`, (ctx) => cancel(ctx, services, side));
}

/** An order as its trader tracks it. */
function trackedOrderJson(order: TrackedOrderView): TrackedOrder {
  const { side, dealId, failureReason } = order;
  const failure = failureReason && { code: failureReason, message: failureReasonWords[failureReason] };
  return { ...orderJson(order), side, dealId, failure };
}

async function place(ctx: AuthContext, services: ApiServices, side: Side) {
  const expectedRevision = expectedRevisionOf(ctx);
  const { itemId, price } = validate(placeOrderBody, bodyOf(ctx));
  const placement = {
    userId: ctx.state.caller.userId,
    side,
    itemId,
    price,
    uniqueId: operationIdOf(ctx, services),
    expectedRevision,
    claimFirstAttempt: () => firstAttemptOf(ctx),
  };
  const placed = await placeOrder(services, placement, metadataOf(ctx));
  announcePosition(ctx, placed.position);
  ctx.set('ETag', etagOf(placed.revision));
  ctx.status = 202;
  ctx.body = orderJson({ ...placed.order, id: placed.order.orderId, itemId });
}

async function cancel(ctx: AuthContext, services: ApiServices, side: Side) {
  const { id: orderId } = validate(orderPath, ctx.params);
  const canceled = await cancelOrder(services, { userId: ctx.state.caller.userId, orderId, side }, metadataOf(ctx));
  announcePosition(ctx, canceled.position);
  ctx.body = orderJson({ ...canceled.order, id: canceled.order.orderId, itemId: canceled.itemId });
}

/** The portfolio as it was at the point (read-api/time-travel.ts): every holding in one answer. */
async function pastPortfolio(ctx: Context & { state: AuthState }, services: ApiServices, asOf: AsOf): Promise<void> {
  const userId = ctx.state.caller.userId;
  // The point must be one the trader's account had reached, and not in the future.
  const account = await accountAsOf(services.eventStore, accountStream(userId), asOf, services.now());
  if (account.status !== 'found') refusePoint(account);
  ctx.body = (await portfolioAsOf(services.readStore, userId, asOf)) satisfies Holding[];
}
