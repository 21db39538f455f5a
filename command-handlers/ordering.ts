/** The plain ordering flow: create an order; the order-payment process manager settles it. */
import type { Cents } from '../domain/money.js';
import { customerOrders } from '../domain/ordering/customer-orders.js';
import { customerOrdersStream } from '../domain/ordering/events.js';
import type { EventMetadata } from '../infra/event-store/event-store.js';
import { handleCommand, type CommandEnvironment } from './handle-command.js';

export interface OrderingEnvironment extends CommandEnvironment {
  now(): Date;
}

export async function createCustomerOrder(
  env: OrderingEnvironment,
  request: { userId: string; orderId: string; price: Cents; expectedRevision?: number },
  metadata?: EventMetadata,
) {
  const at = env.now().toISOString();
  const result = await handleCommand(env, {
    decider: customerOrders,
    streamId: customerOrdersStream(request.userId),
    expects: 'any',
    command: { type: 'CreateOrder', userId: request.userId, orderId: request.orderId, price: request.price, at },
    expectedRevision: request.expectedRevision,
    metadata,
  });
  const order = result.state.orders.get(request.orderId)!;
  return { order: { id: request.orderId, price: order.price, status: order.status, createdAt: at, updatedAt: at }, revision: result.revision, position: result.position };
}
