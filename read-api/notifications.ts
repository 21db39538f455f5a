/** A user's letters (all, or the unread ones), their unread count, and one letter by id. */
import { notifications, unreadCounts, type NotificationDoc } from '../projections/read-models/notifications.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export interface NotificationView {
  id: string;
  message: string;
  createdAt: string;
  read: boolean;
}

export function toNotificationView(d: NotificationDoc): NotificationView {
  return { id: d.id, message: d.message, createdAt: d.createdAt, read: (d.readAt ?? null) !== null };
}

export async function listNotifications(readStore: ReadStore, userId: string, page: Page, only: { unread: boolean }) {
  const found = await notifications.find(readStore, {
    // A letter written before letters could be read has no `readAt`: null matches it too (unread).
    where: only.unread ? { userId, readAt: null } : { userId },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  return { items: found.items.map(toNotificationView), next: found.next };
}

/** How many of the user's letters are unread. */
export async function unreadCount(readStore: ReadStore, userId: string): Promise<number> {
  const doc = await unreadCounts.get(readStore, userId);
  // Letters read that were written before they were counted would take it below zero (see README, "Notifications").
  return Math.max(0, doc?.unread ?? 0);
}

/** The letter, with its owner; null when there is none. */
export async function findNotification(readStore: ReadStore, id: string) {
  const doc = await notifications.get(readStore, id);
  return doc ? { ...toNotificationView(doc), userId: doc.userId } : null;
}
