/** Request and response bodies of the plain ordering flow. */
import * as z from 'zod';
import type { PlainOrderStatus } from '../../../domain/ordering/events.js';
import { money } from '../validation.js';
import { moneyAmount, timestamp } from './common.js';

export const customerOrderBody = z.strictObject({
  price: money(1, 1000000),
});

export const customerOrder = z
  .strictObject({
    id: z.string(),
    price: moneyAmount,
    status: z.enum({ pending: 'pending', succeeded: 'succeeded', failed: 'failed' } satisfies {
      [S in PlainOrderStatus]: S;
    }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ description: 'A plain order, paid from the balance asynchronously.' });
export type CustomerOrder = z.infer<typeof customerOrder>;
