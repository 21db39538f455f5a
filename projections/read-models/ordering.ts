/** The ordering projection's collections: each user's plain orders, and the revision of their order stream. */
import type { Cents } from '../../domain/money.js';
import type { PlainOrderStatus } from '../../domain/ordering/events.js';
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** A plain order, by order id. */
export type CustomerOrderDoc = {
  id: string;
  userId: string;
  price: Cents;
  status: PlainOrderStatus;
  createdAt: string;
  updatedAt: string;
  /** The position of the event that created it (sortable). */
  seq: string;
};

/** A user's order stream, by user id: its revision is the ETag of their list. */
export type CustomerOrderCollectionDoc = {
  id: string;
  revision: number;
};

export const customerOrders = collection<CustomerOrderDoc>('customer_orders', [{ equal: ['userId'], sort: ['seq'] }]);

export const customerOrderCollections = collection<CustomerOrderCollectionDoc>('customer_order_collections');
