import { performance } from 'node:perf_hooks';
import type { EventStore } from '../../infra/eventsourcing/event-store/event-store.js';

/** Reads `$all` from the start to the head, as a projection catching up does: how many events, in how long (ms). */
export async function catchUp(store: EventStore): Promise<{ events: number; ms: number }> {
  const started = performance.now();
  let events = 0;
  const subscription = store.subscribeToAll({ maxBatchSize: 1000 });
  for await (const batch of subscription) {
    events += batch.events.length;
    if (batch.caughtUp) break;
  }
  await subscription.close();
  return { events, ms: performance.now() - started };
}
