/** /api/v1/ordering/*: the plain order flow, the caller's own orders only. */
import Router from '@koa/router';
import { createCustomerOrder } from '../../../command-handlers/ordering.js';
import {
  customerOrderCollectionRevision,
  getCustomerOrder,
  listCustomerOrders,
  type CustomerOrderView,
} from '../../../read-api/ordering.js';
import type { AuthState } from '../auth.js';
import { HttpError } from '../errors.js';
import { linkNextPage, pageOf } from '../lists.js';
import { httpMessages } from '../messages.js';
import { etagOf, expectedRevisionOf } from '../preconditions.js';
import { announcePosition } from '../read-your-writes.js';
import { orderPath } from '../schemas/common.js';
import { customerOrderBody, type CustomerOrder } from '../schemas/ordering.js';
import { toMoney, validate } from '../validation.js';
import { bodyOf, isRetriable, metadataOf, operationIdOf, type ApiServices } from './context.js';

// The read model holds only the statuses the domain writes.
const json = (order: CustomerOrderView): CustomerOrder => ({
  ...order,
  price: toMoney(order.price),
  status: order.status as CustomerOrder['status'],
});

export function orderingRoutes(services: ApiServices): Router<AuthState> {
  const router = new Router<AuthState>();
  router.get('/api/v1/ordering/orders', async (ctx) => {
    const page = pageOf(ctx);
    const userId = ctx.state.caller.userId;
    const [revision, { items, next }] = await Promise.all([
      customerOrderCollectionRevision(services.readStore, userId),
      listCustomerOrders(services.readStore, userId, page),
    ]);
    ctx.set('ETag', etagOf(revision));
    linkNextPage(ctx, next, page.limit);
    ctx.body = items.map(json);
  });
  router.post('/api/v1/ordering/orders', async (ctx) => {
    const expectedRevision = expectedRevisionOf(ctx);
    const { price } = validate(customerOrderBody, bodyOf(ctx));
    const request = {
      userId: ctx.state.caller.userId,
      orderId: operationIdOf(ctx, services),
      price,
      expectedRevision,
      retriable: isRetriable(ctx),
    };
    const created = await createCustomerOrder(services, request, metadataOf(ctx));
    announcePosition(ctx, created.position);
    ctx.set('ETag', etagOf(created.revision));
    ctx.status = 202;
    ctx.body = json(created.order);
  });
  router.get('/api/v1/ordering/orders/:id', async (ctx) => {
    const { id } = validate(orderPath, ctx.params);
    const order = await getCustomerOrder(services.readStore, id);
    if (!order) throw new HttpError(404, httpMessages.notFound);
    if (order.userId !== ctx.state.caller.userId) throw new HttpError(403, httpMessages.operationDenied);
    const { userId: _owner, ...view } = order;
    ctx.body = json(view);
  });
  return router;
}
