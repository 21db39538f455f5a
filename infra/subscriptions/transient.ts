import { EventStoreUnavailable } from '../event-store/event-store.js';

/**
 * Failures worth waiting out (a store unreachable for a moment) as opposed to an event a
 * handler cannot process. The first are retried without limit; the second are parked.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof EventStoreUnavailable) return true;
  const name = (error as { name?: unknown })?.name;
  if (typeof name === 'string' && /^Mongo(Network|ServerSelection|NotConnected|Topology|PoolCleared)/.test(name)) return true;
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'ECONNREFUSED' || code === 'ECONNRESET';
}

/** Exponential backoff with full jitter: spreads retries of many runners over time. */
export function backoffDelay(attempt: number, initialMs = 100, maxMs = 10_000): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
