/** Items, a trader's active orders (with the ETag of their order stream) and portfolio. Amounts in cents. */
import {
  items,
  orderCollections,
  portfolio,
  tradingOrders,
  type ItemDoc,
  type TradingOrderDoc,
} from '../projections/read-models/trading.js';
import { orderDeals } from '../projections/read-models/market.js';
import { quoteOf } from './market.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { FailureReason } from '../domain/billing/events.js';
import type { Side } from '../domain/trading/events.js';
import type { Page } from './page.js';

export interface OrderView {
  id: string;
  itemId: string;
  price: number;
  commission: number;
  status: string;
  createdAt: string;
  updatedAt: string;
}

/** A page of items, by name, each with its quote (best bid and ask, last price) from the market data. */
export async function listItems(readStore: ReadStore, page: Page) {
  const found = await items.find(readStore, {
    sort: { fields: ['name'], direction: 'asc' },
    limit: page.limit,
    after: page.after,
  });
  const listed = await Promise.all(
    found.items.map(async (d) => {
      const { bestBid, bestAsk, lastPrice } = await quoteOf(readStore, d.id);
      return { ...itemOf(d), bestBid, bestAsk, lastPrice };
    }),
  );
  return { items: listed, next: found.next };
}

/** An item as listed; null when no item has this id (or it is not projected yet). */
export async function getItem(readStore: ReadStore, itemId: string) {
  const doc = await items.get(readStore, itemId);
  return doc && itemOf(doc);
}

function itemOf(d: ItemDoc) {
  return {
    id: d.id,
    name: d.name,
    initialCount: d.initialCount,
    initialPrice: d.initialPrice,
    commissionBasisPoints: d.commissionBasisPoints,
    createdAt: d.createdAt,
  };
}

export function toOrderView(d: TradingOrderDoc): OrderView {
  return {
    id: d.id,
    itemId: d.itemId,
    price: d.price,
    commission: d.commission,
    status: d.status,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** Which of a trader's orders a list shows: the active ones (still trading), or those that ended one way, or all. */
export type OrderFilter = 'pending' | 'approved' | 'failed' | 'canceled' | 'all';

/** The `where` of each filter (each served by an index of `tradingOrders`): a failed order is a purchase whose payment failed. */
function whereOf(userId: string, side: Side, filter: OrderFilter) {
  switch (filter) {
    case 'pending':
      return { userId, side, active: true };
    case 'approved':
    case 'canceled':
      return { userId, side, status: filter };
    case 'failed':
      return { userId, side, status: 'paymentFailed' as const };
    case 'all':
      return { userId, side };
  }
}

/** A trader's orders of one side that pass the filter, newest first, each with its deal. */
export async function listOrders(readStore: ReadStore, userId: string, side: Side, filter: OrderFilter, page: Page) {
  const found = await tradingOrders.find(readStore, {
    where: whereOf(userId, side, filter),
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  return { items: await Promise.all(found.items.map((d) => tracked(readStore, d))), next: found.next };
}

/** An order as its trader tracks it: the deal it is in, and why it failed. */
export interface TrackedOrderView extends OrderView {
  side: Side;
  dealId: string | null;
  failureReason: FailureReason | null;
}

/**
 * The order with its deal (from the market data: a deal a moment old may not show yet, unless
 * the query waits for a position).
 */
async function tracked(readStore: ReadStore, d: TradingOrderDoc): Promise<TrackedOrderView> {
  const deal = await orderDeals.get(readStore, d.id);
  return { ...toOrderView(d), side: d.side, dealId: deal?.dealId ?? null, failureReason: deal?.failureReason ?? null };
}

/** One order with its owner, as tracked; null when no order has this id (or it is not projected yet). */
export async function getTrackedOrder(
  readStore: ReadStore,
  orderId: string,
): Promise<(TrackedOrderView & { ownerId: string }) | null> {
  const doc = await tradingOrders.get(readStore, orderId);
  return doc ? { ...(await tracked(readStore, doc)), ownerId: doc.userId } : null;
}

/** Revision of the trader's order stream, -1 before their first order. */
export async function orderCollectionRevision(readStore: ReadStore, userId: string): Promise<number> {
  const doc = await orderCollections.get(readStore, userId);
  return doc ? doc.revision : -1;
}

export async function listPortfolio(readStore: ReadStore, userId: string, page: Page) {
  // Items the trader sold out of stay in the view with `held: false`; the portfolio shows what they hold.
  const found = await portfolio.find(readStore, {
    where: { userId, held: true },
    sort: { fields: ['name'], direction: 'asc' },
    limit: page.limit,
    after: page.after,
  });
  const holdings = found.items.map((d) => ({
    id: d.itemId,
    name: d.name,
    count: d.count,
    onSaleCount: d.onSaleCount ?? 0,
  }));
  return { items: holdings, next: found.next };
}

export async function itemExists(readStore: ReadStore, itemId: string): Promise<boolean> {
  return (await items.get(readStore, itemId)) !== null;
}

/** An order as the read models keep it, with its owner and side: what a cancel of an order its market no longer remembers is answered from. */
export async function findPastOrder(
  readStore: ReadStore,
  orderId: string,
): Promise<(OrderView & { ownerId: string; side: Side }) | null> {
  const doc = await tradingOrders.get(readStore, orderId);
  return doc ? { ...toOrderView(doc), ownerId: doc.userId, side: doc.side } : null;
}

/** Whether the trader has an order resting in a market, on either side. */
export async function hasActiveOrders(readStore: ReadStore, userId: string): Promise<boolean> {
  for (const side of ['purchase', 'sell'] as const) {
    if ((await listOrders(readStore, userId, side, 'pending', { limit: 1 })).items.length > 0) return true;
  }
  return false;
}
