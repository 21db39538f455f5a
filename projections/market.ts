/**
 * Market data: each item's order book by price level, its summary and its candles, from
 * the item's market stream alone. The book follows the market's own rules
 * (domain/trading/market.ts): an order rests from its placement until a deal takes it, it is
 * canceled, or — a sell order — rests again when its deal fails. It reads only its own
 * item's documents, and reads what the batch's earlier events wrote (a placement and the deal
 * it opened come in one append), so it has no partition key: with one, the runner adds a batch's
 * writes to the view only once every partition is handled (event-handling.ts).
 */
import type { FailureReason } from '../domain/billing/events.js';
import type { Cents } from '../domain/money.js';
import type { MarketEvent, Side } from '../domain/trading/events.js';
import { initialSellOrderId } from '../domain/trading/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler, ProjectionView } from '../infra/eventsourcing/subscriptions/event-handler.js';
import {
  bookLevelId,
  CANDLE_INTERVALS,
  candleId,
  candles,
  intervalStart,
  marketSummaries,
  openOrders,
  orderBook,
  orderDeals,
  type OpenOrderDoc,
} from './read-models/market.js';

export const marketDataProjection: EventHandler = {
  name: 'market-data',
  filter: { streamPrefixes: ['market-'] },
  collections: [orderBook, openOrders, marketSummaries, candles, orderDeals],
  handle(recorded: RecordedEvent, view: ProjectionView): Promise<WriteOp[]> | WriteOp[] {
    // Events of market streams are MarketEvents (domain/trading/events.ts).
    return marketDataWrites({ type: recorded.type, data: recorded.data } as unknown as MarketEvent, view);
  },
};

async function marketDataWrites(event: MarketEvent, view: ProjectionView): Promise<WriteOp[]> {
  switch (event.type) {
    case 'ItemListed': {
      const { itemId, initialCount, initialPrice } = event.data;
      const summary = marketSummaries.insert(itemId, {
        initialPrice,
        lastPrice: null,
        lastDealAt: null,
        openPurchaseOrders: 0,
        openSellOrders: initialCount,
      });
      if (initialCount === 0) return [summary];
      return [summary, await levelAfter(view, itemId, 'sell', initialPrice, initialCount)];
    }
    case 'PurchaseOrderPlaced':
    case 'SellOrderPlaced': {
      const { itemId, orderId, price } = event.data;
      const side: Side = event.type === 'PurchaseOrderPlaced' ? 'purchase' : 'sell';
      return [
        openOrders.insert(orderId, { itemId, side, price, resting: true }),
        ...(await restingChange(view, itemId, side, price, 1)),
      ];
    }
    case 'DealOpened': {
      const { itemId, dealId, purchaseOrderId, sellOrderId } = event.data;
      return [
        ...(await takenOut(view, itemId, purchaseOrderId)),
        ...(await takenOut(view, itemId, sellOrderId)),
        orderDeals.upsert(purchaseOrderId, { set: { dealId, failureReason: null } }),
        orderDeals.upsert(sellOrderId, { set: { dealId, failureReason: null } }),
      ];
    }
    case 'DealFailed':
      return dealFailed(view, event.data);
    case 'DealCompleted':
      return dealCompleted(view, event.data);
    case 'OrderCanceled': {
      const { itemId, orderId } = event.data;
      return [...(await takenOut(view, itemId, orderId)), openOrders.delete(orderId)];
    }
    case 'DealPaid':
    case 'OrderRefused':
      return [];
  }
}

/** The buyer's order is done with (and says why); the seller's rests again at its own price, in no deal. */
async function dealFailed(
  view: ProjectionView,
  data: { itemId: string; purchaseOrderId: string; sellOrderId: string; reason: FailureReason },
): Promise<WriteOp[]> {
  const { itemId, purchaseOrderId, sellOrderId, reason } = data;
  const sell = await openOrderOf(view, itemId, sellOrderId);
  const writes = [
    openOrders.delete(purchaseOrderId),
    orderDeals.update(purchaseOrderId, { set: { failureReason: reason } }),
    orderDeals.update(sellOrderId, { set: { dealId: null } }),
  ];
  if (!sell || sell.resting) return writes;
  return [
    ...writes,
    openOrders.upsert(sellOrderId, { set: { ...withoutId(sell), resting: true } }),
    ...(await restingChange(view, itemId, sell.side, sell.price, 1)),
  ];
}

/** The last price, and the deal in the candle of each interval that holds it. */
async function dealCompleted(
  view: ProjectionView,
  data: { itemId: string; purchaseOrderId: string; sellOrderId: string; price: Cents; at: string },
): Promise<WriteOp[]> {
  const { itemId, purchaseOrderId, sellOrderId, price, at } = data;
  const writes: WriteOp[] = [
    openOrders.delete(purchaseOrderId),
    openOrders.delete(sellOrderId),
    marketSummaries.update(itemId, { set: { lastPrice: price, lastDealAt: at } }),
  ];
  for (const interval of CANDLE_INTERVALS) {
    const start = intervalStart(Date.parse(at), interval);
    const id = candleId(itemId, interval, start);
    const candle = await candles.get(view, id);
    writes.push(
      candle
        ? candles.update(id, {
            set: { high: Math.max(candle.high, price), low: Math.min(candle.low, price), close: price },
            inc: { volume: 1, deals: 1 },
          })
        : candles.insert(id, {
            itemId,
            interval,
            start,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 1,
            deals: 1,
          }),
    );
  }
  return writes;
}

/** An order a deal or a cancel takes out of the book, if it rests there. */
async function takenOut(view: ProjectionView, itemId: string, orderId: string): Promise<WriteOp[]> {
  const order = await openOrderOf(view, itemId, orderId);
  if (!order?.resting) return [];
  return [
    openOrders.upsert(orderId, { set: { ...withoutId(order), resting: false } }),
    ...(await restingChange(view, itemId, order.side, order.price, -1)),
  ];
}

/** The open order, or a broker's initial unit never taken yet (resting at the item's initial price). */
async function openOrderOf(view: ProjectionView, itemId: string, orderId: string): Promise<OpenOrderDoc | null> {
  const order = await openOrders.get(view, orderId);
  if (order) return order;
  const summary = await marketSummaries.get(view, itemId);
  if (!summary || !isInitialUnit(itemId, orderId)) return null;
  return { id: orderId, itemId, side: 'sell', price: summary.initialPrice, resting: true };
}

function isInitialUnit(itemId: string, orderId: string): boolean {
  const prefix = initialSellOrderId(itemId, 0).slice(0, -1);
  return orderId.startsWith(prefix) && /^\d+$/.test(orderId.slice(prefix.length));
}

/** One order more (`by` 1) or fewer (-1) rests at the price: its level and the summary's count. */
async function restingChange(
  view: ProjectionView,
  itemId: string,
  side: Side,
  price: Cents,
  by: number,
): Promise<WriteOp[]> {
  const inc = side === 'purchase' ? { openPurchaseOrders: by } : { openSellOrders: by };
  return [await levelAfter(view, itemId, side, price, by), marketSummaries.update(itemId, { inc })];
}

/** The price level after `by` orders came (or went): written whole, deleted when empty. */
async function levelAfter(
  view: ProjectionView,
  itemId: string,
  side: Side,
  price: Cents,
  by: number,
): Promise<WriteOp> {
  const id = bookLevelId(itemId, side, price);
  const orders = ((await orderBook.get(view, id))?.orders ?? 0) + by;
  if (orders <= 0) return orderBook.delete(id);
  return orderBook.upsert(id, { set: { itemId, side, price, units: orders, orders } });
}

function withoutId(order: OpenOrderDoc): Omit<OpenOrderDoc, 'id'> {
  const { id: _id, ...rest } = order;
  return rest;
}
