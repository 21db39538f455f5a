/**
 * The market-data projection's collections: each item's order book by price level, its
 * summary (last deal, orders in the book), its candles, the open orders it needs to take
 * out of the book again, and the deal each order is in (order tracking). Every order is for one unit, so a level's `units` and
 * `orders` are equal today; both are kept, as a book states them.
 */
import type { FailureReason } from '../../domain/billing/events.js';
import type { Cents } from '../../domain/money.js';
import type { Side } from '../../domain/trading/events.js';
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** The orders resting at one price on one side of an item's book, by `bookLevelId`; deleted when none is left. */
export type BookLevelDoc = {
  id: string;
  itemId: string;
  side: Side;
  price: Cents;
  units: number;
  orders: number;
};

/**
 * An order that may still rest in the book (resting, or in a deal that may fail), by order
 * id: the price and side a match, a cancel or a failed deal moves it by. The broker's
 * initial units are not written when listed (10,000 of them would be): one without a
 * document rests at its item's initial price, and gets one once a deal takes it.
 */
export type OpenOrderDoc = {
  id: string;
  itemId: string;
  side: Side;
  price: Cents;
  resting: boolean;
};

/** An item's market at a glance, by item id. */
export type MarketSummaryDoc = {
  id: string;
  initialPrice: Cents;
  /** The price and time of the latest completed deal; null before the first. */
  lastPrice: Cents | null;
  lastDealAt: string | null;
  /** Orders resting in the book, per side. */
  openPurchaseOrders: number;
  openSellOrders: number;
};

export const CANDLE_INTERVALS = ['1m', '1h', '1d'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];

/** The completed deals of an item in one UTC interval, by `candleId`: written only for intervals with a deal. */
export type CandleDoc = {
  id: string;
  itemId: string;
  interval: CandleInterval;
  /** When the interval starts (ISO 8601 UTC, milliseconds: sorts as text). */
  start: string;
  open: Cents;
  high: Cents;
  low: Cents;
  close: Cents;
  /** Units traded (one per deal). */
  volume: number;
  deals: number;
};

/**
 * The deal an order is in, and why a purchase failed, by order id; no document for an order
 * that was never in a deal. Beside the order's own document (the trading projection's
 * `trading_orders`), not in it: a read model a frozen history recorded keeps its fields.
 */
export type OrderDealDoc = {
  id: string;
  /** The deal it is in (for a failed purchase, the deal that failed); null once a failed deal put a sell order back in the book. */
  dealId: string | null;
  failureReason: FailureReason | null;
};

export const bookLevelId = (itemId: string, side: Side, price: Cents) => `${itemId}:${side}:${price}`;
export const candleId = (itemId: string, interval: CandleInterval, start: string) => `${itemId}:${interval}:${start}`;

export const orderBook = collection<BookLevelDoc>('order_book', [{ equal: ['itemId', 'side'], sort: ['price'] }]);

export const openOrders = collection<OpenOrderDoc>('open_orders');

export const orderDeals = collection<OrderDealDoc>('order_deals');

export const marketSummaries = collection<MarketSummaryDoc>('market_summaries');

export const candles = collection<CandleDoc>('candles', [{ equal: ['itemId', 'interval'], sort: ['start'] }]);

/** How long each interval lasts (a UTC day has no leap seconds here). */
export const INTERVAL_MS: Readonly<Record<CandleInterval, number>> = {
  '1m': 60_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/** The start of the interval that holds `at` (ms since the epoch), as candles name it. */
export function intervalStart(at: number, interval: CandleInterval): string {
  return new Date(at - (at % INTERVAL_MS[interval])).toISOString();
}
