/**
 * What traders see of the market: the items, every order with its status (the active ones
 * listed per trader and side), each trader's portfolio, and the revision of each trader's
 * order stream (the ETag of their order lists).
 */
import { commissionOf } from '../domain/money.js';
import type {
  ItemListed,
  MarketEvent,
  OrderStatus,
  PurchaseOrderPlaced,
  SellOrderPlaced,
  TraderOrdersEvent,
} from '../domain/trading/events.js';
import { initialSellOrderId } from '../domain/trading/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler, ProjectionView } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { items, orderCollections, portfolio, portfolioId, tradingOrders } from './read-models/trading.js';

export const tradingProjection: EventHandler = {
  name: 'trading',
  filter: { streamPrefixes: ['market-', 'trader-orders-'] },
  collections: [items, tradingOrders, portfolio, orderCollections],
  handle(recorded: RecordedEvent, view: ProjectionView): Promise<WriteOp[]> | WriteOp[] {
    if (recorded.streamId.startsWith('trader-orders-')) {
      // Events of trader-orders streams are TraderOrdersEvents (domain/trading/events.ts).
      const event = { type: recorded.type, data: recorded.data } as unknown as TraderOrdersEvent;
      return [orderCollections.upsert(event.data.userId, { set: { revision: recorded.revision } })];
    }
    // Events of market streams are MarketEvents (domain/trading/events.ts).
    return marketWrites(
      { type: recorded.type, data: recorded.data } as unknown as MarketEvent,
      sortablePosition(recorded.position),
      view,
    );
  },
};

/** What each market event changes in what traders see. */
async function marketWrites(event: MarketEvent, seq: string, view: ProjectionView): Promise<WriteOp[]> {
  switch (event.type) {
    case 'ItemListed':
      return itemListed(event.data, seq, view);
    case 'PurchaseOrderPlaced':
    case 'SellOrderPlaced':
      return orderPlaced(event, seq, view);
    case 'DealOpened':
      return [
        orderStatus(event.data.purchaseOrderId, 'paymentPending', event.data.at),
        orderStatus(event.data.sellOrderId, 'dealPending', event.data.at),
      ];
    case 'DealPaid':
      return [
        orderStatus(event.data.purchaseOrderId, 'paymentSucceeded', event.data.at),
        orderStatus(event.data.sellOrderId, 'accrualPending', event.data.at),
      ];
    case 'DealFailed':
      return [
        orderStatus(event.data.purchaseOrderId, 'paymentFailed', event.data.at, false),
        orderStatus(event.data.sellOrderId, 'pending', event.data.at),
      ];
    case 'DealCompleted': {
      const { purchaseOrderId, sellOrderId, buyerId, sellerId, itemId, itemName, at } = event.data;
      return [
        orderStatus(purchaseOrderId, 'approved', at, false),
        orderStatus(sellOrderId, 'approved', at, false),
        await holdingAfter(view, sellerId, itemId, { count: -1, onSaleCount: -1 }),
        await holdingAfter(view, buyerId, itemId, { count: 1 }, itemName),
      ];
    }
    case 'OrderRefused':
      return []; // never in the book, never listed
    case 'OrderCanceled': {
      const { orderId, side, ownerId, itemId, at } = event.data;
      const canceled = orderStatus(orderId, 'canceled', at, false);
      return side === 'sell' ? [canceled, await holdingAfter(view, ownerId, itemId, { onSaleCount: -1 })] : [canceled];
    }
  }
}

/** A listed item: the item, the broker's holding of all its units, and an initial sell order per unit. */
async function itemListed(listed: ItemListed['data'], seq: string, view: ProjectionView): Promise<WriteOp[]> {
  const { itemId, name, initialCount, initialPrice, commissionBasisPoints, brokerId, at } = listed;
  const commission = commissionOf(initialPrice, commissionBasisPoints);
  const orders: WriteOp[] = Array.from({ length: initialCount }, (_, unit) =>
    tradingOrders.insert(initialSellOrderId(itemId, unit), {
      userId: brokerId,
      side: 'sell',
      itemId,
      price: initialPrice,
      commission,
      status: 'pending',
      active: true,
      createdAt: at,
      updatedAt: at,
      // The unit number keeps the broker's initial orders in their time order.
      seq: `${seq}:${String(unit).padStart(5, '0')}`,
    }),
  );
  return [
    items.insert(itemId, { name, initialCount, initialPrice, commissionBasisPoints, createdAt: at }),
    await holdingAfter(view, brokerId, itemId, { count: initialCount, onSaleCount: initialCount }, name),
    ...orders,
  ];
}

/** A placed order, pending; a sell order also puts a unit of the seller's on sale. */
async function orderPlaced(
  event: PurchaseOrderPlaced | SellOrderPlaced,
  seq: string,
  view: ProjectionView,
): Promise<WriteOp[]> {
  const { itemId, orderId, price, commission, at } = event.data;
  const [side, userId] =
    event.type === 'PurchaseOrderPlaced'
      ? (['purchase', event.data.buyerId] as const)
      : (['sell', event.data.sellerId] as const);
  const placed = tradingOrders.insert(orderId, {
    userId,
    side,
    itemId,
    price,
    commission,
    status: 'pending',
    active: true,
    createdAt: at,
    updatedAt: at,
    seq,
  });
  return side === 'sell' ? [placed, await holdingAfter(view, userId, itemId, { onSaleCount: 1 })] : [placed];
}

/** An order's new status; `active` while it may still trade (its trader's lists of active orders). */
function orderStatus(orderId: string, status: OrderStatus, at: string, active = true): WriteOp {
  return tradingOrders.update(orderId, { set: { status, active, updatedAt: at } });
}

/** The trader's holding of the item after a change (read, then written whole, so `held` stays true to `count`). */
async function holdingAfter(
  view: ProjectionView,
  userId: string,
  itemId: string,
  change: { count?: number; onSaleCount?: number },
  name?: string,
): Promise<WriteOp> {
  const id = portfolioId(userId, itemId);
  const current = await portfolio.get(view, id);
  const count = (current?.count ?? 0) + (change.count ?? 0);
  const onSaleCount = (current?.onSaleCount ?? 0) + (change.onSaleCount ?? 0);
  return portfolio.upsert(id, {
    set: { userId, itemId, name: name ?? current?.name ?? '', count, onSaleCount, held: count > 0 },
  });
}
