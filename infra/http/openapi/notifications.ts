/** Notifications: the caller's letters, read or not, and the live stream of letters and order changes. */
import * as z from 'zod';
import { messages } from '../../../domain/messages.js';
import { httpMessages } from '../messages.js';
import {
  notification,
  notificationPath,
  notificationsQuery,
  streamQuery,
  streamResumePoint,
  streamTicket,
  unreadCountBody,
} from '../schemas/notifications.js';
import { quoted, type Operation } from './operation.js';

const tag = 'notifications';

const streamDescription = `Server-Sent Events (\`text/event-stream\`) of the caller's new letters (\`event: notification\`, \`data\`: a Notification) and changes of status of their orders (\`event: order\`, \`data\`: an OrderUpdate — matched, approved, payment failed, canceled), in the order they happened.

- **\`id\`** is the position in the event store of the event behind the entry, and its rank among the caller's entries of that event: \`<position>/<n>\`. Reconnecting with \`Last-Event-ID\` (what an \`EventSource\` sends by itself) or \`?after=\` (such an id, or a position: everything after that event) resumes with nothing lost and nothing repeated; without either, the stream sends what happens from now on.
- **Heartbeats**: a comment line (\`: heartbeat\`) when nothing was sent for \`STREAM_HEARTBEAT_SECONDS\` (15).
- **A slow client** is disconnected once more than \`STREAM_BUFFER_KB\` (256 KiB) waits for it; it reconnects with its \`Last-Event-ID\`.
- **From a browser**: \`EventSource\` cannot send \`Authorization\`; open it with \`?ticket=\` from \`POST /api/v1/notifications/stream-tickets\` (single use, 60 s). A ticket opens one connection: to reconnect, get a new ticket and pass the last \`id\` received as \`?after=\`.
- Any API process serves it: each follows the read store.`;

export const notificationOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/notifications',
    operationId: 'notifications',
    tag,
    summary: "The caller's letters, newest first",
    audience: 'signed-in',
    list: true,
    queryParameters: notificationsQuery,
    answers: [{ status: 200, description: 'A page of notifications.', body: z.array(notification), headers: ['Link'] }],
    refusals: { 422: ["`violation at 'unread': …`: `unread` is neither `true` nor `false`"] },
  },
  {
    method: 'get',
    path: '/api/v1/notifications/unread-count',
    operationId: 'unreadNotificationCount',
    tag,
    summary: "How many of the caller's letters are unread",
    audience: 'signed-in',
    answers: [{ status: 200, description: 'The count.', body: unreadCountBody }],
  },
  {
    method: 'post',
    path: '/api/v1/notifications/{id}/read',
    operationId: 'markNotificationRead',
    tag,
    summary: 'Mark one of the caller’s letters read',
    description: 'Marking a letter read again changes nothing (204, no `X-Event-Position`).',
    audience: 'signed-in',
    pathParameters: notificationPath,
    command: true,
    answers: [{ status: 204, description: 'Read.', headers: ['X-Event-Position'] }],
    refusals: {
      403: [`${quoted(messages.operationDenied)}: another user's letter`],
      404: [`${quoted(messages.notFound)}: no such letter (or not projected yet)`],
    },
  },
  {
    method: 'post',
    path: '/api/v1/notifications/stream-tickets',
    operationId: 'streamTicket',
    tag,
    summary: 'A single-use ticket opening the live stream (for a browser’s EventSource)',
    audience: 'signed-in',
    answers: [{ status: 201, description: 'The ticket, valid for one stream within 60 s.', body: streamTicket }],
  },
  {
    method: 'get',
    path: '/api/v1/notifications/stream',
    operationId: 'notificationStream',
    tag,
    summary: "Live: the caller's new letters and order changes (Server-Sent Events)",
    description: streamDescription,
    audience: 'signed-in',
    queryParameters: streamQuery,
    headerParameters: z.strictObject({ 'Last-Event-ID': streamResumePoint.optional() }),
    answers: [
      { status: 200, description: 'The stream, open until either side closes it.', media: ['text/event-stream'] },
    ],
    refusals: {
      401: [`${quoted(httpMessages.ticketInvalid)}`],
      422: [
        "`violation at 'after': …`: `after` (or `Last-Event-ID`) is no position and no id of the stream",
        "`violation at 'ticket': …`",
      ],
    },
  },
];
