/** Request bodies of the trading and ordering endpoints. */
import * as z from 'zod';
import { money } from '../validation.js';

/** A percentage with at most two decimals, as basis points (10 % → 1000). */
const percent = (min: number, max: number) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine((value) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6, { message: 'This value should have at most 2 decimal places.' })
    .transform((value) => Math.round(value * 100));

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

export const customerOrderBody = z.strictObject({
  price: money(1, 1000000),
});
