/** Request and response bodies of the trading endpoints. */
import * as z from 'zod';
import { failureReason } from '../../../domain/billing/events.js';
import { side, type OrderStatus } from '../../../domain/trading/events.js';
import { CANDLE_INTERVALS } from '../../../projections/read-models/market.js';
import { MAX_CANDLES } from '../../../read-api/market.js';
import { money } from '../validation.js';
import { count, MAX_PATH_ID_LENGTH, moneyAmount, pathId, timestamp } from './common.js';

/** A percentage with at most two decimals, as basis points (10 % → 1000). */
const percent = (min: number, max: number) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine((value) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6, {
      message: 'This value should have at most 2 decimal places.',
    })
    .transform((value) => Math.round(value * 100))
    .meta({ description: `percent, at most 2 decimals, ${min}..${max}` });

export const listItemBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  initialCount: z.int().min(1).max(10000),
  initialPrice: money(10, 10000),
  commissionPercent: percent(0.1, 30),
});

export const placeOrderBody = z.strictObject({
  itemId: z.string().min(1).max(100),
  price: money(1, 1000000),
});

export const tradingItem = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    initialCount: count,
    initialPrice: moneyAmount,
    commissionPercent: z.number().min(0).max(100),
    createdAt: timestamp,
  })
  .meta({ description: 'An item the broker listed.' });
export type TradingItem = z.infer<typeof tradingItem>;

const orderStatus = z
  .enum({
    pending: 'pending',
    paymentPending: 'paymentPending',
    paymentSucceeded: 'paymentSucceeded',
    paymentFailed: 'paymentFailed',
    approved: 'approved',
    canceled: 'canceled',
    dealPending: 'dealPending',
    accrualPending: 'accrualPending',
  } satisfies { [S in OrderStatus]: S })
  .meta({
    description:
      'purchase: `pending`, `paymentPending`, `paymentSucceeded`, `paymentFailed`, `approved`, `canceled`; sell: `pending`, `dealPending`, `accrualPending`, `approved`, `canceled`',
  });

export const order = z
  .strictObject({
    id: z
      .string()
      .meta({ description: "opaque; names its item (`<itemId>.<uuid>`, the broker's initial units `<itemId>-u<n>`)" }),
    itemId: z.string(),
    price: moneyAmount,
    commission: moneyAmount,
    status: orderStatus,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ description: 'A purchase or sell order.' });
export type Order = z.infer<typeof order>;

export const holding = z
  .strictObject({ id: z.string().meta({ description: 'the item id' }), name: z.string(), count, onSaleCount: count })
  .meta({ description: 'The units of one item the caller holds, and how many of them are on sale.' });
export type Holding = z.infer<typeof holding>;

/** The items list: each item with its quote. */
export const tradingItemWithQuote = tradingItem
  .extend({
    bestBid: moneyAmount.nullable().meta({ description: 'the highest resting purchase order; null when none' }),
    bestAsk: moneyAmount.nullable().meta({ description: 'the lowest resting sell order; null when none' }),
    lastPrice: moneyAmount.nullable().meta({ description: 'the price of the latest completed deal; null before one' }),
  })
  .meta({ description: 'An item the broker listed, with its best bid and ask and its last deal price.' });
export type TradingItemWithQuote = z.infer<typeof tradingItemWithQuote>;

/** The path of one item (`/trading/items/{itemId}…`). */
export const itemPath = z.strictObject({
  itemId: pathId.meta({
    description: `the item id (letters, digits, \`.\`, \`-\`, \`_\`, \`~\`; at most ${MAX_PATH_ID_LENGTH})`,
  }),
});

export const marketSummary = z
  .strictObject({
    bestBid: moneyAmount.nullable().meta({ description: 'the highest resting purchase order; null when none' }),
    bestAsk: moneyAmount.nullable().meta({ description: 'the lowest resting sell order; null when none' }),
    lastPrice: moneyAmount.nullable().meta({ description: 'the price of the latest completed deal; null before one' }),
    lastDealAt: timestamp.nullable().meta({ description: 'when the latest deal completed; null before one' }),
    units24h: count.meta({ description: 'units traded in completed deals since the minute 24 hours ago' }),
    deals24h: count.meta({ description: 'deals completed since the minute 24 hours ago' }),
    openPurchaseOrders: count.meta({ description: 'purchase orders resting in the book' }),
    openSellOrders: count.meta({ description: 'sell orders resting in the book' }),
  })
  .meta({ description: "An item's market at a glance (from the read models: as of the position they reached)." });

export const itemWithMarket = tradingItem
  .extend({ market: marketSummary })
  .meta({ description: 'An item the broker listed, with its market summary.' });
export type ItemWithMarket = z.infer<typeof itemWithMarket>;

const priceLevel = z
  .strictObject({ price: moneyAmount, units: count, orders: count })
  .meta({ description: 'The orders resting at one price (each order is for one unit).' });

export const orderBook = z
  .strictObject({
    itemId: z.string(),
    bids: z.array(priceLevel).meta({ description: 'purchase orders by price level, highest first' }),
    asks: z.array(priceLevel).meta({ description: 'sell orders by price level, lowest first' }),
  })
  .meta({ description: "An item's order book aggregated by price level, best first; no owners." });
export type OrderBook = z.infer<typeof orderBook>;

/** A whole number in a query string, within `min..max`. */
const queryInt = (min: number, max: number, fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(min)
    .max(max)
    .default(fallback)
    .meta({ description: `${min}..${max}, default ${fallback}` });

export const orderBookQuery = z.object({ depth: queryInt(1, 100, 20) });

/** ISO 8601 times in a query: with `Z` or an offset, turned into UTC with milliseconds (as candles name their start). */
const queryTime = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value).toISOString())
  .optional();

export const candleQuery = z
  .object({
    interval: z
      .enum(CANDLE_INTERVALS)
      .meta({ description: 'the length of each candle: a minute, an hour, a day (UTC)' }),
    from: queryTime.meta({
      description: 'ISO 8601 time: the first candle starting at or after it (default: the first)',
    }),
    to: queryTime.meta({ description: 'ISO 8601 time: candles starting before it (default: up to the latest)' }),
    limit: queryInt(1, MAX_CANDLES, MAX_CANDLES),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, {
    message: 'from should be before to.',
    path: ['to'],
  });

export const candle = z
  .strictObject({
    start: timestamp.meta({ description: 'when the interval starts' }),
    open: moneyAmount.meta({ description: "the interval's first deal price" }),
    high: moneyAmount,
    low: moneyAmount,
    close: moneyAmount.meta({ description: "the interval's last deal price" }),
    volume: count.meta({ description: 'units traded' }),
    deals: count,
  })
  .meta({ description: 'The completed deals of one interval; intervals without a deal are left out.' });
export type Candle = z.infer<typeof candle>;

export const orderListQuery = z.object({
  status: z.enum(['pending', 'approved', 'failed', 'canceled', 'all']).default('pending').meta({
    description:
      '`pending` (the default): the orders still trading, whatever their deal status; `approved`, `failed` (a purchase whose payment failed), `canceled`, or `all`',
  }),
});

export const trackedOrder = order
  .extend({
    side,
    dealId: z
      .string()
      .nullable()
      .meta({ description: 'the deal it is in (for a failed purchase, the deal that failed); null while it rests' }),
    failure: z
      .strictObject({ code: failureReason, message: z.string() })
      .nullable()
      .meta({ description: 'why a `paymentFailed` purchase failed; null otherwise' }),
  })
  .meta({ description: 'An order as its trader tracks it: its status, the deal it is in, why it failed.' });
export type TrackedOrder = z.infer<typeof trackedOrder>;
