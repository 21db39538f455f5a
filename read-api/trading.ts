/** Items, a trader's active orders (with the ETag of their order stream) and portfolio. Amounts in cents. */
import {
  items,
  orderCollections,
  portfolio,
  tradingOrders,
  type TradingOrderDoc,
} from '../projections/read-models/trading.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
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

export async function listItems(readStore: ReadStore, page: Page) {
  const found = await items.find(readStore, {
    sort: { fields: ['name'], direction: 'asc' },
    limit: page.limit,
    after: page.after,
  });
  return {
    items: found.items.map((d) => ({
      id: d.id,
      name: d.name,
      initialCount: d.initialCount,
      initialPrice: d.initialPrice,
      commissionBasisPoints: d.commissionBasisPoints,
      createdAt: d.createdAt,
    })),
    next: found.next,
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

export async function listActiveOrders(readStore: ReadStore, userId: string, side: Side, page: Page) {
  const found = await tradingOrders.find(readStore, {
    where: { userId, side, active: true },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  return { items: found.items.map(toOrderView), next: found.next };
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
    if ((await listActiveOrders(readStore, userId, side, { limit: 1 })).items.length > 0) return true;
  }
  return false;
}
