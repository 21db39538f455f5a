/** The events of a user's inbox (what they did with their letters), declared once (see domain/event-schema.ts). */
import * as z from 'zod';
import { EventType, id, instant, type EventOf } from '../event-schema.js';

export const notificationRead = EventType.first(
  'NotificationRead',
  z.strictObject({ userId: id, notificationId: id, at: instant }).meta({
    description:
      'The user marked one of their letters read (the letters themselves are written by the notifications projection, not recorded as events).',
  }),
);

export type NotificationRead = EventOf<typeof notificationRead>;
export type InboxEvent = NotificationRead;

/** Every event of an inbox stream. */
export const inboxEvents = [notificationRead] as const;

/** One stream per user: what they marked read. */
export const inboxStream = (userId: string) => `inbox-${userId}`;
export const INBOX_STREAM_PREFIX = 'inbox-';
