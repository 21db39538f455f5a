/** Response bodies of deal history, statistics and notifications (all read-only). */
import * as z from 'zod';
import { count, moneyAmount, timestamp } from './common.js';

export const deal = z
  .strictObject({
    id: z.string(),
    itemId: z.string(),
    itemName: z.string(),
    type: z.enum(['purchase', 'sale']),
    amount: moneyAmount.meta({ description: 'the deal price' }),
    commission: moneyAmount.meta({ description: 'what this side paid' }),
    completedAt: timestamp,
  })
  .meta({ description: 'A completed deal, as one of its two sides sees it.' });
export type Deal = z.infer<typeof deal>;

const day = z.iso.date().meta({ description: 'a UTC day, `YYYY-MM-DD`' });

export const dailyItemStat = z
  .strictObject({
    date: day,
    itemId: z.string(),
    itemName: z.string(),
    count,
    amount: moneyAmount.meta({ description: 'sum of deal prices, without commission' }),
  })
  .meta({ description: 'Deals of one item on one day.' });
export type DailyItemStat = z.infer<typeof dailyItemStat>;

export const dailyTotal = z
  .strictObject({
    date: day,
    count,
    amount: moneyAmount.meta({ description: 'sum of deal prices, without commission' }),
  })
  .meta({ description: 'All deals of one day.' });
export type DailyTotal = z.infer<typeof dailyTotal>;

export const topItem = z
  .strictObject({
    itemId: z.string(),
    itemName: z.string(),
    count,
    amount: moneyAmount.meta({ description: 'sum of deal prices, without commission' }),
  })
  .meta({ description: 'An item with its deal count and volume.' });
export type TopItem = z.infer<typeof topItem>;
