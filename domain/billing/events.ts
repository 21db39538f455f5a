/**
 * The events of an account, each declared once as the schemas of its versions
 * (domain/event-schema.ts): their TypeScript types, the checks on append and read, the
 * catalogue and the AsyncAPI document all come from here.
 */
import * as z from 'zod';
import { cents, EventType, id, instant, type EventOf } from '../event-schema.js';
import { operationMemory } from '../operation-memory.js';

/** What a payment paid for: a deal of the marketplace, or an order of the ordering flow. */
export const paymentPurpose = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('deal'),
      dealId: id,
      itemId: id,
      itemName: z.string(),
      commission: cents.meta({ description: "the buyer's commission, included in the amount" }),
    }),
    z.strictObject({ kind: z.literal('order'), orderId: id }),
  ])
  .meta({ description: 'What a payment paid for: a deal of the marketplace, or an order of the ordering flow.' });
export type PaymentPurpose = z.infer<typeof paymentPurpose>;

/** What an accrual was for: the seller's side of a deal. */
export const accrualPurpose = z
  .strictObject({
    dealId: id,
    itemId: id,
    itemName: z.string(),
    commission: cents.meta({ description: "the seller's commission, already taken from the amount" }),
  })
  .meta({ description: "What an accrual was for: the seller's side of a deal." });
export type AccrualPurpose = z.infer<typeof accrualPurpose>;

/** Which operation of which user the broker's commission was charged on. */
export const commissionSource = z
  .strictObject({ fromUserId: id, kind: z.enum(['payment', 'accrual']), operationId: id, dealId: id })
  .meta({ description: "Which operation of which user the broker's commission was charged on." });
export type CommissionSource = z.infer<typeof commissionSource>;

/** Why a payment, and so a deal or a plain order, failed: a code; the letters and the API put it in words. */
export const failureReason = z.enum(['insufficient_funds']).meta({
  description:
    'Why a payment, and so a deal or a plain order, failed: `insufficient_funds` (the balance was below the amount).',
});
export type FailureReason = z.infer<typeof failureReason>;

/** The reason codes of the words version 1 events wrote. */
const reasonCodes: Readonly<Record<string, FailureReason>> = { 'not enough money': 'insufficient_funds' };

/** The code of a reason a version 1 event gave in words: words without a code are a fault to repair, never a guess. */
export function failureReasonOf(words: string): FailureReason {
  const code = reasonCodes[words];
  if (!code) throw new Error(`no failure reason code for the words ${JSON.stringify(words)}`);
  return code;
}

/** Why PaymentDeclined, DealFailed and OrderFailed moved to version 2. */
export const REASON_AS_CODE =
  "`reason` is a code (`insufficient_funds`) instead of the letter's words (`not enough money`): order tracking shows a failed order's reason through the API, where clients need a stable code, and the letters' wording can change without touching stored events. Upcast: the words of version 1 become their code.";

/** The fields of every event that moves money (or refuses to): the operation and how long its id is remembered. */
const operation = {
  accountId: id,
  userId: id,
  operationId: id.meta({ description: 'the same id never changes an account twice' }),
  amount: cents,
  memory: operationMemory.optional(),
};

export const accountOpened = EventType.first(
  'AccountOpened',
  z.strictObject({ accountId: id, userId: id, at: instant }),
);
export const moneyDeposited = EventType.first(
  'MoneyDeposited',
  z.strictObject({ ...operation, balance: cents, at: instant }),
);
export const moneyWithdrawn = EventType.first(
  'MoneyWithdrawn',
  z.strictObject({ ...operation, balance: cents, at: instant }),
);
export const paymentMade = EventType.first(
  'PaymentMade',
  z.strictObject({ ...operation, balance: cents, purpose: paymentPurpose, at: instant }),
);
export const paymentDeclined = EventType.first(
  'PaymentDeclined',
  z.strictObject({ ...operation, reason: z.literal('not enough money'), purpose: paymentPurpose, at: instant }),
).next(
  REASON_AS_CODE,
  z.strictObject({ ...operation, reason: failureReason, purpose: paymentPurpose, at: instant }),
  (v1) => ({ ...v1, reason: failureReasonOf(v1.reason) }),
);
export const accrualReceived = EventType.first(
  'AccrualReceived',
  z.strictObject({ ...operation, balance: cents, purpose: accrualPurpose, at: instant }),
);
export const commissionReceived = EventType.first(
  'CommissionReceived',
  z.strictObject({ ...operation, balance: cents, source: commissionSource, at: instant }),
);

export type AccountOpened = EventOf<typeof accountOpened>;
export type MoneyDeposited = EventOf<typeof moneyDeposited>;
export type MoneyWithdrawn = EventOf<typeof moneyWithdrawn>;
export type PaymentMade = EventOf<typeof paymentMade>;
export type PaymentDeclined = EventOf<typeof paymentDeclined>;
export type AccrualReceived = EventOf<typeof accrualReceived>;
export type CommissionReceived = EventOf<typeof commissionReceived>;

export type AccountEvent =
  | AccountOpened
  | MoneyDeposited
  | MoneyWithdrawn
  | PaymentMade
  | PaymentDeclined
  | AccrualReceived
  | CommissionReceived;

/** Every event of an account stream. */
export const accountEvents = [
  accountOpened,
  moneyDeposited,
  moneyWithdrawn,
  paymentMade,
  paymentDeclined,
  accrualReceived,
  commissionReceived,
] as const;

/** Every billing event type, for subscriptions and the event catalogue. */
export const accountEventTypes = accountEvents.map((e) => e.type) satisfies ReadonlyArray<AccountEvent['type']>;

export const accountStream = (userId: string) => `account-${userId}`;
export const ACCOUNT_STREAM_PREFIX = 'account-';
