import type { DomainEvent } from '../decider.js';
import type { Cents } from '../money.js';
import type { OperationMemory } from '../operation-memory.js';

/** What a payment paid for: a deal of the marketplace, or an order of the ordering flow. */
export type PaymentPurpose =
  | { kind: 'deal'; dealId: string; itemId: string; itemName: string; commission: Cents }
  | { kind: 'order'; orderId: string };

/** What an accrual was for: the seller's side of a deal. */
export interface AccrualPurpose {
  dealId: string;
  itemId: string;
  itemName: string;
  commission: Cents;
}

/** Which operation of which user the broker's commission was charged on. */
export interface CommissionSource {
  fromUserId: string;
  kind: 'payment' | 'accrual';
  operationId: string;
  dealId: string;
}

export type AccountOpened = DomainEvent<'AccountOpened', { accountId: string; userId: string; at: string }>;
export type MoneyDeposited = DomainEvent<'MoneyDeposited', { accountId: string; userId: string; operationId: string; amount: Cents; memory?: OperationMemory; balance: Cents; at: string }>;
export type MoneyWithdrawn = DomainEvent<'MoneyWithdrawn', { accountId: string; userId: string; operationId: string; amount: Cents; memory?: OperationMemory; balance: Cents; at: string }>;
export type PaymentMade = DomainEvent<'PaymentMade', { accountId: string; userId: string; operationId: string; amount: Cents; memory?: OperationMemory; balance: Cents; purpose: PaymentPurpose; at: string }>;
export type PaymentDeclined = DomainEvent<'PaymentDeclined', { accountId: string; userId: string; operationId: string; amount: Cents; memory?: OperationMemory; reason: 'not enough money'; purpose: PaymentPurpose; at: string }>;
export type AccrualReceived = DomainEvent<'AccrualReceived', { accountId: string; userId: string; operationId: string; amount: Cents; memory?: OperationMemory; balance: Cents; purpose: AccrualPurpose; at: string }>;
export type CommissionReceived = DomainEvent<'CommissionReceived', { accountId: string; userId: string; operationId: string; amount: Cents; memory?: OperationMemory; balance: Cents; source: CommissionSource; at: string }>;

export type AccountEvent = AccountOpened | MoneyDeposited | MoneyWithdrawn | PaymentMade | PaymentDeclined | AccrualReceived | CommissionReceived;

/** Every billing event type, for subscriptions and the event catalogue. */
export const accountEventTypes = [
  'AccountOpened',
  'MoneyDeposited',
  'MoneyWithdrawn',
  'PaymentMade',
  'PaymentDeclined',
  'AccrualReceived',
  'CommissionReceived',
] as const satisfies ReadonlyArray<AccountEvent['type']>;

export const accountStream = (userId: string) => `account-${userId}`;
export const ACCOUNT_STREAM_PREFIX = 'account-';
