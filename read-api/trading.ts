/** Items, a trader's active orders (with the ETag of their order stream) and portfolio. Amounts in cents. */
import { ITEMS, ORDER_COLLECTIONS, PORTFOLIO, TRADING_ORDERS } from '../projections/trading.js';
import type { Doc, ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
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
  const found = await readStore.find(ITEMS, {
    sort: { fields: ['name'], direction: 'asc' },
    limit: page.limit,
    after: page.after,
  });
  return {
    items: found.items.map((d) => ({
      id: d.id,
      name: String(d.name),
      initialCount: Number(d.initialCount),
      initialPrice: Number(d.initialPrice),
      commissionBasisPoints: Number(d.commissionBasisPoints),
      createdAt: String(d.createdAt),
    })),
    next: found.next,
  };
}

export function toOrderView(d: Doc): OrderView {
  return {
    id: d.id,
    itemId: String(d.itemId),
    price: Number(d.price),
    commission: Number(d.commission),
    status: String(d.status),
    createdAt: String(d.createdAt),
    updatedAt: String(d.updatedAt),
  };
}

export async function listActiveOrders(readStore: ReadStore, userId: string, side: Side, page: Page) {
  const found = await readStore.find(TRADING_ORDERS, {
    where: { userId, side, active: true },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  return { items: found.items.map(toOrderView), next: found.next };
}

/** Revision of the trader's order stream, -1 before their first order. */
export async function orderCollectionRevision(readStore: ReadStore, userId: string): Promise<number> {
  const doc = await readStore.get(ORDER_COLLECTIONS, userId);
  return doc ? Number(doc.revision) : -1;
}

export async function listPortfolio(readStore: ReadStore, userId: string, page: Page) {
  // Items the trader sold out of stay in the view with `held: false`; the portfolio shows what they hold.
  const found = await readStore.find(PORTFOLIO, {
    where: { userId, held: true },
    sort: { fields: ['name'], direction: 'asc' },
    limit: page.limit,
    after: page.after,
  });
  const items = found.items.map((d) => ({
    id: String(d.itemId),
    name: String(d.name),
    count: Number(d.count),
    onSaleCount: Number(d.onSaleCount ?? 0),
  }));
  return { items, next: found.next };
}

export async function itemExists(readStore: ReadStore, itemId: string): Promise<boolean> {
  return (await readStore.get(ITEMS, itemId)) !== null;
}

/** An order as the read models keep it, with its owner and side: what a cancel of an order its market no longer remembers is answered from. */
export async function findPastOrder(
  readStore: ReadStore,
  orderId: string,
): Promise<(OrderView & { ownerId: string; side: Side }) | null> {
  const doc = await readStore.get(TRADING_ORDERS, orderId);
  return doc
    ? { ...toOrderView(doc), ownerId: String(doc.userId), side: doc.side === 'sell' ? 'sell' : 'purchase' }
    : null;
}
