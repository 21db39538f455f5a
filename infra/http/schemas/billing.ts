/** Request and response bodies of the billing endpoints. */
import * as z from 'zod';
import type { OperationView } from '../../../read-api/billing.js';
import { money } from '../validation.js';
import { moneyAmount, timestamp } from './common.js';

export const moneyMovementBody = z.strictObject({
  amount: money(1, 10000),
});

export const account = z
  .strictObject({
    id: z.string(),
    amount: moneyAmount.meta({ description: 'the balance' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ description: "The caller's billing account." });
export type Account = z.infer<typeof account>;

const operationType = z.enum({
  deposit: 'deposit',
  withdraw: 'withdraw',
  payment: 'payment',
  accrual: 'accrual',
  commission: 'commission',
} satisfies {
  [T in OperationView['type']]: T;
});

export const operation = z
  .strictObject({
    id: z.string(),
    type: operationType,
    amount: moneyAmount.meta({ description: 'always positive' }),
    description: z.string(),
    createdAt: timestamp,
  })
  .meta({ description: 'One change of a balance.' });
export type Operation = z.infer<typeof operation>;
