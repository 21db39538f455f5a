/**
 * An operator's view of the log: how many events of each type were recorded and when the
 * last one was. It reads every event, which also makes it the canary of the projection
 * machinery (`market projections status` shows its lag like any other view's).
 */
import type { EventHandler } from './projection.js';

export const eventTypeStats: EventHandler = {
  name: 'event-type-stats',
  collections: [{ name: 'event_type_stats', indexes: [{ equal: [], sort: ['count'] }] }],
  handle(event) {
    return [
      {
        op: 'upsert',
        collection: 'event_type_stats',
        id: event.type,
        setOnInsert: { type: event.type, firstRecordedAt: event.created.toISOString() },
        set: { lastRecordedAt: event.created.toISOString(), lastStream: event.streamId },
        inc: { count: 1 },
      },
    ];
  },
};
