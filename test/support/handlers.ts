import type { RecordedEvent } from '../../infra/eventsourcing/event-store/event-store.js';
import { compileFilter } from '../../infra/sqlite/event-store/reader.js';
import type { EventHandler } from '../../infra/eventsourcing/subscriptions/event-handler.js';

/** Whether a handler's subscription would deliver the event (its filter, as the stores apply it). */
export function wants(handler: EventHandler, event: RecordedEvent): boolean {
  return compileFilter(handler.filter ?? {})(event.streamId, event.type);
}
