/** Market data, public: an item's summary and order book, its candles, and the quotes of the items listed. Amounts in cents. */
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Cents } from '../domain/money.js';
import type { Side } from '../domain/trading/events.js';
import {
  candles,
  INTERVAL_MS,
  intervalStart,
  marketSummaries,
  orderBook,
  type CandleDoc,
  type CandleInterval,
} from '../projections/read-models/market.js';

export interface PriceLevel {
  price: Cents;
  units: number;
  orders: number;
}

/** The best `depth` price levels of one side: the highest bids, the lowest asks. */
async function levels(readStore: ReadStore, itemId: string, side: Side, depth: number): Promise<PriceLevel[]> {
  const found = await orderBook.find(readStore, {
    where: { itemId, side },
    sort: { fields: ['price'], direction: side === 'purchase' ? 'desc' : 'asc' },
    limit: depth,
  });
  return found.items.map(({ price, units, orders }) => ({ price, units, orders }));
}

/** Bids and asks aggregated by price level, best first. */
export async function orderBookOf(readStore: ReadStore, itemId: string, depth: number) {
  const [bids, asks] = await Promise.all([
    levels(readStore, itemId, 'purchase', depth),
    levels(readStore, itemId, 'sell', depth),
  ]);
  return { bids, asks };
}

/** The best bid and ask and the last deal's price: what the list of items shows of each. */
export async function quoteOf(readStore: ReadStore, itemId: string) {
  const [book, summary] = await Promise.all([
    orderBookOf(readStore, itemId, 1),
    marketSummaries.get(readStore, itemId),
  ]);
  return {
    bestBid: book.bids[0]?.price ?? null,
    bestAsk: book.asks[0]?.price ?? null,
    lastPrice: summary?.lastPrice ?? null,
    lastDealAt: summary?.lastDealAt ?? null,
    openPurchaseOrders: summary?.openPurchaseOrders ?? 0,
    openSellOrders: summary?.openSellOrders ?? 0,
  };
}

/** The quote, with the units and deals of the last 24 hours (to the minute). */
export async function marketSummaryOf(readStore: ReadStore, itemId: string, now: Date) {
  const [quote, lastDay] = await Promise.all([quoteOf(readStore, itemId), lastDayOf(readStore, itemId, now)]);
  return { ...quote, ...lastDay };
}

/**
 * Units and deals since the minute 24 hours ago: the minutes up to the next whole hour, then
 * the hours (at most 60 + 24 candles, however busy the item).
 */
async function lastDayOf(readStore: ReadStore, itemId: string, now: Date) {
  const from = intervalStart(now.getTime() - INTERVAL_MS['1d'], '1m');
  const hour = INTERVAL_MS['1h'];
  const wholeHour = new Date(Math.ceil(Date.parse(from) / hour) * hour).toISOString();
  const [minutes, hours] = await Promise.all([
    candlesBetween(readStore, itemId, '1m', from, wholeHour, 60),
    candlesBetween(readStore, itemId, '1h', wholeHour, undefined, 25),
  ]);
  const all = [...minutes, ...hours];
  return {
    units24h: all.reduce((sum, c) => sum + c.volume, 0),
    deals24h: all.reduce((sum, c) => sum + c.deals, 0),
  };
}

async function candlesBetween(
  readStore: ReadStore,
  itemId: string,
  interval: CandleInterval,
  from: string,
  to: string | undefined,
  limit: number,
): Promise<CandleDoc[]> {
  const found = await candles.find(readStore, {
    where: { itemId, interval },
    range: to === undefined ? { gte: from } : { gte: from, lt: to },
    sort: { fields: ['start'], direction: 'asc' },
    limit,
  });
  return found.items;
}

/** At most this many candles per answer. */
export const MAX_CANDLES = 1_000;
/** The read store answers at most this many documents per query. */
const CANDLES_PER_QUERY = 500;

export interface CandleQuery {
  interval: CandleInterval;
  /** ISO 8601 UTC times (milliseconds, as candles name their start): the first interval starting at or after `from`, up to the last starting before `to`. */
  from?: string;
  to?: string;
  limit: number;
}

/** An item's candles in time order, and where the next page starts (the next candle's start) if there is more. */
export async function candlesOf(readStore: ReadStore, itemId: string, query: CandleQuery) {
  const { interval, from, to, limit } = query;
  const range = { ...(from === undefined ? {} : { gte: from }), ...(to === undefined ? {} : { lt: to }) };
  const found: CandleDoc[] = [];
  let after: string | undefined;
  // One more than asked for: whether a next page exists, and where it starts.
  while (found.length < limit + 1) {
    const page = await candles.find(readStore, {
      where: { itemId, interval },
      ...(from === undefined && to === undefined ? {} : { range }),
      sort: { fields: ['start'], direction: 'asc' },
      limit: Math.min(CANDLES_PER_QUERY, limit + 1 - found.length),
      after,
    });
    found.push(...page.items);
    if (page.next === undefined) break;
    after = page.next;
  }
  const items = found
    .slice(0, limit)
    .map(({ start, open, high, low, close, volume, deals }) => ({ start, open, high, low, close, volume, deals }));
  return { items, nextFrom: found[limit]?.start };
}
