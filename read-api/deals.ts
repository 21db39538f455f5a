/** Deal history per user, and the statistics (last 7 days, top 10). Amounts in cents. */
import * as collections from '../projections/read-models/deals.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export async function listDeals(readStore: ReadStore, userId: string, page: Page) {
  const found = await collections.deals.find(readStore, {
    where: { userId },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  const items = found.items.map((d) => ({
    id: d.dealId,
    itemId: d.itemId,
    itemName: d.itemName,
    type: d.type,
    amount: d.amount,
    commission: d.commission,
    completedAt: d.completedAt,
  }));
  return { items, next: found.next };
}

/** The first UTC day of the last seven, today included. */
export function firstDayOfLastWeek(now: Date): string {
  return new Date(now.getTime() - 6 * 86_400_000).toISOString().slice(0, 10);
}

const WEEK_OF_ITEMS = 500;

export async function dailyItemStats(readStore: ReadStore, now: Date) {
  const found = await collections.dailyItemStats.find(readStore, {
    range: { gte: firstDayOfLastWeek(now) },
    sort: { fields: ['date', 'count'], direction: 'desc' },
    limit: WEEK_OF_ITEMS,
  });
  return found.items.map((d) => ({
    date: d.date,
    itemId: d.itemId,
    itemName: d.itemName,
    count: d.count,
    amount: d.amount,
  }));
}

export async function dailyTotals(readStore: ReadStore, now: Date) {
  const found = await collections.dailyTotals.find(readStore, {
    range: { gte: firstDayOfLastWeek(now) },
    sort: { fields: ['date'], direction: 'desc' },
    limit: 7,
  });
  return found.items.map((d) => ({ date: d.date, count: d.count, amount: d.amount }));
}

export async function topItems(readStore: ReadStore) {
  const found = await collections.itemTotals.find(readStore, {
    sort: { fields: ['count', 'amount'], direction: 'desc' },
    limit: 10,
  });
  return found.items.map((d) => ({
    itemId: d.id,
    itemName: d.itemName,
    count: d.count,
    amount: d.amount,
  }));
}
