/**
 * A real listening API server for HTTP tests, in this process, on a fresh data directory:
 * embedded stores, or EventStoreDB over the gRPC double (`eventStore: 'esdb'`). With
 * `TEST_READ_STORE=mongo` (npm run test:mongo) its read models go to MONGODB_URI instead,
 * in a database of its own, dropped when it closes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionBroker } from '../../command-handlers/admin.js';
import type { PasswordHashing } from '../../command-handlers/identity.js';
import { scryptHashing, scryptPasswords } from '../../infra/auth/passwords.js';
import { loadConfig, type Config } from '../../infra/config/config.js';
import { openEsdbEventStore } from '../../infra/esdb/esdb-event-store.js';
import type { EventStore } from '../../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../../infra/sqlite/event-store/sqlite-event-store.js';
import { readModelsReadiness } from '../../infra/http/probes.js';
import { createHttpApp, listen, liveStreamOptions } from '../../infra/http/server.js';
import { createLogger, type Logger } from '../../infra/log/log.js';
import { openSystem, type System } from '../../infra/composition-root/system.js';
import { startEsdbDouble } from './esdb-double/index.js';
import { dropDatabases, mongoUri, uniqueDbName } from './mongo-target.js';
import { UNLIMITED_RATES } from './process.js';

export interface ApiServer {
  baseUrl: string;
  system: System;
  config: Config;
  close(): Promise<void>;
}

export interface ApiServerOptions {
  eventStore?: 'embedded' | 'esdb';
  env?: Record<string, string>;
  /** Where the server logs (requests included); by default nowhere unless TEST_LOG_LEVEL says so. */
  logger?: Logger;
  /**
   * `production`: passwords hashed with today's scrypt parameters (`scryptPasswords`).
   * Default: `TEST_PASSWORD_HASHING`, the same code at a fifth of the cost — the suites
   * register and sign in over a thousand users, at ~0.4 s a production hash on this box.
   */
  passwords?: 'production' | PasswordHashing;
}

/**
 * What the in-process test servers hash passwords with: scrypt N=2^14 r=8 p=1, the
 * parameters before OWASP's p=5 set (infra/auth/passwords.ts). The production parameters
 * are tested in test/auth-passwords.test.ts, by the HTTP test of the upgrade at sign-in,
 * and by every suite that starts the server as a process (npm start's own code path).
 */
export const TEST_PASSWORD_HASHING = scryptHashing({ N: 2 ** 14, r: 8, p: 1 });

export const BROKER = { email: 'broker@market.test', password: 'broker-secret' };

/** The read store the HTTP suites run on: TEST_READ_STORE, `embedded` unless it says `mongo`. */
export const testReadStore = readStoreOfTests(process.env.TEST_READ_STORE);

function readStoreOfTests(value: string | undefined): 'embedded' | 'mongo' {
  if (value === undefined || value === '' || value === 'embedded') return 'embedded';
  if (value !== 'mongo') throw new Error(`TEST_READ_STORE=${JSON.stringify(value)}: expected embedded or mongo`);
  if (!mongoUri) throw new Error('TEST_READ_STORE=mongo needs MONGODB_URI (npm run test:mongo starts FerretDB for it)');
  return 'mongo';
}

/** The settings that put a server's read models in a database of its own at MONGODB_URI. */
function mongoReadStoreEnv(): Record<string, string> {
  return { READ_STORE: 'mongo', MONGODB_URI: mongoUri!, MONGODB_DB: uniqueDbName('http') };
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'market-api-'));
  const double = options.eventStore === 'esdb' ? await startEsdbDouble() : null;
  const readStoreEnv = testReadStore === 'mongo' ? mongoReadStoreEnv() : {};
  const config = loadConfig({
    DATA_DIR: dataDir,
    EMBEDDED_DURABILITY: 'normal',
    BROKER_EMAIL: BROKER.email,
    BROKER_PASSWORD: BROKER.password,
    // Tests reach into the runners (pausing one, waiting on it): they run in this thread.
    PROJECTION_THREAD: 'main',
    // The suites register and sign in hundreds of users from one address; overload.test.ts sets its own limits.
    ...UNLIMITED_RATES,
    ...(double ? { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: double.connectionString } : {}),
    ...readStoreEnv,
    ...options.env,
  });
  const logger = options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const system = await openSystem(config, logger);
  system.services.passwords =
    options.passwords === 'production' ? scryptPasswords : (options.passwords ?? TEST_PASSWORD_HASHING);
  await provisionBroker(system.services, { ...BROKER, resetPassword: false });
  system.startProjections();
  if (config.projectionThread === 'main') await untilLive(system);
  const app = createHttpApp({
    dependencies: [
      { name: 'eventStore', ping: () => system.eventStore.ping() },
      readModelsReadiness(system.health, { maxLagEvents: config.readyMaxLagEvents, maxLagMs: config.readyMaxLagMs }),
    ],
    logError: (error) => {
      // A 500 in a test is a bug: make it visible.
      console.error('request failed:', error);
    },
    metrics: system.metrics,
    // Given a logger, the test reads the request lines (errors included); else errors go to the console.
    requestLog: options.logger,
    cors: { allowedOrigins: config.corsAllowedOrigins },
    api: {
      services: system.services,
      tokens: system.tokens,
      signedOut: system.signedOut,
      gate: system.gate,
      readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
      overload: system.overload,
      liveStream: liveStreamOptions(config),
    },
  });
  const server = await listen(app, 0, '127.0.0.1');
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    system,
    config,
    async close() {
      await server.close(1000);
      await system.close();
      await double?.stop();
      if (readStoreEnv.MONGODB_DB) await dropDatabases([readStoreEnv.MONGODB_DB]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Until every runner has caught up with what the server started with (the broker's
 * registration among it), as an orchestrator waits for /ready before sending traffic: on
 * a slower read store (FerretDB) the first request could otherwise outrun a projection.
 */
async function untilLive(system: System, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!system.runners.every((r) => r.status().state === 'live')) {
    if (Date.now() > deadline) {
      const states = system.runners.map((r) => `${r.handler.name}: ${r.status().state}`).join(', ');
      throw new Error(`the server's runners are not live after ${timeoutMs} ms (${states})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Another writer on the server's event store, past its schema checks — as a broken tool, or an
 * older or newer build, would write. Close it before the server.
 */
export function openRawEventStore(server: ApiServer): EventStore {
  return server.config.eventStore === 'esdb'
    ? openEsdbEventStore({ connectionString: server.config.eventStoreConnectionString! })
    : openSqliteEventStore({ file: join(server.config.dataDir, 'events.db'), durability: 'normal', writer: 'inline' });
}
