/**
 * Notifications, stored (not e-mailed). The recipients' names are kept by this projection
 * itself, from the user events, so a letter reads the name the user had when it was
 * written and a rebuild produces the same letters. Each letter is indexed by its recipient,
 * so a forgotten user's letters (which carry their name) are deleted with the name.
 */
import type { UserEvent } from '../domain/identity/events.js';
import type { CustomerOrderEvent } from '../domain/ordering/events.js';
import type { DealCompleted, DealFailed } from '../domain/trading/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import { letters, type Recipient } from './notification-texts.js';
import type { EventHandler, ProjectionView } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { letterCounts, letterIndex, notifications, recipients } from './read-models/notifications.js';

type Relevant = UserEvent | DealCompleted | DealFailed | CustomerOrderEvent;

export const notificationsProjection: EventHandler = {
  name: 'notifications',
  filter: {
    eventTypePrefixes: [
      'UserRegistered',
      'UserProfileUpdated',
      'UserForgotten',
      'DealCompleted',
      'DealFailed',
      'OrderSucceeded',
      'OrderFailed',
    ],
  },
  collections: [notifications, recipients, letterCounts, letterIndex],
  async handle(recorded: RecordedEvent, view: ProjectionView): Promise<WriteOp[]> {
    // The filter above admits only these event types.
    const event = { type: recorded.type, data: recorded.data } as unknown as Relevant;
    const post = postFor(recorded, view);
    switch (event.type) {
      case 'UserRegistered':
      case 'UserProfileUpdated': {
        const { userId, firstName, lastName } = event.data;
        return [recipients.upsert(userId, { set: { firstName, lastName } })];
      }
      case 'UserForgotten':
        return forget(view, event.data.userId);
      case 'DealCompleted': {
        const d = event.data;
        return [
          ...(await post(d.sellerId, 'seller', d.at, (to) =>
            letters.sold(to, d.itemName, d.price, d.sellerCommission),
          )),
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
      default:
        return [];
    }
  },
};

/**
 * Writes a letter to a user, addressed by the name the projection knows for them, and
 * indexes it as the user's next letter. One document per event and role, so a replay
 * writes it once.
 */
type Post = (userId: string, role: string, at: string, letter: (to: Recipient) => string) => Promise<WriteOp[]>;

function postFor(recorded: RecordedEvent, view: ProjectionView): Post {
  const seq = sortablePosition(recorded.position);
  // Letters of one event to one user (none so far: a trader does not deal with themselves) each get their own number.
  const postedNow = new Map<string, number>();
  return async (userId, role, at, letter) => {
    const doc = await recipients.get(view, userId);
    const message = letter({ firstName: doc?.firstName ?? '', lastName: doc?.lastName ?? '' });
    const letterId = `${recorded.id}:${role}`;
    const before = postedNow.get(userId) ?? 0;
    postedNow.set(userId, before + 1);
    const written = (await letterCounts.get(view, userId))?.letters ?? 0;
    return [
      notifications.insert(letterId, { userId, message, createdAt: at, seq }),
      letterIndex.insert(`${userId}:${written + before}`, { letterId }),
      letterCounts.upsert(userId, { inc: { letters: 1 } }),
    ];
  };
}

/** A forgotten user's name and letters go (those written before letters were indexed stay until a rebuild). */
async function forget(view: ProjectionView, userId: string): Promise<WriteOp[]> {
  const written = (await letterCounts.get(view, userId))?.letters ?? 0;
  const ops: WriteOp[] = [letterCounts.delete(userId)];
  for (let n = 0; n < written; n++) {
    const indexed = await letterIndex.get(view, `${userId}:${n}`);
    if (indexed) ops.push(notifications.delete(indexed.letterId));
    ops.push(letterIndex.delete(`${userId}:${n}`));
  }
  ops.push(recipients.delete(userId));
  return ops;
}
