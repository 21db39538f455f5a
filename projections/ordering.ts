/** The plain orders of each user, and the revision of each user's order stream (the ETag of their list). */
import type { CustomerOrderEvent } from '../domain/ordering/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { customerOrderCollections, customerOrders } from './read-models/ordering.js';

export const orderingProjection: EventHandler = {
  name: 'ordering',
  filter: { streamPrefixes: ['customer-orders-'] },
  collections: [customerOrders, customerOrderCollections],
  handle(recorded: RecordedEvent): WriteOp[] {
    // Events of customer-orders streams are CustomerOrderEvents (domain/ordering/events.ts).
    const event = { type: recorded.type, data: recorded.data } as unknown as CustomerOrderEvent;
    const { userId, orderId, price, at } = event.data;
    const revision = customerOrderCollections.upsert(userId, { set: { revision: recorded.revision } });
    if (event.type === 'OrderCreated') {
      return [
        customerOrders.insert(orderId, {
          userId,
          price,
          status: 'pending',
          createdAt: at,
          updatedAt: at,
          seq: sortablePosition(recorded.position),
        }),
        revision,
      ];
    }
    const status = event.type === 'OrderSucceeded' ? 'succeeded' : 'failed';
    return [customerOrders.update(orderId, { set: { status, updatedAt: at } }), revision];
  },
};
