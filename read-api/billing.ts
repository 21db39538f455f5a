/** A user's balance (with the revision that is its ETag) and operation history, newest first. Amounts in cents. */
import { accounts, operations, type OperationType } from '../projections/read-models/billing.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export interface AccountView {
  id: string;
  amount: number;
  createdAt: string;
  updatedAt: string;
  /** Revision of the account stream: the ETag. */
  revision: number;
}

export interface OperationView {
  id: string;
  type: OperationType;
  amount: number;
  description: string;
  createdAt: string;
}

export async function getAccount(readStore: ReadStore, userId: string): Promise<AccountView | null> {
  const doc = await accounts.get(readStore, userId);
  if (!doc) return null;
  return {
    id: doc.accountId,
    amount: doc.amount,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    revision: doc.revision,
  };
}

export async function listOperations(readStore: ReadStore, userId: string, page: Page) {
  const found = await operations.find(readStore, {
    where: { userId },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  const items: OperationView[] = found.items.map((d) => ({
    id: d.id,
    type: d.type,
    amount: d.amount,
    description: d.description,
    createdAt: d.createdAt,
  }));
  return { items, next: found.next };
}
