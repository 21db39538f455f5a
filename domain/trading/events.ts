import type { DomainEvent } from '../decider.js';
import type { Cents } from '../money.js';

export type Side = 'purchase' | 'sell';

export type PurchaseOrderStatus = 'pending' | 'paymentPending' | 'paymentSucceeded' | 'paymentFailed' | 'approved' | 'canceled';
export type SellOrderStatus = 'pending' | 'dealPending' | 'accrualPending' | 'approved' | 'canceled';
export type OrderStatus = PurchaseOrderStatus | SellOrderStatus;

/** The terms of a deal, fixed by the order that was resting in the book. */
export interface DealTerms {
  dealId: string;
  itemId: string;
  itemName: string;
  purchaseOrderId: string;
  sellOrderId: string;
  buyerId: string;
  sellerId: string;
  brokerId: string;
  price: Cents;
  /** What the buyer pays on top of the price. */
  buyerCommission: Cents;
  /** What is taken from the seller's proceeds (0 when the broker sells). */
  sellerCommission: Cents;
}

export type ItemListed = DomainEvent<
  'ItemListed',
  { itemId: string; name: string; initialCount: number; initialPrice: Cents; commissionBasisPoints: number; brokerId: string; at: string }
>;
/** `rememberUntil`: until when the market recognises a repeat of this placement (absent in older events: a day after `at`). */
export type PurchaseOrderPlaced = DomainEvent<
  'PurchaseOrderPlaced',
  { itemId: string; orderId: string; buyerId: string; price: Cents; commission: Cents; rememberUntil?: string; at: string }
>;
export type SellOrderPlaced = DomainEvent<'SellOrderPlaced', { itemId: string; orderId: string; sellerId: string; price: Cents; commission: Cents; rememberUntil?: string; at: string }>;
export type DealOpened = DomainEvent<'DealOpened', DealTerms & { at: string }>;
/** The buyer paid: the purchase order waits for nothing more, the sell order for the accrual. */
export type DealPaid = DomainEvent<'DealPaid', { itemId: string; dealId: string; purchaseOrderId: string; sellOrderId: string; at: string }>;
/** The buyer could not pay: the purchase order failed, the sell order rests in the book again. */
export type DealFailed = DomainEvent<
  'DealFailed',
  { itemId: string; itemName: string; dealId: string; purchaseOrderId: string; sellOrderId: string; buyerId: string; price: Cents; reason: string; at: string }
>;
export type DealCompleted = DomainEvent<'DealCompleted', DealTerms & { at: string }>;
export type OrderCanceled = DomainEvent<'OrderCanceled', { itemId: string; orderId: string; side: Side; ownerId: string; at: string }>;
/**
 * The market turned an order down (a sell order with no unit to sell). Recorded so the
 * refusal is final: the same order id offered again later is not placed after all.
 */
export type OrderRefused = DomainEvent<'OrderRefused', { itemId: string; orderId: string; side: Side; ownerId: string; reason: string; rememberUntil?: string; at: string }>;

export type MarketEvent = ItemListed | PurchaseOrderPlaced | SellOrderPlaced | DealOpened | DealPaid | DealFailed | DealCompleted | OrderCanceled | OrderRefused;

export const marketEventTypes = [
  'ItemListed',
  'PurchaseOrderPlaced',
  'SellOrderPlaced',
  'DealOpened',
  'DealPaid',
  'DealFailed',
  'DealCompleted',
  'OrderCanceled',
  'OrderRefused',
] as const satisfies ReadonlyArray<MarketEvent['type']>;

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

/** Every order a trader submits is recorded in their own stream first: its revision is the ETag of their orders. */
/** `rememberUntil`: until when a retry of the request can submit it again (absent in older events: a day after `at`). */
export type OrderSubmitted = DomainEvent<'OrderSubmitted', { userId: string; orderId: string; side: Side; itemId: string; price: Cents; rememberUntil?: string; at: string }>;
/** The market refused a submitted order (no unit for sale…); it never entered the book. */
export type OrderRejected = DomainEvent<'OrderRejected', { userId: string; orderId: string; reason: string; at: string }>;
export type TraderOrdersEvent = OrderSubmitted | OrderRejected;

export const traderOrdersStream = (userId: string) => `trader-orders-${userId}`;
export const TRADER_ORDERS_STREAM_PREFIX = 'trader-orders-';
