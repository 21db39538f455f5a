/**
 * The notifications projection's collections: the letters, the names it writes them to (with
 * each user's count of unread letters), and the changes of status of each trader's orders —
 * what the live stream (`GET /notifications/stream`) sends besides the letters.
 */
import type { Cents } from '../../domain/money.js';
import type { Side } from '../../domain/trading/events.js';
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** A letter, by `<eventId>:<role of the recipient>`. */
export type NotificationDoc = {
  id: string;
  userId: string;
  message: string;
  createdAt: string;
  /** The event's position (sortable). */
  seq: string;
  /** When the user marked it read; null (or absent, in a letter written before letters could be read) while unread. */
  readAt?: string | null;
};

/** The name a user has at this point of the log, by user id (kept by the projection itself, so a rebuild writes the same letters). */
export type RecipientDoc = {
  id: string;
  firstName: string;
  lastName: string;
};

/** How many of a user's letters are unread, by user id (absent before their first letter). */
export type UnreadCountDoc = {
  id: string;
  unread: number;
};

/** What an order's status changed to, by `<eventId>:<orderId>`. */
export type OrderUpdateDoc = {
  id: string;
  userId: string;
  orderId: string;
  side: Side;
  itemId: string;
  status: 'paymentPending' | 'dealPending' | 'approved' | 'paymentFailed' | 'canceled';
  /** The deal the order is in (null for a cancel). */
  dealId: string | null;
  /** The deal's price (null for a cancel). */
  price: Cents | null;
  /** Why it failed (`paymentFailed`), else null. */
  reason: string | null;
  at: string;
  /** The event's position (sortable). */
  seq: string;
};

/** How many letters were written to a user since letters were indexed (`LetterIndexDoc`), by user id. */
export type LetterCountDoc = {
  id: string;
  letters: number;
};

/**
 * The `n`-th letter written to a user, by `<userId>:<n>`: what finds a user's letters when the
 * user is forgotten, so they are deleted with the name they carry.
 */
export type LetterIndexDoc = {
  id: string;
  letterId: string;
};

export const notifications = collection<NotificationDoc>('notifications', [
  { equal: ['userId'], sort: ['seq'] },
  { equal: ['userId', 'readAt'], sort: ['seq'] },
  // Every letter in log order: what each API process's live stream follows.
  { equal: [], sort: ['seq'] },
]);

export const recipients = collection<RecipientDoc>('notification_recipients');

export const unreadCounts = collection<UnreadCountDoc>('notification_unread_counts');

export const orderUpdates = collection<OrderUpdateDoc>('order_updates', [
  { equal: ['userId'], sort: ['seq'] },
  { equal: [], sort: ['seq'] },
]);

export const letterCounts = collection<LetterCountDoc>('notification_letter_counts');
export const letterIndex = collection<LetterIndexDoc>('notification_letter_index');
