import { EventStoreUnavailable } from '../event-store/event-store.js';

/**
 * Failures worth waiting out (a store unreachable for a moment) as opposed to an event a
 * handler cannot process. The first are retried without limit; the second are parked.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof EventStoreUnavailable) return true;
  const name = (error as { name?: unknown })?.name;
  if (typeof name === 'string' && /^Mongo(Network|ServerSelection|NotConnected|Topology|PoolCleared)/.test(name))
    return true;
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'ECONNREFUSED' || code === 'ECONNRESET';
}
