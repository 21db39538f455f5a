/** The plain ordering flow: create an order; the order-payment process manager settles it. */
import type { Cents } from '../domain/money.js';
import { customerOrderOf } from '../domain/ordering/customer-orders.js';
import type { EventMetadata } from '../infra/eventsourcing/event-store/event-store.js';
import type { CommandEnvironment } from '../infra/eventsourcing/command-handling/handle-command.js';
import { customerOrdersCommands } from './commands.js';
import { rememberUntil, type RetentionSetting } from './retention.js';

export interface OrderingEnvironment extends CommandEnvironment, RetentionSetting {
  now(): Date;
}

export async function createCustomerOrder(
  env: OrderingEnvironment,
  /** `retriable` (default true): the order id can come again (an idempotency key), so it is remembered for the retention. */
  request: { userId: string; orderId: string; price: Cents; expectedRevision?: number; retriable?: boolean },
  metadata?: EventMetadata,
) {
  const now = env.now();
  const at = now.toISOString();
  const result = await customerOrdersCommands.handle(
    env,
    {
      type: 'CreateOrder',
      userId: request.userId,
      orderId: request.orderId,
      price: request.price,
      rememberUntil: rememberUntil(env, now, request.retriable ?? true),
      at,
    },
    { expectedRevision: request.expectedRevision, metadata },
  );
  // Just created or found: remembered at least until now.
  const order = customerOrderOf(result.state, request.orderId)!;
  return {
    order: { id: request.orderId, price: order.price, status: order.status, createdAt: at, updatedAt: at },
    revision: result.revision,
    position: result.position,
  };
}
