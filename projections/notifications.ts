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
    const seq = sortablePosition(recorded.position);
    const notify = (userId: string, role: string, message: string, at: string): WriteOp =>
      notifications.insert(`${recorded.id}:${role}`, { userId, message, createdAt: at, seq });
    const recipient = async (userId: string): Promise<Recipient> => {
      const doc = await recipients.get(view, userId);
      return { firstName: doc?.firstName ?? '', lastName: doc?.lastName ?? '' };
    };
    switch (event.type) {
      case 'UserRegistered':
      case 'UserProfileUpdated': {
        const { userId, firstName, lastName } = event.data;
        return [recipients.upsert(userId, { set: { firstName, lastName } })];
      }
      case 'DealCompleted': {
        const d = event.data;
        return [
          notify(
            d.sellerId,
            'seller',
            letters.sold(await recipient(d.sellerId), d.itemName, d.price, d.sellerCommission),
            d.at,
          ),
          notify(
            d.buyerId,
            'buyer',
            letters.bought(await recipient(d.buyerId), d.itemName, d.price, d.buyerCommission),
            d.at,
          ),
        ];
      }
      case 'DealFailed': {
        const d = event.data;
        return [
          notify(
            d.buyerId,
            'buyer',
            letters.purchaseFailed(await recipient(d.buyerId), d.itemName, d.price, d.reason),
            d.at,
          ),
        ];
      }
      case 'OrderSucceeded':
        return [
          notify(
            event.data.userId,
            'customer',
            letters.orderProcessed(await recipient(event.data.userId), event.data.price),
            event.data.at,
          ),
        ];
      case 'OrderFailed':
        return [
          notify(
            event.data.userId,
            'customer',
            letters.orderNotFulfilled(await recipient(event.data.userId), event.data.price, event.data.reason),
            event.data.at,
          ),
        ];
      default:
        return [];
    }
  },
};
