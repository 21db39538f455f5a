/**
 * Before a process opens anything, the remote stores it is configured for must answer.
 * Otherwise the drivers would wait (MongoDB: 30 s per operation) or retry forever, and an
 * orchestrator would see a process that neither serves nor says why. Each store gets until
 * `STARTUP_TIMEOUT_MS`; one that has not answered by then fails start-up with one line
 * naming it, its address and the last error.
 */
import { backoffDelay, sleep } from '../eventsourcing/backoff.js';
import type { Config } from '../config/config.js';
import { openEsdbEventStore } from '../esdb/esdb-event-store.js';
import { mongoPinger } from '../mongodb/mongo-server.js';

/** A configured store did not answer in time: the message is the one line an operator reads. */
export class StoreUnreachable extends Error {
  override readonly name = 'StoreUnreachable';
}

interface StoreCheck {
  /** What an operator calls it: "EventStoreDB", "MongoDB". */
  store: string;
  address: string;
  /** Resolves once the store answers; `timeoutMs` bounds this one attempt. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Resolves once every remote store of `config` answers; throws `StoreUnreachable` naming each that did not. */
export async function checkStoresReachable(config: Config, timeoutMs = config.startupTimeoutMs): Promise<void> {
  const checks: StoreCheck[] = [];
  if (config.eventStore === 'esdb') checks.push(eventStoreDbCheck(config.eventStoreConnectionString!));
  if (config.readStore === 'mongo') checks.push(mongoCheck(config.mongodbUri!));
  try {
    const failures = (await Promise.all(checks.map((check) => untilAnswered(check, timeoutMs)))).filter(
      (f): f is string => f !== null,
    );
    if (failures.length > 0) throw new StoreUnreachable(failures.join('; '));
  } finally {
    await Promise.all(checks.map((check) => check.close().catch(() => undefined)));
  }
}

/** Pings with backoff until the store answers (→ null) or the time is up (→ what went wrong). */
async function untilAnswered(check: StoreCheck, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error(`no answer within ${timeoutMs} ms`);
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const left = deadline - Date.now();
    try {
      await withTimeout(check.ping(left), left);
      return null;
    } catch (error) {
      lastError = error;
    }
    await sleep(Math.min(backoffDelay(attempt, { initialDelayMs: 100, maxDelayMs: 2_000 }), deadline - Date.now()));
  }
  return `${check.store} at ${check.address} is unreachable (${oneLine(lastError)})`;
}

function eventStoreDbCheck(connectionString: string): StoreCheck {
  let store: ReturnType<typeof openEsdbEventStore> | null = null;
  return {
    store: 'EventStoreDB',
    address: addressOf(connectionString),
    ping: (timeoutMs) => {
      // The client is opened once: it connects lazily and reconnects by itself between attempts.
      store ??= openEsdbEventStore({ connectionString, pingTimeoutMs: Math.min(timeoutMs, 5_000) });
      return store.ping();
    },
    close: async () => store?.close(),
  };
}

function mongoCheck(uri: string): StoreCheck {
  return { store: 'MongoDB', address: addressOf(uri), ...mongoPinger(uri) };
}

/** The hosts of a connection string, without scheme, credentials or options (never log a password). */
export function addressOf(connectionString: string): string {
  const beforeOptions = connectionString.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('?')[0]!;
  // The hosts follow the last `@` (a password may hold a `/` its writer forgot to encode).
  const withoutCredentials = beforeOptions.slice(beforeOptions.lastIndexOf('@') + 1);
  // Never the whole string: it may hold the credentials this function is there to drop.
  return withoutCredentials.split('/')[0] || '(no host)';
}

function oneLine(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
