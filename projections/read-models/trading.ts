/** The trading projection's collections: items, orders, portfolios, and the revision of each trader's order stream. */
import type { Cents } from '../../domain/money.js';
import type { OrderStatus, Side } from '../../domain/trading/events.js';
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** An item listed on the market, by item id. */
export type ItemDoc = {
  id: string;
  name: string;
  initialCount: number;
  initialPrice: Cents;
  commissionBasisPoints: number;
  createdAt: string;
};

/** An order with its status, by order id; `active` while it may still trade. */
export type TradingOrderDoc = {
  id: string;
  userId: string;
  side: Side;
  itemId: string;
  price: Cents;
  commission: Cents;
  status: OrderStatus;
  active: boolean;
  createdAt: string;
  updatedAt: string;
  /** The position of the event that placed it (sortable; a broker's initial orders add their unit number). */
  seq: string;
};

/** What a trader holds of an item, by `portfolioId(userId, itemId)`. */
export type HoldingDoc = {
  id: string;
  userId: string;
  itemId: string;
  name: string;
  count: number;
  /** Absent from a holding written by a build before it was counted (a buyer's first unit): none on sale. */
  onSaleCount?: number;
  /** `count > 0`: lets the portfolio list only what a trader holds, page by page. */
  held: boolean;
};

/** A trader's order stream, by user id: its revision is the ETag of their order lists. */
export type OrderCollectionDoc = {
  id: string;
  revision: number;
};

export const portfolioId = (userId: string, itemId: string) => `${userId}:${itemId}`;

export const items = collection<ItemDoc>('items', [{ equal: [], sort: ['name'] }]);

export const tradingOrders = collection<TradingOrderDoc>('trading_orders', [
  { equal: ['userId', 'side', 'active'], sort: ['seq'] },
  { equal: ['userId', 'side', 'status'], sort: ['seq'] },
  { equal: ['userId', 'side'], sort: ['seq'] },
]);

export const portfolio = collection<HoldingDoc>('portfolio', [{ equal: ['userId', 'held'], sort: ['name'] }]);

export const orderCollections = collection<OrderCollectionDoc>('order_collections');
