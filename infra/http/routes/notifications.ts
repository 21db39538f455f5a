/**
 * The caller's letters: the list (all, or the unread ones), the unread count, marking one
 * read, and the live stream of new letters and order changes (Server-Sent Events), opened
 * with a bearer token or, from a browser's `EventSource`, with a single-use stream ticket.
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { markNotificationRead } from '../../../command-handlers/notifications.js';
import { findNotification, listNotifications, unreadCount } from '../../../read-api/notifications.js';
import { parsePosition, sortablePosition } from '../../eventsourcing/event-store/position.js';
import { authenticate, type AuthState, type SignedOutTokens } from '../auth.js';
import { HttpError } from '../errors.js';
import { pageOf } from '../lists.js';
import type { FeedPoint } from '../live/event-stream.js';
import type { LiveFeed } from '../live/live-feed.js';
import type { StreamTickets } from '../live/stream-tickets.js';
import { httpMessages } from '../messages.js';
import { announcePosition } from '../read-your-writes.js';
import {
  notificationPath,
  notificationsQuery,
  streamQuery,
  type Notification,
  type StreamTicket,
  type UnreadCountBody,
} from '../schemas/notifications.js';
import { validate } from '../validation.js';
import { metadataOf, type ApiServices } from './context.js';

export function notificationRoutes(services: ApiServices, tickets: StreamTickets): Router<AuthState> {
  const router = new Router<AuthState>();
  router.get('/api/v1/notifications', async (ctx) => {
    const page = pageOf(ctx);
    const unread = validate(notificationsQuery, ctx.query).unread === 'true';
    const { items, next } = await listNotifications(services.readStore, ctx.state.caller.userId, page, { unread });
    if (next) {
      const params = new URLSearchParams({
        limit: String(page.limit),
        cursor: next,
        ...(unread ? { unread: 'true' } : {}),
      });
      ctx.set('Link', `<${ctx.path}?${params.toString()}>; rel="next"`);
    }
    ctx.body = items satisfies Notification[];
  });
  router.get('/api/v1/notifications/unread-count', async (ctx) => {
    ctx.body = { unread: await unreadCount(services.readStore, ctx.state.caller.userId) } satisfies UnreadCountBody;
  });
  router.post('/api/v1/notifications/stream-tickets', async (ctx) => {
    const { ticket, expiresAt } = await tickets.issue(ctx.state.caller.userId);
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ticket, expiresAt: expiresAt.toISOString() } satisfies StreamTicket;
  });
  router.post('/api/v1/notifications/:id/read', async (ctx) => {
    const { id } = validate(notificationPath, ctx.params);
    const userId = ctx.state.caller.userId;
    const letter = await findNotification(services.readStore, id);
    if (!letter) throw new HttpError(404, httpMessages.notFound);
    if (letter.userId !== userId) throw new HttpError(403, httpMessages.operationDenied);
    // Read already: nothing to record (a repeat, or another tab's).
    if (!letter.read) {
      const { position } = await markNotificationRead(services, { userId, notificationId: id }, metadataOf(ctx));
      announcePosition(ctx, position);
    }
    ctx.status = 204;
  });
  return router;
}

export interface LiveStreamParts {
  feed: LiveFeed;
  tickets: StreamTickets;
  tokens: Parameters<typeof authenticate>[0];
  signedOut: SignedOutTokens;
  /** Waits for `X-Event-Position`/`?minPosition=` like every other query, once the caller is known. */
  readYourWrites: Middleware;
}

/** `GET /api/v1/notifications/stream`: mounted before the bearer-only routes, since a ticket opens it too. */
export function liveStreamRoutes(parts: LiveStreamParts): Router<AuthState> {
  const router = new Router<AuthState>();
  router.get('/api/v1/notifications/stream', ticketOrBearer(parts), parts.readYourWrites, async (ctx) => {
    const after = resumePointOf(ctx);
    const userId = ctx.state.caller.userId;
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    // The stream is written to the socket as it goes: Koa does not answer this request.
    ctx.respond = false;
    ctx.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    try {
      await parts.feed.attach(userId, ctx.res, after);
    } catch (error) {
      // The store failed during the replay: the client reconnects and resumes where it got to.
      ctx.res.destroy();
      ctx.app.emit('error', error, ctx);
    }
  });
  return router;
}

function ticketOrBearer(parts: LiveStreamParts): Middleware<AuthState> {
  const bearer = authenticate(parts.tokens, parts.signedOut);
  return async (ctx, next) => {
    const { ticket } = validate(streamQuery, ctx.query);
    if (ticket === undefined) return bearer(ctx, next);
    const userId = await parts.tickets.redeem(ticket);
    if (userId === null) throw new HttpError(401, httpMessages.ticketInvalid, { 'WWW-Authenticate': 'Bearer' });
    // A ticket names its user only; the stream reads nothing else of the caller.
    ctx.state.caller = { userId } as AuthState['caller'];
    await next();
  };
}

/** Where the stream resumes: `Last-Event-ID` (what an `EventSource` sends when it reconnects), else `?after=`. */
function resumePointOf(ctx: Context): FeedPoint | null {
  const header = ctx.get('last-event-id');
  const { after } = validate(streamQuery, { after: header === '' ? ctx.query.after : header });
  if (after === undefined) return null;
  const [position, rank] = after.split('/');
  return { seq: sortablePosition(parsePosition(position!)!), rank: rank === undefined ? null : Number(rank) };
}
