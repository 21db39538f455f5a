/**
 * The composition root: which adapters the configuration selects, wired together. The
 * HTTP server, the projector and the CLI all start from here, so every entry point runs
 * against the same stores the same way.
 */
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { v4 as uuid } from 'uuid';
import { accountOpening } from '../../command-handlers/account-opening.js';
import { blockedUserOrders, dealSettlement, orderPayment, orderPlacement } from '../../command-handlers/settlement.js';
import { StreamStateCache } from '../eventsourcing/command-handling/stream-state-cache.js';
import { domainEvents } from '../../domain/events.js';
import { purgeExpiredSignOuts } from '../../projections/identity.js';
import { projections } from '../../projections/index.js';
import { findPastOrder } from '../../read-api/trading.js';
import type { EventHandler } from '../eventsourcing/subscriptions/event-handler.js';
import { openKeyRing } from '../auth/key-ring.js';
import { keysFromEnvironment, loadSigningKeys } from '../auth/keys.js';
import { scryptPasswords } from '../auth/passwords.js';
import { prepareDataDir } from './data-dir.js';
import { operatorTools } from './operator-tools.js';
import { createTokenService, type TokenService } from '../auth/tokens.js';
import type { Config } from '../config/config.js';
import type { EventStore } from '../eventsourcing/event-store/event-store.js';
import { openEsdbEventStore } from '../esdb/esdb-event-store.js';
import { streamSnapshotStore } from '../esdb/snapshots.js';
import type { SnapshotStore } from '../eventsourcing/event-store/snapshot-store.js';
import { openSqliteEventStore } from '../sqlite/event-store/sqlite-event-store.js';
import { versionedEventStore } from '../eventsourcing/event-store/versioned-event-store.js';
import { compiledChecks } from '../event-schemas/compiled-checks.js';
import type { ApiServices } from '../http/routes/context.js';
import { openMongoIdempotencyRecords } from '../mongodb/mongo-idempotency-records.js';
import type { IdempotencyRecords } from '../idempotency/records.js';
import { openSqliteIdempotencyRecords } from '../sqlite/sqlite-idempotency-records.js';
import { SignedOutTokenList } from '../http/signed-out-tokens.js';
import { BlockedUsers } from '../http/blocked-users.js';
import { runnerLog, type Logger } from '../log/log.js';
import { commandRecorder } from '../metrics/commands.js';
import { instrumentEventStore } from '../metrics/event-store.js';
import { describeMongoServerAt, type MongoServerInfo } from '../mongodb/mongo-server.js';
import { Metrics } from '../metrics/metrics.js';
import { snapshotRecorder } from '../metrics/snapshots.js';
import { SubscriptionHealth } from '../metrics/subscription-health.js';
import { openMongoReadStore } from '../mongodb/mongo-read-store.js';
import type { ReadStore } from '../eventsourcing/read-store/read-store.js';
import { openSqliteReadStore } from '../sqlite/read-store/sqlite-read-store.js';
import {
  BACKSTOP_CHECKPOINT_PAGES,
  INLINE_CHECKPOINT_PAGES,
  startWalCheckpointer,
} from '../sqlite/read-store/wal-checkpointer.js';
import { startProjectorThread, type HeapSize, type ProjectorThread } from './projector.js';
import { followCheckpoints, type CheckpointFeed } from '../eventsourcing/subscriptions/checkpoint-feed.js';
import { ConsistencyGate, type FollowedRunner } from '../eventsourcing/subscriptions/consistency.js';
import { ownerName } from '../eventsourcing/subscriptions/lease-owners.js';
import type { LeaseStore } from '../eventsourcing/subscriptions/leases.js';
import { openMongoLeases } from '../mongodb/mongo-leases.js';
import { openMongoBuckets } from '../mongodb/mongo-rate-limits.js';
import { overloadGuards, type OverloadGuards } from '../http/overload/guards.js';
import { inProcessBuckets, type BucketStore } from '../http/overload/token-buckets.js';
import { ProjectionRunner, type RunnerOptions, type RunnerStatus } from '../eventsourcing/subscriptions/runner.js';
import { openSqliteLeases } from '../sqlite/sqlite-leases.js';
import { hasActiveOrders } from '../../read-api/trading.js';
import { personalData } from '../../domain/personal-data.js';
import { personalDataErasure } from '../eventsourcing/personal-data/erasure.js';
import { openPersonalData, sealingPersonalData, sealingSnapshots, type PersonalDataParts } from './personal-data.js';

export interface System {
  config: Config;
  eventStore: EventStore;
  readStore: ReadStore;
  /** The server behind `READ_STORE=mongo` (MongoDB or FerretDB); null for the embedded store. */
  readServer: MongoServerInfo | null;
  leases: LeaseStore;
  tokens: TokenService;
  services: ApiServices;
  signedOut: SignedOutTokenList;
  /** Every projection and process manager, by name. */
  handlers: EventHandler[];
  /** One runner per handler (started by `startProjections` when they run in this thread). */
  runners: ProjectionRunner[];
  /**
   * Starts the projections and process managers: in a worker thread when
   * `PROJECTION_THREAD=worker` (the API process's default), else in this thread.
   */
  startProjections(): void;
  /**
   * For a process that runs no runner (`ROLE=api`): read-your-writes follows the checkpoints
   * and leases that the runners of other processes store.
   */
  followProjections(): void;
  /** Read-your-writes, over wherever the projections run (valid once they are started). */
  readonly gate: ConsistencyGate;
  /** This process's metrics (appends, conflicts and commands are counted from the start). */
  metrics: Metrics;
  /** The rate limits (their buckets shared through MongoDB when the read store is there) and bounds on work. */
  overload: OverloadGuards;
  /** Lag, parked events and rebuilds of every handler, for `/metrics` and `/ready`. */
  health: SubscriptionHealth;
  /**
   * Why the projector thread is not running (dead and waiting to be restarted), null while it
   * runs or when this process has none: a dependency of `/ready`.
   */
  projectorDown(): string | null;
  /** The V8 heap of each thread of this process that runs JavaScript of its own (main, and the projector thread once started). */
  heaps(): Record<string, HeapSize>;
  close(): Promise<void>;
}

/** How this process's parts talk to a projector thread (see `projector-thread.ts`). */
export interface ThreadLinks {
  /** The projector thread: its subscriptions wake at each commit the API thread's writer announces. */
  hearCommits?: boolean;
  onAdvance?: (status: RunnerStatus) => void;
}

export async function openSystem(
  config: Config,
  logger: Logger,
  role = 'api',
  links: ThreadLinks = {},
): Promise<System> {
  prepareDataDir(config, logger);
  const metrics = new Metrics();
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const stores = await openStores(config, logger, { role, hearCommits: links.hearCommits ?? false }, metrics, opened);
    const { eventStore, readStore, leases } = stores;
    const tokens = await openTokens(config, logger);
    const signedOut = new SignedOutTokenList(readStore, { recheckMs: config.signedOutRecheckMs });
    const blockedUsers = new BlockedUsers(readStore, { recheckMs: config.signedOutRecheckMs });
    const services = apiServices(config, logger, metrics, stores, { tokens, signedOut, blockedUsers });
    const handlers = [...eventHandlers(services), personalDataErasure(stores.personalData.keys, personalData)];
    services.operatorTools = operatorTools({ eventStore, readStore, handlers, services });
    // Tables and indexes exist before the first query, even in a process that runs no projection.
    await readStore.ensureCollections(handlers.flatMap((h) => h.collections));
    const runners = handlers.map(
      (handler) => new ProjectionRunner(handler, runnerOptions(config, logger, role, stores, links)),
    );
    const placement = new RunnerPlacement({ config, logger, role, eventStore, readStore, leases, handlers, runners });
    const health = subscriptionHealth(config, stores, handlers, () => placement.followed);
    metrics.followSubscriptions(health);
    const system: System = {
      config,
      eventStore,
      readStore,
      readServer: stores.readServer,
      leases,
      tokens,
      services,
      signedOut,
      handlers,
      runners,
      get gate() {
        return placement.gate;
      },
      metrics,
      overload: overloadGuards(config, stores.buckets),
      health,
      heaps: () => heapsOf(placement.projectorHeap()),
      projectorDown: () => placement.projectorDown(),
      startProjections: () => placement.start(),
      followProjections: () => placement.follow(),
      async close() {
        await placement.stop();
        await closeAll(opened);
      },
    };
    metrics.followHeaps(() => system.heaps());
    return system;
  } catch (error) {
    await closeAll(opened);
    throw error;
  }
}

interface Stores {
  eventStore: EventStore;
  personalData: PersonalDataParts;
  snapshots: SnapshotStore;
  readServer: MongoServerInfo | null;
  readStore: ReadStore;
  leases: LeaseStore;
  idempotency: IdempotencyRecords;
  buckets: BucketStore;
}

/** The stores the configuration names, each added to `opened` once open (so a failure after it closes it). */
async function openStores(
  config: Config,
  logger: Logger,
  process: { role: string; hearCommits: boolean },
  metrics: Metrics,
  opened: Array<{ close(): Promise<void> }>,
): Promise<Stores> {
  const { role, hearCommits } = process;
  // With a projector thread in this process, the writer announces each commit to it directly.
  const announceCommits = role === 'api' && config.projectionThread === 'worker';
  const caches = pageCaches(config, role);
  const personal = await openPersonalData(config);
  opened.push(personal);
  const stores = openEventStore(config, { announceCommits, hearCommits }, caches.events);
  // Every append checked against its event's schema, every read upcast to the current version (versioned-event-store.ts),
  // the schemas compiled into fast checks: this is on the hot path of every command and subscription. Below
  // that, personal data sealed with its owner's key (infra/eventsourcing/personal-data/).
  const eventStore = instrumentEventStore(
    versionedEventStore(sealingPersonalData(stores.events, personal), domainEvents.withChecks(compiledChecks())),
    metrics,
  );
  opened.push(eventStore);
  // A server's read.db is checkpointed by a thread of its own, one per process (started by
  // its main thread; the projector thread's connections count on it too). The CLI's
  // commands are short, or rebuilds that no request waits on: they checkpoint inline.
  const checkpointer = config.readStore === 'embedded' && role !== 'cli';
  const inlineCheckpointPages = checkpointer ? BACKSTOP_CHECKPOINT_PAGES : INLINE_CHECKPOINT_PAGES;
  const readServer = config.readStore === 'mongo' ? await describeMongoServerAt(config.mongodbUri!) : null;
  const readStore = await openReadStore(config, inlineCheckpointPages, caches.readStore);
  opened.push(readStore);
  if (checkpointer && isMainThread) {
    opened.push(
      startWalCheckpointer(readDbFile(config), {
        everyMs: READ_DB_CHECKPOINT_MS,
        onError: (error) => logger.warn({ err: error }, 'read.db checkpoint failed'),
      }),
    );
  }
  const leases =
    config.readStore === 'mongo'
      ? await openMongoLeases(config.mongodbUri!, config.mongodbDb)
      : openSqliteLeases(readDbFile(config), { inlineCheckpointPages });
  opened.push(leases);
  const idempotency = await openIdempotencyRecords(config, logger);
  opened.push(idempotency);
  const buckets = await openBuckets(config, logger, role);
  opened.push(buckets);
  const snapshots = sealingSnapshots(stores.snapshots, personal);
  return { eventStore, personalData: personal, snapshots, readServer, readStore, leases, idempotency, buckets };
}

async function openTokens(config: Config, logger: Logger): Promise<TokenService> {
  const warn = (message: string) => logger.warn(message);
  // A key given by the environment is used alone; else the ring kept in DATA_DIR (`keys rotate`).
  const keys = keysFromEnvironment(config)
    ? await loadSigningKeys({
        privateKeyPem: config.jwtPrivateKey,
        publicKeyPem: config.jwtPublicKey,
        jwkFile: config.jwtKeyFile,
        dataDir: config.dataDir,
        warn,
      })
    : await openKeyRing(config.dataDir, { warn });
  return createTokenService({
    keys,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    lifetimeSeconds: config.jwtLifetimeSeconds,
  });
}

/** What the HTTP routes and the process managers run commands and queries with. */
function apiServices(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  stores: Stores,
  auth: { tokens: TokenService; signedOut: SignedOutTokenList; blockedUsers: BlockedUsers },
): ApiServices {
  const { eventStore, readStore, idempotency } = stores;
  return {
    eventStore,
    readStore,
    cache: new StreamStateCache(config.streamCacheMegabytes * 1024 * 1024),
    snapshots: {
      store: stores.snapshots,
      every: config.snapshotEveryEvents,
      observe: snapshotRecorder(metrics, logger),
    },
    newId: uuid,
    now: () => new Date(),
    passwords: scryptPasswords,
    idempotency,
    tokens: auth.tokens,
    rememberSignedOut: (tokenId, expiresAt) => auth.signedOut.remember(tokenId, expiresAt),
    blockedUsers: auth.blockedUsers,
    rememberSessionsEnded: (userId, sessions) => auth.signedOut.rememberSessionsEnded(userId, sessions),
    claimKeys: stores.personalData.claimKeys,
    personalDataKeys: stores.personalData.keys,
    openOrders: { any: (userId) => hasActiveOrders(readStore, userId) },
    observeCommand: commandRecorder(metrics),
    retention: {
      retriesMs: config.idempotencyRetentionHours * 3_600_000,
      marketOrdersMs: config.marketOrderMemorySeconds * 1000,
    },
    pastOrders: { find: (orderId) => findPastOrder(readStore, orderId) },
  };
}

/** Every projection and process manager. */
function eventHandlers(services: ApiServices): EventHandler[] {
  return [
    ...projections,
    accountOpening(services),
    dealSettlement(services),
    orderPlacement(services),
    orderPayment(services),
    blockedUserOrders(services),
  ];
}

function subscriptionHealth(
  config: Config,
  stores: Stores,
  handlers: EventHandler[],
  runners: () => readonly FollowedRunner[],
): SubscriptionHealth {
  const { eventStore, readStore, leases } = stores;
  // Lag is counted one past the readiness bound, so a lag over it never reads as within it.
  const lagCountLimit = Math.max(10_000, config.readyMaxLagEvents + 1);
  return new SubscriptionHealth({ eventStore, readStore, leases, handlers, runners, lagCountLimit });
}

function runnerOptions(
  config: Config,
  logger: Logger,
  role: string,
  stores: Stores,
  links: ThreadLinks,
): RunnerOptions {
  return {
    eventStore: stores.eventStore,
    readStore: stores.readStore,
    leases: stores.leases,
    owner: ownerName(role),
    log: runnerLog(logger),
    batchSize: config.projectionBatchSize,
    maxAttempts: config.projectionMaxAttempts,
    liveBatchIntervalMs: config.projectionLiveBatchMs,
    // API processes (ROLE=api) see a projector process's progress only through its
    // stored checkpoints: store one with every batch, not only with writes, or a
    // process manager's reactions would wait up to a second per link to be seen.
    idleCheckpointMs: config.role === 'projector' ? 0 : undefined,
    onAdvance: links.onAdvance,
  };
}

/** The V8 heap of this process's main thread, and of its projector thread if one runs. */
function heapsOf(projectorHeap: HeapSize | null | undefined): Record<string, HeapSize> {
  const main = getHeapStatistics();
  const heaps: Record<string, HeapSize> = { main: { used: main.used_heap_size, total: main.total_heap_size } };
  if (projectorHeap) heaps.projector = projectorHeap;
  return heaps;
}

/**
 * Where a process's runners run, and so whom read-your-writes follows: the runners of this
 * thread, a projector thread's (through stand-ins), or, in a process that runs none, the
 * checkpoints other processes' runners store.
 */
class RunnerPlacement {
  gate: ConsistencyGate;
  followed: FollowedRunner[];
  private projector: ProjectorThread | null = null;
  private checkpointFeed: CheckpointFeed | null = null;
  private retention: { stop(): void } | null = null;

  constructor(
    private readonly parts: {
      config: Config;
      logger: Logger;
      role: string;
      eventStore: EventStore;
      readStore: ReadStore;
      leases: LeaseStore;
      handlers: EventHandler[];
      runners: ProjectionRunner[];
    },
  ) {
    this.followed = parts.runners;
    this.gate = new ConsistencyGate(parts.eventStore, parts.runners);
  }

  projectorHeap(): HeapSize | null | undefined {
    return this.projector?.heap();
  }

  projectorDown(): string | null {
    return this.projector?.down() ?? null;
  }

  start(): void {
    const { config, logger, role, readStore, handlers, runners } = this.parts;
    this.retention ??= every(SIGN_OUT_PURGE_MS, () =>
      purgeExpiredSignOuts(readStore, new Date()).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not purge expired sign-outs; trying again later'),
      ),
    );
    if (config.projectionThread === 'worker' && role === 'api') {
      // Projections (which only write read models) go to the worker; process managers,
      // which run commands on the same streams as requests do, stay here and share this
      // thread's command queues instead of fighting another writer for hot streams.
      const isReactor = (h: EventHandler) => h.kind === 'process-manager';
      const local = runners.filter((r) => isReactor(r.handler));
      for (const runner of local) runner.start();
      this.projector = startProjectorThread(
        config,
        handlers.filter((h) => !isReactor(h)),
        { log: logger, giveUp: (line) => endProcess(logger, line) },
      );
      this.followFrom([...local, ...this.projector.runners]);
    } else {
      for (const runner of runners) runner.start();
    }
  }

  follow(): void {
    const { logger, readStore, leases, handlers } = this.parts;
    this.checkpointFeed ??= followCheckpoints(handlers, {
      readStore,
      leases,
      onError: (error) =>
        logger.warn({ err: error }, "could not read the projections' checkpoints; retrying with backoff"),
    });
    this.followFrom(this.checkpointFeed.runners);
  }

  async stop(): Promise<void> {
    this.retention?.stop();
    await this.checkpointFeed?.stop();
    await this.projector?.stop();
    await Promise.all(this.parts.runners.map((r) => r.stop()));
  }

  private followFrom(runners: FollowedRunner[]): void {
    this.followed = runners;
    this.gate = new ConsistencyGate(this.parts.eventStore, runners);
  }
}

/**
 * The projector thread kept dying: one fatal line, then the process shuts down as on
 * SIGTERM (requests in flight finish, the stores close) and exits with code 1, for the
 * orchestrator to restart it.
 */
function endProcess(logger: Logger, line: string): void {
  logger.fatal({ exitCode: 1 }, line);
  process.exitCode = 1;
  process.kill(process.pid, 'SIGTERM');
}

/**
 * How EMBEDDED_PAGE_CACHE_MB is shared between a process's connections to the embedded
 * files: the projections' read-model writes and the event writer get the most (their hot
 * pages are rewritten all the time), readers — whose recent events sit in the committed
 * tail, and whose queries touch few pages — less.
 */
export function pageCaches(config: Config, role: string) {
  const mb = config.embeddedPageCacheMb;
  if (role === 'projector') return { events: { reader: mb / 8, writer: mb / 8 }, readStore: (3 * mb) / 8 };
  return { events: { reader: mb / 8, writer: mb / 4 }, readStore: mb / 8 };
}

/** The event store the configuration names, and where its streams' snapshots are kept. */
function openEventStore(
  config: Config,
  commits: { announceCommits: boolean; hearCommits: boolean },
  pageCacheMb: { reader: number; writer: number },
): { events: EventStore; snapshots: SnapshotStore } {
  if (config.eventStore === 'esdb') {
    const esdb = openEsdbEventStore({ connectionString: config.eventStoreConnectionString! });
    return { events: esdb, snapshots: streamSnapshotStore(esdb, esdb) };
  }
  const embedded = openSqliteEventStore({
    file: join(config.dataDir, 'events.db'),
    durability: config.embeddedDurability,
    pageCacheMb,
    ...commits,
  });
  return { events: embedded, snapshots: embedded.snapshots };
}

/** How often expired sign-outs are purged from the read model: a token lifetime is a day by default. */
const SIGN_OUT_PURGE_MS = 10 * 60_000;

/** Runs `task` now and every `ms` after, without holding the process open. */
function every(ms: number, task: () => Promise<unknown>): { stop(): void } {
  void task();
  const timer = setInterval(() => void task(), ms);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** How often the checkpointer copies read.db's WAL back (docs/PERFORMANCE.md, "Why the code is as it is", "read.db's checkpointer every 500 ms"). */
const READ_DB_CHECKPOINT_MS = 500;

function readDbFile(config: Config): string {
  return join(config.dataDir, 'read.db');
}

async function openReadStore(config: Config, inlineCheckpointPages: number, pageCacheMb: number): Promise<ReadStore> {
  if (config.readStore === 'mongo') return openMongoReadStore({ uri: config.mongodbUri!, dbName: config.mongodbDb });
  return openSqliteReadStore({ file: readDbFile(config), inlineCheckpointPages, pageCacheMb });
}

async function openIdempotencyRecords(config: Config, logger: Logger): Promise<IdempotencyRecords> {
  const options = {
    retentionMs: config.idempotencyRetentionHours * 3_600_000,
    // Not synced: a sync per turn on the request thread cost ~8 % of bench:trading's orders/s
    // (docs/ARCHITECTURE.md, "Built to last", says what a power cut can then do).
    syncClaims: false,
    onPurgeError: (error: unknown) =>
      logger.warn({ err: error }, 'could not purge expired idempotency answers; trying again later'),
  };
  if (config.readStore === 'mongo') return openMongoIdempotencyRecords(config.mongodbUri!, config.mongodbDb, options);
  return openSqliteIdempotencyRecords(join(config.dataDir, 'idempotency.db'), options);
}

/** The rate limits' buckets: shared through MongoDB by the API processes on it, else this process's own. */
async function openBuckets(config: Config, logger: Logger, role: string): Promise<BucketStore> {
  if (config.readStore !== 'mongo' || role !== 'api') return inProcessBuckets();
  return openMongoBuckets(config.mongodbUri!, config.mongodbDb, {
    onPurgeError: (error) => logger.warn({ err: error }, 'could not purge full rate-limit buckets; trying again later'),
  });
}

async function closeAll(resources: Array<{ close(): Promise<void> }>): Promise<void> {
  // Reverse order: what was opened last may depend on what was opened first.
  for (const resource of [...resources].reverse()) await resource.close().catch(() => undefined);
}
