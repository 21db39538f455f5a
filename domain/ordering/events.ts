import type { DomainEvent } from '../decider.js';
import type { Cents } from '../money.js';

export type PlainOrderStatus = 'pending' | 'succeeded' | 'failed';

/** `rememberUntil`: until when a retry of the request can create it again (absent in older events: a day after `at`). */
export type OrderCreated = DomainEvent<'OrderCreated', { userId: string; orderId: string; price: Cents; rememberUntil?: string; at: string }>;
export type OrderSucceeded = DomainEvent<'OrderSucceeded', { userId: string; orderId: string; price: Cents; at: string }>;
export type OrderFailed = DomainEvent<'OrderFailed', { userId: string; orderId: string; price: Cents; reason: string; at: string }>;
export type CustomerOrderEvent = OrderCreated | OrderSucceeded | OrderFailed;

export const customerOrdersStream = (userId: string) => `customer-orders-${userId}`;
export const CUSTOMER_ORDERS_STREAM_PREFIX = 'customer-orders-';
