/**
 * Notifications, stored (not e-mailed). The recipients' names are kept by this projection
 * itself, from the user events, so a letter reads the name the user had when it was
 * written and a rebuild produces the same letters.
 */
import type { UserEvent } from '../domain/identity/events.js';
import type { CustomerOrderEvent } from '../domain/ordering/events.js';
import type { DealCompleted, DealFailed } from '../domain/trading/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import { letters, type Recipient } from './notification-texts.js';
import type { EventHandler, ProjectionView } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { notifications, recipients } from './read-models/notifications.js';

type Relevant = UserEvent | DealCompleted | DealFailed | CustomerOrderEvent;

export const notificationsProjection: EventHandler = {
  name: 'notifications',
  filter: {
    eventTypePrefixes: [
      'UserRegistered',
      'UserProfileUpdated',
      'DealCompleted',
      'DealFailed',
      'OrderSucceeded',
      'OrderFailed',
    ],
  },
  collections: [notifications, recipients],
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
      case 'DealCompleted': {
        const d = event.data;
        return [
          await post(d.sellerId, 'seller', d.at, (to) => letters.sold(to, d.itemName, d.price, d.sellerCommission)),
          await post(d.buyerId, 'buyer', d.at, (to) => letters.bought(to, d.itemName, d.price, d.buyerCommission)),
        ];
      }
      case 'DealFailed': {
        const d = event.data;
        return [
          await post(d.buyerId, 'buyer', d.at, (to) => letters.purchaseFailed(to, d.itemName, d.price, d.reason)),
        ];
      }
      case 'OrderSucceeded': {
        const { userId, price, at } = event.data;
        return [await post(userId, 'customer', at, (to) => letters.orderProcessed(to, price))];
      }
      case 'OrderFailed': {
        const { userId, price, reason, at } = event.data;
        return [await post(userId, 'customer', at, (to) => letters.orderNotFulfilled(to, price, reason))];
      }
      default:
        return [];
    }
  },
};

/**
 * Writes a letter to a user, addressed by the name the projection knows for them. One
 * document per event and role, so a replay writes it once.
 */
type Post = (userId: string, role: string, at: string, letter: (to: Recipient) => string) => Promise<WriteOp>;

function postFor(recorded: RecordedEvent, view: ProjectionView): Post {
  const seq = sortablePosition(recorded.position);
  return async (userId, role, at, letter) => {
    const message = letter(await recipientOf(view, userId));
    return notifications.insert(`${recorded.id}:${role}`, { userId, message, createdAt: at, seq });
  };
}

/** The name the user has as of this event (kept from the user events): what a letter is addressed to. */
async function recipientOf(view: ProjectionView, userId: string): Promise<Recipient> {
  const doc = await recipients.get(view, userId);
  return { firstName: doc?.firstName ?? '', lastName: doc?.lastName ?? '' };
}
