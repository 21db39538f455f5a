import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import { compileFilter } from '../../infra/event-store/sqlite/reader.js';
import type { EventHandler } from '../../projections/projection.js';

/** Whether a handler's subscription would deliver the event (its filter, as the stores apply it). */
export function wants(handler: EventHandler, event: RecordedEvent): boolean {
  return compileFilter(handler.filter ?? {})(event.streamId, event.type);
}
