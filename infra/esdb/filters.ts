/**
 * `$all` filters. The port lets a caller filter on stream prefixes and event type prefixes
 * at once; EventStoreDB filters a subscription on ONE of them (stream identifier or event
 * type, prefixes or regex). So the server filters on one dimension and we check the full
 * filter here on every event we receive:
 * - stream prefixes given → server-side stream filter (a category is usually the most
 *   selective thing a reader asks for), event types checked here;
 * - only event type prefixes → server-side event type filter;
 * - neither → server-side regex excluding system event types.
 * System events (types starting with `$`) are dropped here in every case.
 *
 * Reads of `$all` cannot use a server-side filter with client 6.2.1 (`readAll` has no
 * `filter` option), so they filter here only; see `readAll` in esdb-event-store.ts.
 *
 * An empty prefix list means "no condition on that dimension", like an absent one.
 */
import { eventTypeFilter, excludeSystemEvents, streamNameFilter, type Filter } from '@eventstore/db-client';
import type { AllFilter } from '../eventsourcing/event-store/event-store.js';
import { isSystemEventType } from './conversion.js';

export interface FilterPlan {
  /** The part the server applies (subscriptions only); without a checkpoint callback. */
  readonly server: Filter;
  /** The whole filter, system events included: what a caller may see. */
  accepts(streamId: string, type: string): boolean;
}

function startsWithAny(value: string, prefixes: readonly string[] | undefined): boolean {
  return prefixes === undefined || prefixes.some((prefix) => value.startsWith(prefix));
}

function nonEmpty(prefixes: string[] | undefined): string[] | undefined {
  return prefixes && prefixes.length > 0 ? [...prefixes] : undefined;
}

export function planFilter(filter: AllFilter | undefined): FilterPlan {
  const streamPrefixes = nonEmpty(filter?.streamPrefixes);
  const typePrefixes = nonEmpty(filter?.eventTypePrefixes);

  let server: Filter;
  if (streamPrefixes) server = streamNameFilter({ prefixes: streamPrefixes });
  else if (typePrefixes) server = eventTypeFilter({ prefixes: typePrefixes });
  else server = excludeSystemEvents();

  return {
    server,
    accepts: (streamId, type) =>
      !isSystemEventType(type) && startsWithAny(streamId, streamPrefixes) && startsWithAny(type, typePrefixes),
  };
}
