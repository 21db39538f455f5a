/**
 * What the live stream sends: a user's letters and their orders' changes of status, in log
 * order, read from the notifications projection's documents. Entries of one event come
 * together (a deal's letter and its order's change), ranked: letters first, then order
 * changes, each by id — the same rank however they are read, so a stream resumes exactly
 * after the last entry a client received.
 */
import { notifications, orderUpdates, type OrderUpdateDoc } from '../projections/read-models/notifications.js';
import type { ReadStore, RangeCondition } from '../infra/eventsourcing/read-store/read-store.js';
import { toNotificationView, type NotificationView } from './notifications.js';

export type OrderUpdateView = Omit<OrderUpdateDoc, 'id' | 'userId' | 'seq'>;

export type FeedEntry =
  | { kind: 'notification'; userId: string; seq: string; data: NotificationView }
  | { kind: 'order'; userId: string; seq: string; data: OrderUpdateView };

/** A stretch of the feed: the entries with `after < seq <= upTo` (sortable positions), all of them or the first ones. */
export interface FeedRead {
  entries: FeedEntry[];
  /** Every entry up to here (inclusive) is in `entries`; `upTo` when all were. */
  reached: string;
}

/** Most documents of each collection one read takes. */
export const FEED_PAGE = 500;

/**
 * The entries after `after` (exclusive; null: from the start) up to `upTo` (inclusive), of one
 * user or of everyone, in log order; at most about `FEED_PAGE` of each kind, always whole events.
 */
export async function readFeed(
  readStore: ReadStore,
  span: { after: string | null; upTo: string; userId?: string; inclusive?: boolean },
): Promise<FeedRead> {
  const range: RangeCondition = { lte: span.upTo };
  if (span.after !== null) range[span.inclusive ? 'gte' : 'gt'] = span.after;
  const where = span.userId === undefined ? {} : { userId: span.userId };
  const inLogOrder = (bounds: RangeCondition) => ({
    where,
    range: bounds,
    sort: { fields: ['seq' as const], direction: 'asc' as const },
    limit: FEED_PAGE,
  });
  const letters = await notifications.find(readStore, inLogOrder(range));
  let reached = span.upTo;
  if (letters.next)
    reached = wholeEventsUpTo(
      letters.items.map((d) => d.seq),
      reached,
    );
  const orders = await orderUpdates.find(readStore, inLogOrder({ ...range, lte: reached }));
  if (orders.next)
    reached = wholeEventsUpTo(
      orders.items.map((d) => d.seq),
      reached,
    );
  const entries: FeedEntry[] = [
    ...letters.items
      .filter((d) => d.seq <= reached)
      .map((d): FeedEntry => ({ kind: 'notification', userId: d.userId, seq: d.seq, data: toNotificationView(d) })),
    ...orders.items
      .filter((d) => d.seq <= reached)
      .map((d): FeedEntry => {
        const { id: _id, userId, seq, ...data } = d;
        return { kind: 'order', userId, seq, data };
      }),
  ];
  // Stable: within one event, letters (read first) before order changes, each in id order.
  entries.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  return { entries, reached };
}

/**
 * Where a full page can be trusted to: up to the event before its last one (whose other
 * entries may be on the next page), unless the page holds that one event only.
 */
function wholeEventsUpTo(seqs: string[], upTo: string): string {
  const last = seqs[seqs.length - 1]!;
  const before = seqs.filter((s) => s < last);
  const bound = before.length > 0 ? before[before.length - 1]! : last;
  return bound < upTo ? bound : upTo;
}
