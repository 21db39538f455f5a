/** The billing projection's collections: balances, and each user's operation history. */
import type { Cents } from '../../domain/money.js';
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** A user's balance, by user id; `revision` is the account stream's (the ETag clients send back as If-Match). */
export type AccountDoc = {
  id: string;
  accountId: string;
  userId: string;
  amount: Cents;
  revision: number;
  createdAt: string;
  updatedAt: string;
};

export type OperationType = 'deposit' | 'withdraw' | 'payment' | 'accrual' | 'commission';

/** One movement of money, by operation id. */
export type OperationDoc = {
  id: string;
  userId: string;
  type: OperationType;
  amount: Cents;
  description: string;
  createdAt: string;
  /** The event's position (sortable): orders operations exactly as they happened, even within one millisecond. */
  seq: string;
};

export const accounts = collection<AccountDoc>('accounts');

export const operations = collection<OperationDoc>('operations', [{ equal: ['userId'], sort: ['seq'] }]);
