/**
 * What traders see of the market: the items, every order with its status (the active ones
 * listed per trader and side), each trader's portfolio, and the revision of each trader's
 * order stream (the ETag of their order lists).
 */
import { commissionOf } from '../domain/money.js';
import type { MarketEvent, OrderStatus, TraderOrdersEvent } from '../domain/trading/events.js';
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

async function marketWrites(event: MarketEvent, seq: string, view: ProjectionView): Promise<WriteOp[]> {
  const status = (orderId: string, value: OrderStatus, at: string, active = true): WriteOp =>
    tradingOrders.update(orderId, { set: { status: value, active, updatedAt: at } });
  /** The trader's holding of the item after a change (read, then written whole, so `held` stays true to `count`). */
  const holding = async (
    userId: string,
    itemId: string,
    change: { count?: number; onSaleCount?: number },
    name?: string,
  ): Promise<WriteOp> => {
    const id = portfolioId(userId, itemId);
    const current = await portfolio.get(view, id);
    const count = (current?.count ?? 0) + (change.count ?? 0);
    const onSaleCount = (current?.onSaleCount ?? 0) + (change.onSaleCount ?? 0);
    return portfolio.upsert(id, {
      set: { userId, itemId, name: name ?? current?.name ?? '', count, onSaleCount, held: count > 0 },
    });
  };
  switch (event.type) {
    case 'ItemListed': {
      const { itemId, name, initialCount, initialPrice, commissionBasisPoints, brokerId, at } = event.data;
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
        await holding(brokerId, itemId, { count: initialCount, onSaleCount: initialCount }, name),
        ...orders,
      ];
    }
    case 'PurchaseOrderPlaced':
    case 'SellOrderPlaced': {
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
      return side === 'sell' ? [placed, await holding(userId, itemId, { onSaleCount: 1 })] : [placed];
    }
    case 'DealOpened':
      return [
        status(event.data.purchaseOrderId, 'paymentPending', event.data.at),
        status(event.data.sellOrderId, 'dealPending', event.data.at),
      ];
    case 'DealPaid':
      return [
        status(event.data.purchaseOrderId, 'paymentSucceeded', event.data.at),
        status(event.data.sellOrderId, 'accrualPending', event.data.at),
      ];
    case 'DealFailed':
      return [
        status(event.data.purchaseOrderId, 'paymentFailed', event.data.at, false),
        status(event.data.sellOrderId, 'pending', event.data.at),
      ];
    case 'DealCompleted': {
      const { purchaseOrderId, sellOrderId, buyerId, sellerId, itemId, itemName, at } = event.data;
      return [
        status(purchaseOrderId, 'approved', at, false),
        status(sellOrderId, 'approved', at, false),
        await holding(sellerId, itemId, { count: -1, onSaleCount: -1 }),
        await holding(buyerId, itemId, { count: 1 }, itemName),
      ];
    }
    case 'OrderRefused':
      return []; // never in the book, never listed
    case 'OrderCanceled': {
      const { orderId, side, ownerId, itemId, at } = event.data;
      const canceled = status(orderId, 'canceled', at, false);
      return side === 'sell' ? [canceled, await holding(ownerId, itemId, { onSaleCount: -1 })] : [canceled];
    }
  }
}
