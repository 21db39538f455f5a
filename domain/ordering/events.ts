/** The events of a customer's plain orders, declared once (see domain/event-schema.ts). */
import * as z from 'zod';
import { failureReason, failureReasonOf, REASON_AS_CODE } from '../billing/events.js';
import { cents, EventType, id, instant, type EventOf } from '../event-schema.js';

export type PlainOrderStatus = 'pending' | 'succeeded' | 'failed';

export const orderCreated = EventType.first(
  'OrderCreated',
  z.strictObject({
    userId: id,
    orderId: id,
    price: cents,
    rememberUntil: instant.optional().meta({
      description: 'until when a retry of the request can create it again (absent in older events: a day after `at`)',
    }),
    at: instant,
  }),
);
export const orderSucceeded = EventType.first(
  'OrderSucceeded',
  z.strictObject({ userId: id, orderId: id, price: cents, at: instant }),
);
export const orderFailed = EventType.first(
  'OrderFailed',
  z.strictObject({ userId: id, orderId: id, price: cents, reason: z.string(), at: instant }),
).next(
  REASON_AS_CODE,
  z.strictObject({ userId: id, orderId: id, price: cents, reason: failureReason, at: instant }),
  (v1) => ({ ...v1, reason: failureReasonOf(v1.reason) }),
);

export type OrderCreated = EventOf<typeof orderCreated>;
export type OrderSucceeded = EventOf<typeof orderSucceeded>;
export type OrderFailed = EventOf<typeof orderFailed>;
export type CustomerOrderEvent = OrderCreated | OrderSucceeded | OrderFailed;

/** Every event of a customer-orders stream. */
export const customerOrderEvents = [orderCreated, orderSucceeded, orderFailed] as const;

export const customerOrdersStream = (userId: string) => `customer-orders-${userId}`;
export const CUSTOMER_ORDERS_STREAM_PREFIX = 'customer-orders-';
