import {
  customerOrderCollections,
  customerOrders,
  type CustomerOrderDoc,
} from '../projections/read-models/ordering.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export interface CustomerOrderView {
  id: string;
  price: number;
  status: string;
  createdAt: string;
  updatedAt: string;
}

function toView(d: CustomerOrderDoc): CustomerOrderView {
  return {
    id: d.id,
    price: d.price,
    status: d.status,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export async function listCustomerOrders(readStore: ReadStore, userId: string, page: Page) {
  const found = await customerOrders.find(readStore, {
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
  const doc = await customerOrders.get(readStore, orderId);
  return doc ? { ...toView(doc), userId: doc.userId } : null;
}

export async function customerOrderCollectionRevision(readStore: ReadStore, userId: string): Promise<number> {
  const doc = await customerOrderCollections.get(readStore, userId);
  return doc ? doc.revision : -1;
}
