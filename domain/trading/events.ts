/** The events of an item's market and of a trader's orders, declared once (see domain/event-schema.ts). */
import * as z from 'zod';
import { failureReason, failureReasonOf, REASON_AS_CODE } from '../billing/events.js';
import { cents, EventType, id, instant, type EventOf } from '../event-schema.js';

export const side = z.enum(['purchase', 'sell']).meta({ description: 'Which side of the book an order is on.' });
export type Side = z.infer<typeof side>;

export type PurchaseOrderStatus =
  | 'pending'
  | 'paymentPending'
  | 'paymentSucceeded'
  | 'paymentFailed'
  | 'approved'
  | 'canceled';
export type SellOrderStatus = 'pending' | 'dealPending' | 'accrualPending' | 'approved' | 'canceled';
export type OrderStatus = PurchaseOrderStatus | SellOrderStatus;

/** Until when a repeat of the placement is recognised (absent in older events: a day after `at`). */
const rememberUntil = instant.optional().meta({
  description:
    'until when a repeat of this placement or request is recognised (absent in older events: a day after `at`)',
});

/** The terms of a deal, fixed by the order that was resting in the book. */
const dealTermsFields = {
  dealId: id,
  itemId: id,
  itemName: z.string(),
  purchaseOrderId: id,
  sellOrderId: id,
  buyerId: id,
  sellerId: id,
  brokerId: id,
  price: cents,
  buyerCommission: cents.meta({ description: 'What the buyer pays on top of the price.' }),
  sellerCommission: cents.meta({ description: "What is taken from the seller's proceeds (0 when the broker sells)." }),
};
export const dealTerms = z
  .strictObject(dealTermsFields)
  .meta({ description: 'The terms of a deal, fixed by the order that was resting in the book.' });
export type DealTerms = z.infer<typeof dealTerms>;

export const itemListed = EventType.first(
  'ItemListed',
  z.strictObject({
    itemId: id,
    name: z.string(),
    initialCount: z.int(),
    initialPrice: cents,
    commissionBasisPoints: z.int().meta({ description: 'the commission percent × 100 (12.5 % is 1250)' }),
    brokerId: id,
    at: instant,
  }),
);
export const purchaseOrderPlaced = EventType.first(
  'PurchaseOrderPlaced',
  z.strictObject({ itemId: id, orderId: id, buyerId: id, price: cents, commission: cents, rememberUntil, at: instant }),
);
export const sellOrderPlaced = EventType.first(
  'SellOrderPlaced',
  z.strictObject({
    itemId: id,
    orderId: id,
    sellerId: id,
    price: cents,
    commission: cents,
    rememberUntil,
    at: instant,
  }),
);
export const dealOpened = EventType.first('DealOpened', z.strictObject({ ...dealTermsFields, at: instant }));
export const dealPaid = EventType.first(
  'DealPaid',
  z.strictObject({ itemId: id, dealId: id, purchaseOrderId: id, sellOrderId: id, at: instant }).meta({
    description: 'The buyer paid: the purchase order waits for nothing more, the sell order for the accrual.',
  }),
);
const dealFailedFields = {
  itemId: id,
  itemName: z.string(),
  dealId: id,
  purchaseOrderId: id,
  sellOrderId: id,
  buyerId: id,
  price: cents,
};
const dealFailedDoc = {
  description: 'The buyer could not pay: the purchase order failed, the sell order rests in the book again.',
};
export const dealFailed = EventType.first(
  'DealFailed',
  z.strictObject({ ...dealFailedFields, reason: z.string(), at: instant }).meta(dealFailedDoc),
).next(
  REASON_AS_CODE,
  z.strictObject({ ...dealFailedFields, reason: failureReason, at: instant }).meta(dealFailedDoc),
  (v1) => ({ ...v1, reason: failureReasonOf(v1.reason) }),
);
export const dealCompleted = EventType.first('DealCompleted', z.strictObject({ ...dealTermsFields, at: instant }));
export const orderCanceled = EventType.first(
  'OrderCanceled',
  z.strictObject({ itemId: id, orderId: id, side, ownerId: id, at: instant }),
);
export const orderRefused = EventType.first(
  'OrderRefused',
  z.strictObject({ itemId: id, orderId: id, side, ownerId: id, reason: z.string(), rememberUntil, at: instant }).meta({
    description:
      'The market turned an order down (a sell order with no unit to sell). Recorded so the refusal is final: the same order id offered again later is not placed after all.',
  }),
);

export type ItemListed = EventOf<typeof itemListed>;
export type PurchaseOrderPlaced = EventOf<typeof purchaseOrderPlaced>;
export type SellOrderPlaced = EventOf<typeof sellOrderPlaced>;
export type DealOpened = EventOf<typeof dealOpened>;
export type DealPaid = EventOf<typeof dealPaid>;
export type DealFailed = EventOf<typeof dealFailed>;
export type DealCompleted = EventOf<typeof dealCompleted>;
export type OrderCanceled = EventOf<typeof orderCanceled>;
export type OrderRefused = EventOf<typeof orderRefused>;

export type MarketEvent =
  | ItemListed
  | PurchaseOrderPlaced
  | SellOrderPlaced
  | DealOpened
  | DealPaid
  | DealFailed
  | DealCompleted
  | OrderCanceled
  | OrderRefused;

/** Every event of a market stream. */
export const marketEvents = [
  itemListed,
  purchaseOrderPlaced,
  sellOrderPlaced,
  dealOpened,
  dealPaid,
  dealFailed,
  dealCompleted,
  orderCanceled,
  orderRefused,
] as const;
export const marketEventTypes = marketEvents.map((e) => e.type) satisfies ReadonlyArray<MarketEvent['type']>;

/** Every placement, match and cancel of one item goes through this one stream. */
export const marketStream = (itemId: string) => `market-${itemId}`;
export const MARKET_STREAM_PREFIX = 'market-';

/** The broker's initial units each rest as a sell order; their ids follow from the item's. */
export function initialSellOrderId(itemId: string, unit: number): string {
  return `${itemId}-u${unit}`;
}

/**
 * Order ids name their item (`<itemId>.<unique id>`), so an order can be found in its
 * market from its id alone: canceling needs no lookup that could lag behind.
 */
export function orderIdFor(itemId: string, uniqueId: string): string {
  return `${itemId}.${uniqueId}`;
}

/** The item an order id belongs to (a placed order or a broker's initial unit), or null when it names none. */
export function itemOfOrder(orderId: string): string | null {
  const match = /^(.+)(?:\.[^.]+|-u\d+)$/.exec(orderId);
  return match ? match[1]! : null;
}

export const orderSubmitted = EventType.first(
  'OrderSubmitted',
  z.strictObject({ userId: id, orderId: id, side, itemId: id, price: cents, rememberUntil, at: instant }).meta({
    description:
      'Every order a trader submits is recorded in their own stream first: its revision is the ETag of their orders.',
  }),
);
export const orderRejected = EventType.first(
  'OrderRejected',
  z
    .strictObject({ userId: id, orderId: id, reason: z.string(), at: instant })
    .meta({ description: 'The market refused a submitted order (no unit for sale…); it never entered the book.' }),
);

export type OrderSubmitted = EventOf<typeof orderSubmitted>;
export type OrderRejected = EventOf<typeof orderRejected>;
export type TraderOrdersEvent = OrderSubmitted | OrderRejected;

/** Every event of a trader-orders stream. */
export const traderOrdersEvents = [orderSubmitted, orderRejected] as const;

export const traderOrdersStream = (userId: string) => `trader-orders-${userId}`;
export const TRADER_ORDERS_STREAM_PREFIX = 'trader-orders-';
