/** Deal history per user, and the statistics (last 7 days, top 10). Amounts in cents. */
import { DAILY_ITEM_STATS, DAILY_TOTALS, DEALS, ITEM_TOTALS } from '../projections/deals.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export async function listDeals(readStore: ReadStore, userId: string, page: Page) {
  const found = await readStore.find(DEALS, {
    where: { userId },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  const items = found.items.map((d) => ({
    id: String(d.dealId),
    itemId: String(d.itemId),
    itemName: String(d.itemName),
    type: String(d.type),
    amount: Number(d.amount),
    commission: Number(d.commission),
    completedAt: String(d.completedAt),
  }));
  return { items, next: found.next };
}

/** The first UTC day of the last seven, today included. */
export function firstDayOfLastWeek(now: Date): string {
  return new Date(now.getTime() - 6 * 86_400_000).toISOString().slice(0, 10);
}

const WEEK_OF_ITEMS = 500;

export async function dailyItemStats(readStore: ReadStore, now: Date) {
  const found = await readStore.find(DAILY_ITEM_STATS, {
    range: { gte: firstDayOfLastWeek(now) },
    sort: { fields: ['date', 'count'], direction: 'desc' },
    limit: WEEK_OF_ITEMS,
  });
  return found.items.map((d) => ({
    date: String(d.date),
    itemId: String(d.itemId),
    itemName: String(d.itemName),
    count: Number(d.count),
    amount: Number(d.amount),
  }));
}

export async function dailyTotals(readStore: ReadStore, now: Date) {
  const found = await readStore.find(DAILY_TOTALS, {
    range: { gte: firstDayOfLastWeek(now) },
    sort: { fields: ['date'], direction: 'desc' },
    limit: 7,
  });
  return found.items.map((d) => ({ date: String(d.date), count: Number(d.count), amount: Number(d.amount) }));
}

export async function topItems(readStore: ReadStore) {
  const found = await readStore.find(ITEM_TOTALS, {
    sort: { fields: ['count', 'amount'], direction: 'desc' },
    limit: 10,
  });
  return found.items.map((d) => ({
    itemId: d.id,
    itemName: String(d.itemName),
    count: Number(d.count),
    amount: Number(d.amount),
  }));
}
