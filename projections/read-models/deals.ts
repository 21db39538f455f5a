/** The collections of completed deals: each side's history (history projection) and the statistics (statistics projection). */
import type { Cents } from '../../domain/money.js';
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** One side of a completed deal, by `<dealId>:<type>`: a purchase for the buyer, a sale for the seller. */
export type DealDoc = {
  id: string;
  userId: string;
  dealId: string;
  itemId: string;
  itemName: string;
  type: 'purchase' | 'sale';
  amount: Cents;
  commission: Cents;
  completedAt: string;
  /** The event's position (sortable). */
  seq: string;
};

/** Deals of one item on one UTC day, by `<date>:<itemId>`. */
export type DailyItemStatsDoc = {
  id: string;
  date: string;
  itemId: string;
  itemName: string;
  count: number;
  amount: Cents;
};

/** Deals of one UTC day, by date (`YYYY-MM-DD`). */
export type DailyTotalsDoc = {
  id: string;
  date: string;
  count: number;
  amount: Cents;
};

/** Deals of one item ever, by item id. */
export type ItemTotalsDoc = {
  id: string;
  itemName: string;
  count: number;
  amount: Cents;
};

export const deals = collection<DealDoc>('deals', [{ equal: ['userId'], sort: ['seq'] }]);

export const dailyItemStats = collection<DailyItemStatsDoc>('daily_item_stats', [
  { equal: [], sort: ['date', 'count'] },
]);

export const dailyTotals = collection<DailyTotalsDoc>('daily_totals', [{ equal: [], sort: ['date'] }]);

export const itemTotals = collection<ItemTotalsDoc>('item_totals', [{ equal: [], sort: ['count', 'amount'] }]);
