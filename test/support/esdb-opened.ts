/**
 * What the EventStoreDB tests open, and the waiting they all do. Every double, client and adapter
 * store a test opens through `openedPerTest()` is closed after it, in the order that lets mocha
 * exit cleanly: stores first (they end their subscriptions), then clients, then the doubles they
 * talk to. Stores open with short backoffs, so retry and resubscribe paths take milliseconds.
 */
import { EventStoreDBClient } from '@eventstore/db-client';

import type {
  EventStore,
  RecordedEvent,
  SubscriptionBatch,
} from '../../infra/eventsourcing/event-store/event-store.js';
import { openEsdbEventStore, type EsdbEventStoreOptions } from '../../infra/esdb/esdb-event-store.js';
import { startEsdbDouble, type EsdbDouble } from './esdb-double/index.js';

export type StoreOptions = Omit<EsdbEventStoreOptions, 'connectionString'>;

export interface Opened {
  /** Starts a double, stopped after the test. */
  double(options?: Parameters<typeof startEsdbDouble>[0]): Promise<EsdbDouble>;
  /** A plain client, disposed of after the test. */
  connect(connectionString: string): EventStoreDBClient;
  /** The adapter, with short backoffs unless `options` say otherwise; closed after the test. */
  open(connectionString: string, options?: StoreOptions): EventStore;
}

const FAST: StoreOptions = {
  retryBackoff: { initialDelayMs: 5, maxDelayMs: 20 },
  resubscribeBackoff: { initialDelayMs: 5, maxDelayMs: 20 },
};

/** Registers the `afterEach` that closes what the returned functions open; `defaults` go to every store. */
export function openedPerTest(defaults: StoreOptions = {}): Opened {
  const stores: EventStore[] = [];
  const clients: EventStoreDBClient[] = [];
  const doubles: EsdbDouble[] = [];

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    await Promise.all(doubles.splice(0).map((started) => started.stop()));
  });

  return {
    async double(options) {
      const started = await startEsdbDouble(options);
      doubles.push(started);
      return started;
    },
    connect(connectionString) {
      const client = EventStoreDBClient.connectionString(connectionString);
      clients.push(client);
      return client;
    },
    open(connectionString, options = {}) {
      const store = openEsdbEventStore({ connectionString, ...FAST, ...defaults, ...options });
      stores.push(store);
      return store;
    },
  };
}

/** The error a promise that must fail rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: number };
  }
  throw new Error('expected a rejection');
}

/** Everything an async iterable yields, in order. */
export async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Pulls batches until `done` holds after one (or the subscription ends); fails when it stalls,
 * nothing coming for `timeoutMs`.
 */
export async function pullUntil(
  iterator: AsyncIterator<SubscriptionBatch>,
  done: (events: RecordedEvent[], last: SubscriptionBatch) => boolean,
  timeoutMs = 10_000,
): Promise<{ events: RecordedEvent[]; batches: SubscriptionBatch[] }> {
  const events: RecordedEvent[] = [];
  const batches: SubscriptionBatch[] = [];
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`subscription stalled after ${events.length} events`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (next.done) return { events, batches };
    batches.push(next.value);
    events.push(...next.value.events);
    if (done(events, next.value)) return { events, batches };
  }
}
