/**
 * The server under test of `npm run bench:http`, in a process of its own so that it and
 * the load generator each get a core. Run by http-child.ts, never by hand:
 *
 *   node dist/test/bench/http-server-process.js api|baseline
 *
 * - `api`: the product as `npm start` composes it (openSystem: embedded event store and
 *   read store in DATA_DIR, projections and process managers running, createHttpApp).
 * - `baseline`: a Koa route doing the same deposit as one plain SQLite
 *   `UPDATE accounts SET amount = amount + ? WHERE user_id = ?` (no events), behind the
 *   same authentication (`authenticate` over `createTokenService` with the API's kept
 *   signing key from BENCH_KEYS_DIR, and the signed-out check against a SQLite read
 *   store), the same body parser and validation, the same `listen`. The accounts table
 *   gets the users of BENCH_USERS_FILE (a JSON array of user ids) with 0.
 *
 * Environment: the product's (DATA_DIR, PORT, HOST, EMBEDDED_DURABILITY, LOG_LEVEL…).
 * Prints `{"listening":<port>}`, then answers JSON-line commands on stdin — `mark` (start
 * counting), `stats` (what happened since), `stop` (close everything and exit) — with
 * `{"id":…}` lines. The counters wrap the stores' methods with a call count, nothing more.
 * With BENCH_CPU_PROF_DIR, the V8 CPU profiler (what `node --cpu-prof` runs) samples the
 * main thread from `mark` to `stats` — the measured window only, not the set-up or the
 * read models' catch-up after it — and `stats` names the `.cpuprofile` written there.
 * BENCH_PAUSE_PROJECTIONS=1 (an experiment, not how the product runs): the runners of the
 * main thread — the process managers, with the projections in the projector thread — are
 * stopped from `mark` to `stats` (except in a window marked as a drain), then started again
 * to catch up.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { writeHeapSnapshot } from 'node:v8';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Database from 'better-sqlite3';
import Koa from 'koa';
import { loadSigningKeys } from '../../infra/auth/keys.js';
import { createTokenService, type TokenService } from '../../infra/auth/tokens.js';
import { loadConfig } from '../../infra/config/config.js';
import type { EventStore } from '../../infra/eventsourcing/event-store/event-store.js';
import { formatPosition } from '../../infra/eventsourcing/event-store/position.js';
import { configure } from '../../infra/sqlite/event-store/schema.js';
import { authenticate, type AuthState } from '../../infra/http/auth.js';
import { errorBodies, HttpError } from '../../infra/http/errors.js';
import { httpMessages } from '../../infra/http/messages.js';
import { moneyMovementBody } from '../../infra/http/schemas/billing.js';
import { createHttpApp, listen, type RunningServer } from '../../infra/http/server.js';
import { SignedOutTokenList } from '../../infra/http/signed-out-tokens.js';
import { validate } from '../../infra/http/validation.js';
import type { IdempotencyRecords } from '../../infra/idempotency/records.js';
import { createLogger } from '../../infra/log/log.js';
import type { ReadStore } from '../../infra/eventsourcing/read-store/read-store.js';
import { openSqliteReadStore } from '../../infra/sqlite/read-store/sqlite-read-store.js';
import { openSystem } from '../../infra/composition-root/system.js';
import { identityProjection } from '../../projections/identity.js';

interface Server {
  running: RunningServer;
  tokens: TokenService;
  /** Experiment BENCH_PAUSE_PROJECTIONS=1: the main thread's runners (the process managers) stopped from `mark` to `stats`. */
  pauseReadModels(): Promise<void>;
  resumeReadModels(): void;
  /** Mode-specific figures for `stats`. */
  extra(): Promise<Record<string, number | string | null>>;
  /** Where the process's memory is, in MB: the V8 heap of each thread, the command cache's estimate. */
  memory(): Record<string, number>;
  close(): Promise<void>;
}

const MB = 1024 * 1024;

/** The whole process's resident set, and the main thread's off-heap buffers. */
function processMemory(): Record<string, number> {
  const usage = process.memoryUsage();
  return { rss: usage.rss / MB, external: usage.external / MB, arrayBuffers: usage.arrayBuffers / MB };
}

const calls: Record<string, number> = {};
const count = (name: string, by = 1) => {
  calls[name] = (calls[name] ?? 0) + by;
};
let loggedErrors = 0;
const logError = (error: unknown) => {
  loggedErrors++;
  if (loggedErrors <= 5) console.error('request failed:', error);
};

/** Which kind of stream a name is (`idempotency-…`, `account-…`), for the counters. */
function kindOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? `${streamId.slice(0, dash)}-*` : streamId;
}

function countEventStore(store: EventStore): void {
  const readStream = store.readStream.bind(store);
  const appendToStream = store.appendToStream.bind(store);
  // The embedded store commits the appends queued in one turn of the event loop together
  // and settles them all in the same flush, so their results arrive in one burst of
  // microtasks: counting the bursts counts the commits (give or take a rare merge).
  let burst = false;
  const settled = () => {
    if (burst) return;
    burst = true;
    count('event store commits (≈)');
    setImmediate(() => (burst = false));
  };
  store.readStream = (streamId, options) => {
    count('event store readStream');
    count(`event store readStream ${kindOf(streamId)}`);
    return readStream(streamId, options);
  };
  store.appendToStream = (streamId, events, options) => {
    count('event store appendToStream');
    count(`event store appendToStream ${kindOf(streamId)}`);
    count('events appended (asked)', events.length);
    return appendToStream(streamId, events, options).then((result) => {
      settled();
      return result;
    });
  };
}

function countReadStore(store: ReadStore): void {
  const get = store.get.bind(store);
  const commit = store.commit.bind(store);
  const getStored = store.getStored.bind(store);
  store.get = (collection, id) => {
    count(`read store get ${collection}`);
    return get(collection, id);
  };
  store.getStored = (collection, id) => {
    count(`read store getStored ${collection}`);
    return getStored(collection, id);
  };
  store.commit = (projection, writes, checkpoint) => {
    count('read store commits (projections)');
    count(
      'read store commits: writes',
      writes.reduce((n, w) => n + w.ops.length, 0),
    );
    return commit(projection, writes, checkpoint);
  };
}

function countIdempotencyRecords(records: IdempotencyRecords): void {
  const find = records.find.bind(records);
  const keep = records.keep.bind(records);
  records.find = (scope, key) => {
    count('idempotency records find');
    return find(scope, key);
  };
  records.keep = (scope, key, answer) => {
    count('idempotency records keep');
    return keep(scope, key, answer);
  };
}

async function startApi(): Promise<Server> {
  const config = loadConfig();
  const system = await openSystem(config, createLogger(config.logLevel));
  countEventStore(system.eventStore);
  countReadStore(system.readStore);
  countIdempotencyRecords(system.services.idempotency);
  // As `npm start` does: in the projector thread unless PROJECTION_THREAD=main.
  system.startProjections();
  const app = createHttpApp({
    dependencies: [{ name: 'eventStore', ping: () => system.eventStore.ping() }],
    logError,
    api: {
      services: system.services,
      tokens: system.tokens,
      signedOut: system.signedOut,
      gate: system.gate,
      readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
    },
  });
  const running = await listen(app, config.port, config.host);
  let stoppedRunners: typeof system.runners = [];
  return {
    running,
    tokens: system.tokens,
    async pauseReadModels() {
      // Only those running in this thread (the process managers; the projections run in the
      // projector thread, and their runners here must stay unstarted).
      stoppedRunners = system.runners.filter((r) => r.status().state !== 'stopped');
      await Promise.all(stoppedRunners.map((r) => r.stop()));
    },
    resumeReadModels() {
      for (const runner of stoppedRunners) runner.start();
      stoppedRunners = [];
    },
    memory() {
      const heaps = Object.entries(system.heaps()).flatMap(([thread, heap]) => [
        [`${thread} heap used`, heap.used / MB],
        [`${thread} heap held`, heap.total / MB],
      ]);
      return {
        ...processMemory(),
        ...Object.fromEntries(heaps),
        'stream cache (estimate)': system.services.cache.bytes / MB,
      };
    },
    async extra() {
      const head = await system.eventStore.headPosition();
      return { durability: config.embeddedDurability, eventStoreHead: head ? formatPosition(head) : null };
    },
    async close() {
      await running.close(1000);
      await system.close();
    },
  };
}

async function startBaseline(): Promise<Server> {
  const config = loadConfig();
  const keysDir = process.env.BENCH_KEYS_DIR;
  const usersFile = process.env.BENCH_USERS_FILE;
  if (!keysDir || !usersFile) throw new Error('BENCH_KEYS_DIR and BENCH_USERS_FILE are required in baseline mode');
  // The API's own key (kept in its DATA_DIR), so the tokens it issued verify here too.
  const keys = await loadSigningKeys({ dataDir: keysDir });
  const tokens = createTokenService({
    keys,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    lifetimeSeconds: config.jwtLifetimeSeconds,
  });
  const readStore = openSqliteReadStore({ file: join(config.dataDir, 'read.db') });
  await readStore.ensureCollections(identityProjection.collections);
  countReadStore(readStore);
  const signedOut = new SignedOutTokenList(readStore, { recheckMs: config.signedOutRecheckMs });

  const db = new Database(join(config.dataDir, 'accounts.db'));
  configure(db, config.embeddedDurability);
  db.exec('CREATE TABLE IF NOT EXISTS accounts (user_id TEXT PRIMARY KEY, amount INTEGER NOT NULL)');
  const userIds = JSON.parse(readFileSync(usersFile, 'utf8')) as string[];
  const insert = db.prepare('INSERT OR REPLACE INTO accounts (user_id, amount) VALUES (?, 0)');
  db.transaction(() => {
    for (const id of userIds) insert.run(id);
  })();
  const deposit = db.prepare<[number, string]>('UPDATE accounts SET amount = amount + ? WHERE user_id = ?');
  const sum = db.prepare<[], { total: number | null; accounts: number }>(
    'SELECT sum(amount) AS total, count(*) AS accounts FROM accounts',
  );

  const app = new Koa();
  app.silent = true;
  app.use(errorBodies(logError));
  app.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: '1mb',
      onError: () => {
        throw new HttpError(400, httpMessages.malformedJson);
      },
    }),
  );
  const router = new Router<AuthState>();
  router.use(authenticate(tokens, signedOut));
  router.post('/api/v1/billing/account/deposit', (ctx) => {
    const { amount } = validate(moneyMovementBody, (ctx.request as { body?: unknown }).body);
    // One auto-committed statement: a WAL commit (synced when durability is full) per deposit.
    const changed = deposit.run(amount, ctx.state.caller.userId).changes;
    count('sqlite UPDATE accounts');
    if (changed !== 1) throw new HttpError(404, httpMessages.notFound);
    ctx.status = 204;
  });
  app.use(router.routes()).use(router.allowedMethods());
  const running = await listen(app, config.port, config.host);
  return {
    running,
    tokens,
    async pauseReadModels() {},
    resumeReadModels() {},
    memory: () => processMemory(),
    async extra() {
      const row = sum.get();
      return {
        durability: config.embeddedDurability,
        sumOfBalancesCents: row?.total ?? 0,
        accounts: row?.accounts ?? 0,
      };
    },
    async close() {
      await running.close(1000);
      await readStore.close();
      db.close();
    },
  };
}

const mode = process.argv[2];
if (mode !== 'api' && mode !== 'baseline') {
  console.error('usage: http-server-process.js api|baseline');
  process.exit(2);
}
const server = mode === 'api' ? await startApi() : await startBaseline();
process.stdout.write(`${JSON.stringify({ listening: server.running.port })}\n`);

/**
 * The main thread's time on a CPU and waiting for one (runnable, but another process had
 * the core), from Linux's schedstat, in ns; null where it is not available. Wall time
 * minus both is time blocked in the kernel (fsync, page-cache writes…) or idle.
 */
function mainThreadSchedule(): { onCpuNs: number; waitingNs: number } | null {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return onCpu === undefined || waiting === undefined ? null : { onCpuNs: onCpu, waitingNs: waiting };
  } catch {
    return null;
  }
}

let markedAt = performance.now();
let scheduleAtMark = mainThreadSchedule();
let cpuAtMark = process.cpuUsage();
let eluAtMark: EventLoopUtilization = performance.eventLoopUtilization();
let cacheAtMark = server.tokens.cacheStats();

const pauseReadModels = process.env.BENCH_PAUSE_PROJECTIONS === '1';
/** Whether this measurement window paused them (a drain window does not). */
let paused = false;
const profileDir = process.env.BENCH_CPU_PROF_DIR;
const inspector = profileDir ? new Session() : null;
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    inspector!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
  );
if (inspector) {
  inspector.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
}
let profiling = false;

const answer = (message: Record<string, unknown>, then?: () => void) =>
  process.stdout.write(`${JSON.stringify(message)}\n`, then);

for await (const line of createInterface({ input: process.stdin })) {
  let id = 0;
  try {
    const {
      id: given,
      command,
      window,
    } = JSON.parse(line) as { id: number; command: string; window?: 'load' | 'drain' };
    id = given;
    if (command === 'mark') {
      for (const name of Object.keys(calls)) delete calls[name];
      loggedErrors = 0;
      markedAt = performance.now();
      cpuAtMark = process.cpuUsage();
      eluAtMark = performance.eventLoopUtilization();
      cacheAtMark = server.tokens.cacheStats();
      scheduleAtMark = mainThreadSchedule();
      paused = pauseReadModels && window !== 'drain';
      if (paused) await server.pauseReadModels();
      if (inspector) {
        if (profiling) await post('Profiler.stop');
        await post('Profiler.start');
        profiling = true;
      }
      answer({ id });
    } else if (command === 'stats') {
      const cpu = process.cpuUsage(cpuAtMark);
      const cache = server.tokens.cacheStats();
      const wallMs = performance.now() - markedAt;
      const utilization = performance.eventLoopUtilization(eluAtMark).utilization;
      const schedule = mainThreadSchedule();
      const mainThread =
        schedule && scheduleAtMark
          ? {
              onCpuMs: (schedule.onCpuNs - scheduleAtMark.onCpuNs) / 1e6,
              waitingForCpuMs: (schedule.waitingNs - scheduleAtMark.waitingNs) / 1e6,
            }
          : null;
      let cpuProfile: string | null = null;
      if (inspector && profiling) {
        const { profile } = (await post('Profiler.stop')) as { profile: unknown };
        profiling = false;
        cpuProfile = join(profileDir!, `${mode}-${process.pid}-${Date.now()}.cpuprofile`);
        writeFileSync(cpuProfile, JSON.stringify(profile));
      }
      if (paused) server.resumeReadModels();
      paused = false;
      answer({
        id,
        stats: {
          pid: process.pid,
          cpuMs: (cpu.user + cpu.system) / 1000,
          wallMs,
          eventLoopUtilization: utilization,
          mainThread,
          tokenCache: {
            hits: cache.hits - cacheAtMark.hits,
            misses: cache.misses - cacheAtMark.misses,
            size: cache.size,
          },
          calls: { ...calls },
          extra: { ...(await server.extra()), cpuProfile },
          loggedErrors,
        },
      });
    } else if (command === 'memory') {
      answer({ id, memory: server.memory() });
    } else if (command === 'heap-snapshot') {
      // The main thread's heap, written where BENCH_HEAP_SNAPSHOT_DIR says (a diagnosis, not a figure).
      answer({
        id,
        file: writeHeapSnapshot(
          join(process.env.BENCH_HEAP_SNAPSHOT_DIR ?? '.', `server-${process.pid}-${Date.now()}.heapsnapshot`),
        ),
      });
    } else if (command === 'stop') {
      await server.close();
      answer({ id }, () => process.exit(0));
    } else {
      answer({ id, error: `unknown command ${command}` });
    }
  } catch (error) {
    answer({ id, error: (error as Error).stack ?? String(error) });
  }
}
