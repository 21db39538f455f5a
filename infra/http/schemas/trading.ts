/** Request and response bodies of the trading endpoints. */
import * as z from 'zod';
import type { OrderStatus } from '../../../domain/trading/events.js';
import { money } from '../validation.js';
import { count, moneyAmount, timestamp } from './common.js';

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
