/** A user's balance (with the revision that is its ETag) and operation history, newest first. Amounts in cents. */
import { ACCOUNTS, OPERATIONS } from '../projections/billing.js';
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
  type: 'deposit' | 'withdraw' | 'payment' | 'accrual' | 'commission';
  amount: number;
  description: string;
  createdAt: string;
}

export async function getAccount(readStore: ReadStore, userId: string): Promise<AccountView | null> {
  const doc = await readStore.get(ACCOUNTS, userId);
  if (!doc) return null;
  return {
    id: String(doc.accountId),
    amount: Number(doc.amount),
    createdAt: String(doc.createdAt),
    updatedAt: String(doc.updatedAt),
    revision: Number(doc.revision),
  };
}

export async function listOperations(readStore: ReadStore, userId: string, page: Page) {
  const found = await readStore.find(OPERATIONS, {
    where: { userId },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  const items: OperationView[] = found.items.map((d) => ({
    id: d.id,
    type: d.type as OperationView['type'],
    amount: Number(d.amount),
    description: String(d.description),
    createdAt: String(d.createdAt),
  }));
  return { items, next: found.next };
}
