/**
 * Diagnostics of the event store as a decorator: every append is counted (events, by stream
 * category) and every expected-version refusal too, without the stores or the command
 * handlers knowing about metrics.
 */
import { accountStream } from '../../domain/billing/events.js';
import { accessStream, brokerStream } from '../../domain/identity/admin-events.js';
import { emailStream, userStream } from '../../domain/identity/events.js';
import { repairsStream } from '../../domain/operations/events.js';
import { inboxStream } from '../../domain/notifications/events.js';
import { customerOrdersStream } from '../../domain/ordering/events.js';
import { marketStream, traderOrdersStream } from '../../domain/trading/events.js';
import { WrongExpectedVersion, type EventStore } from '../eventsourcing/event-store/event-store.js';
import type { Metrics } from './metrics.js';

/**
 * The stream-name prefixes the system writes, taken from the functions that name the
 * streams (so a renamed stream cannot drift from its metrics label).
 */
const CATEGORY_PREFIXES = [
  userStream(''),
  emailStream(''),
  accountStream(''),
  marketStream(''),
  traderOrdersStream(''),
  customerOrdersStream(''),
  repairsStream(''),
  inboxStream(''),
  accessStream(''),
  brokerStream(''),
]
  // Longest first: `customer-orders-` before any shorter prefix it starts with.
  .sort((a, b) => b.length - a.length);

/** The category of a stream (`account`, `customer-orders`…): a bounded label, never the stream's id. */
export function streamCategory(streamId: string): string {
  const prefix = CATEGORY_PREFIXES.find((p) => streamId.startsWith(p));
  return prefix ? prefix.replace(/-$/, '') : 'other';
}

export function instrumentEventStore(
  store: EventStore,
  metrics: Pick<Metrics, 'eventsAppended' | 'conflicts'>,
): EventStore {
  return {
    async appendToStream(streamId, events, options) {
      try {
        const result = await store.appendToStream(streamId, events, options);
        metrics.eventsAppended.inc({ category: streamCategory(streamId) }, events.length);
        return result;
      } catch (error) {
        if (error instanceof WrongExpectedVersion)
          metrics.conflicts.inc({ category: streamCategory(streamId), check: 'append' });
        throw error;
      }
    },
    readStream: (streamId, options) => store.readStream(streamId, options),
    readAll: (options) => store.readAll(options),
    subscribeToAll: (options) => store.subscribeToAll(options),
    headPosition: () => store.headPosition(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
