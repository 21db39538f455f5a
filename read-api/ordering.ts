import { CUSTOMER_ORDER_COLLECTIONS, CUSTOMER_ORDERS } from '../projections/ordering.js';
import type { Doc, ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export interface CustomerOrderView {
  id: string;
  price: number;
  status: string;
  createdAt: string;
  updatedAt: string;
}

function toView(d: Doc): CustomerOrderView {
  return {
    id: d.id,
    price: Number(d.price),
    status: String(d.status),
    createdAt: String(d.createdAt),
    updatedAt: String(d.updatedAt),
  };
}

export async function listCustomerOrders(readStore: ReadStore, userId: string, page: Page) {
  const found = await readStore.find(CUSTOMER_ORDERS, {
    where: { userId },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  return { items: found.items.map(toView), next: found.next };
}

export async function getCustomerOrder(
  readStore: ReadStore,
  orderId: string,
): Promise<(CustomerOrderView & { userId: string }) | null> {
  const doc = await readStore.get(CUSTOMER_ORDERS, orderId);
  return doc ? { ...toView(doc), userId: String(doc.userId) } : null;
}

export async function customerOrderCollectionRevision(readStore: ReadStore, userId: string): Promise<number> {
  const doc = await readStore.get(CUSTOMER_ORDER_COLLECTIONS, userId);
  return doc ? Number(doc.revision) : -1;
}
