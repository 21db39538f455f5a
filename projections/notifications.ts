/**
 * Notifications, stored (not e-mailed). The recipients' names are kept by this projection
 * itself, from the user events, so a letter reads the name the user had when it was
 * written and a rebuild produces the same letters. It also counts each user's unread
 * letters (a letter is unread until its user marks it read: `NotificationRead`), and
 * records the changes of status of every trader's orders that the live stream sends.
 * Each letter is indexed by its recipient, so a forgotten user's letters (which carry their
 * name) are deleted with the name.
 */
import type { UserEvent } from '../domain/identity/events.js';
import type { NotificationRead } from '../domain/notifications/events.js';
import type { CustomerOrderEvent } from '../domain/ordering/events.js';
import type { DealCompleted, DealFailed, DealOpened, OrderCanceled } from '../domain/trading/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import { letters, type Recipient } from './notification-texts.js';
import type { EventHandler, ProjectionView } from '../infra/eventsourcing/subscriptions/event-handler.js';
import {
  letterCounts,
  letterIndex,
  notifications,
  orderUpdates,
  recipients,
  unreadCounts,
  type OrderUpdateDoc,
} from './read-models/notifications.js';

type Relevant = UserEvent | DealCompleted | DealFailed | CustomerOrderEvent | NotificationRead;
type OrderChange = DealOpened | DealCompleted | DealFailed | OrderCanceled;

export const notificationsProjection: EventHandler = {
  name: 'notifications',
  filter: {
    eventTypePrefixes: [
      'UserRegistered',
      'UserProfileUpdated',
      'DealOpened',
      'UserForgotten',
      'DealCompleted',
      'DealFailed',
      'OrderCanceled',
      'OrderSucceeded',
      'OrderFailed',
      'NotificationRead',
    ],
  },
  collections: [notifications, recipients, unreadCounts, orderUpdates, letterCounts, letterIndex],
  async handle(recorded: RecordedEvent, view: ProjectionView): Promise<WriteOp[]> {
    // The filter above admits only these event types.
    const event = { type: recorded.type, data: recorded.data } as unknown as Relevant | OrderChange;
    return [...(await lettersFor(event, recorded, view)), ...orderChanges(event, recorded)];
  },
};

async function lettersFor(event: Relevant | OrderChange, recorded: RecordedEvent, view: ProjectionView) {
  const post = postFor(recorded, view);
  switch (event.type) {
    case 'UserRegistered':
    case 'UserProfileUpdated': {
      const { userId, firstName, lastName } = event.data;
      return [recipients.upsert(userId, { set: { firstName, lastName } })];
    }
    case 'DealCompleted': {
      const d = event.data;
      return [
        ...(await post(d.sellerId, 'seller', d.at, (to) => letters.sold(to, d.itemName, d.price, d.sellerCommission))),
        ...(await post(d.buyerId, 'buyer', d.at, (to) => letters.bought(to, d.itemName, d.price, d.buyerCommission))),
      ];
    }
    case 'DealFailed': {
      const d = event.data;
      return post(d.buyerId, 'buyer', d.at, (to) => letters.purchaseFailed(to, d.itemName, d.price, d.reason));
    }
    case 'OrderSucceeded': {
      const { userId, price, at } = event.data;
      return post(userId, 'customer', at, (to) => letters.orderProcessed(to, price));
    }
    case 'OrderFailed': {
      const { userId, price, reason, at } = event.data;
      return post(userId, 'customer', at, (to) => letters.orderNotFulfilled(to, price, reason));
    }
    case 'NotificationRead':
      return markedRead(event.data, view);
    case 'UserForgotten':
      return forget(view, event.data.userId);
    default:
      return [];
  }
}

/**
 * Writes a letter to a user, addressed by the name the projection knows for them, counts
 * it unread and indexes it as the user's next letter. One document per event and role, so a
 * replay writes it once.
 */
type Post = (userId: string, role: string, at: string, letter: (to: Recipient) => string) => Promise<WriteOp[]>;

function postFor(recorded: RecordedEvent, view: ProjectionView): Post {
  const seq = sortablePosition(recorded.position);
  // Letters of one event to one user (none so far: a trader does not deal with themselves) each get their own number.
  const postedNow = new Map<string, number>();
  return async (userId, role, at, letter) => {
    const message = letter(await recipientOf(view, userId));
    const letterId = `${recorded.id}:${role}`;
    const before = postedNow.get(userId) ?? 0;
    postedNow.set(userId, before + 1);
    const written = (await letterCounts.get(view, userId))?.letters ?? 0;
    return [
      notifications.insert(letterId, { userId, message, createdAt: at, seq }),
      unreadCounts.upsert(userId, { inc: { unread: 1 } }),
      letterIndex.insert(`${userId}:${written + before}`, { letterId }),
      letterCounts.upsert(userId, { inc: { letters: 1 } }),
    ];
  };
}

/** A letter of the user's, unread until now: read, and one fewer unread. Anything else changes nothing. */
async function markedRead(read: NotificationRead['data'], view: ProjectionView): Promise<WriteOp[]> {
  const letter = await notifications.get(view, read.notificationId);
  if (!letter || letter.userId !== read.userId || (letter.readAt ?? null) !== null) return [];
  return [
    notifications.update(letter.id, { set: { readAt: read.at } }),
    unreadCounts.upsert(read.userId, { inc: { unread: -1 } }),
  ];
}

/** The name the user has as of this event (kept from the user events): what a letter is addressed to. */
async function recipientOf(view: ProjectionView, userId: string): Promise<Recipient> {
  const doc = await recipients.get(view, userId);
  return { firstName: doc?.firstName ?? '', lastName: doc?.lastName ?? '' };
}

/** A forgotten user's name and letters go (those written before letters were indexed stay until a rebuild). */
async function forget(view: ProjectionView, userId: string): Promise<WriteOp[]> {
  const written = (await letterCounts.get(view, userId))?.letters ?? 0;
  const ops: WriteOp[] = [letterCounts.delete(userId), unreadCounts.delete(userId)];
  for (let n = 0; n < written; n++) {
    const indexed = await letterIndex.get(view, `${userId}:${n}`);
    if (indexed) ops.push(notifications.delete(indexed.letterId));
    ops.push(letterIndex.delete(`${userId}:${n}`));
  }
  ops.push(recipients.delete(userId));
  return ops;
}

type Change = Omit<OrderUpdateDoc, 'id' | 'seq' | 'at'>;

/** The changes of status a trader acts on: matched, approved, failed, canceled (one document per event and order). */
function orderChanges(event: Relevant | OrderChange, recorded: RecordedEvent): WriteOp[] {
  const changes = changesOf(event);
  const seq = sortablePosition(recorded.position);
  return changes.map((change) => {
    const at = (event.data as { at: string }).at;
    return orderUpdates.insert(`${recorded.id}:${change.orderId}`, { ...change, at, seq });
  });
}

function changesOf(event: Relevant | OrderChange): Change[] {
  switch (event.type) {
    case 'DealOpened':
    case 'DealCompleted': {
      const d = event.data;
      const [buying, selling] =
        event.type === 'DealOpened' ? ['paymentPending', 'dealPending'] : ['approved', 'approved'];
      const deal = { itemId: d.itemId, dealId: d.dealId, price: d.price, reason: null };
      return [
        {
          ...deal,
          userId: d.buyerId,
          orderId: d.purchaseOrderId,
          side: 'purchase',
          status: buying as Change['status'],
        },
        { ...deal, userId: d.sellerId, orderId: d.sellOrderId, side: 'sell', status: selling as Change['status'] },
      ];
    }
    case 'DealFailed': {
      const d = event.data;
      const { itemId, dealId, price, reason } = d;
      return [
        {
          userId: d.buyerId,
          orderId: d.purchaseOrderId,
          side: 'purchase',
          itemId,
          status: 'paymentFailed',
          dealId,
          price,
          reason,
        },
      ];
    }
    case 'OrderCanceled': {
      const { ownerId, orderId, side, itemId } = event.data;
      return [{ userId: ownerId, orderId, side, itemId, status: 'canceled', dealId: null, price: null, reason: null }];
    }
    default:
      return [];
  }
}
