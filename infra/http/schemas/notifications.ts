/** Notifications: the letters (read or not), their unread count, stream tickets and what the live stream sends. */
import * as z from 'zod';
import { count, moneyAmount, timestamp } from './common.js';

export const notification = z
  .strictObject({
    id: z.string(),
    message: z.string(),
    createdAt: timestamp,
    read: z.boolean().meta({ description: 'whether the user marked it read (`POST /notifications/{id}/read`)' }),
  })
  .meta({ description: 'A letter to the user.' });
export type Notification = z.infer<typeof notification>;

export const notificationsQuery = z.looseObject({
  unread: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: '`true`: only the letters not marked read yet (default `false`: all)' }),
});

/** A letter's id: `<event id>:<role>` (a uuid and a word). */
export const notificationPath = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._~:-]+$/)
    .meta({ description: 'the letter id (letters, digits, `.`, `-`, `_`, `~`, `:`; at most 128)' }),
});

export const unreadCountBody = z
  .strictObject({ unread: count.meta({ description: 'how many of the caller’s letters are not marked read' }) })
  .meta({ description: 'The caller’s unread letters, counted.' });
export type UnreadCountBody = z.infer<typeof unreadCountBody>;

export const streamTicket = z
  .strictObject({
    ticket: z.string().meta({ description: 'give it as `?ticket=` to `GET /api/v1/notifications/stream`, once' }),
    expiresAt: timestamp,
  })
  .meta({ description: 'A short-lived, single-use ticket opening one live stream (for a browser’s `EventSource`).' });
export type StreamTicket = z.infer<typeof streamTicket>;

/** Where a stream resumes: a position (everything after that event) or an event id it sent (`<position>/<n>`). */
export const streamResumePoint = z
  .string()
  .regex(/^\d{1,20}(?:-\d{1,20})?(?:\/\d{1,3})?$/)
  .meta({
    description:
      'resume after this: an `id` the stream sent (`<position>/<n>`), or a position (`X-Event-Position`: everything after that event)',
  });

export const streamQuery = z.looseObject({
  ticket: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .meta({ description: 'a ticket from `POST /api/v1/notifications/stream-tickets` (instead of a bearer token)' }),
  after: streamResumePoint.optional(),
});

export const orderUpdate = z
  .strictObject({
    orderId: z.string(),
    side: z.enum(['purchase', 'sell']),
    itemId: z.string(),
    status: z.enum(['paymentPending', 'dealPending', 'approved', 'paymentFailed', 'canceled']),
    dealId: z.string().nullable(),
    price: moneyAmount.nullable().meta({ description: 'the deal’s price (null for a cancel)' }),
    reason: z.string().nullable().meta({ description: 'why it failed (`insufficient_funds`), else null' }),
    at: timestamp,
  })
  .meta({ description: 'An order of the caller’s changed status (the `data` of a stream event `order`).' });
export type OrderUpdate = z.infer<typeof orderUpdate>;
