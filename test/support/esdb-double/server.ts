/** Wires the handlers into a gRPC server bound to 127.0.0.1. */
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';

import { appendHandler } from './append.js';
import { batchAppendHandler } from './batch-append.js';
import { OpenCalls } from './calls.js';
import type { DoubleCluster } from './cluster.js';
import { Faults, LateAnswers, type DoubleContext, type FaultyMethod, type SlowMethod } from './context.js';
import { unavailable } from './errors.js';
import { gossipReadHandler } from './gossip.js';
import { gossipGrpc, serverFeaturesGrpc, streamsGrpc } from './pb.js';
import { readHandler } from './read.js';
import { getSupportedMethodsHandler } from './server-features.js';
import { EventLog, type EventLogOptions } from './store.js';

export interface EsdbDoubleOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Advertise BatchAppend (default true). With false the client falls back to Append. */
  batchAppend?: boolean;
  /** The server's MaxAppendSize in bytes (default 1 MiB). */
  maxAppendSize?: number;
  /**
   * The data to serve: pass a stopped double's `log` (and `port`) to restart that server with its
   * data, or one log to every member of a cluster.
   */
  log?: EventLog;
  /** For a new log: the committed-events cache size and the start-up system events. */
  logOptions?: EventLogOptions;
  /** Send `fell_behind` when a subscription falls behind (24.10 does not; default false). */
  sendFellBehind?: boolean;
  /** Live events a subscription buffers before it falls behind (the server's 32). */
  liveBufferSize?: number;
  /** Join this cluster: the first member is its leader; every member answers gossip. */
  cluster?: DoubleCluster;
}

export interface EsdbDouble {
  /** e.g. 'esdb://127.0.0.1:PORT?tls=false' */
  connectionString: string;
  port: number;
  /** Its data, kept after `stop()`. */
  log: EventLog;
  /** Ends open subscriptions (UNAVAILABLE, as a server going down) and shuts the server down. */
  stop(): Promise<void>;
  /**
   * Test hook: make the next `count` calls of `method` fail with UNAVAILABLE. For 'append' and
   * 'read' a call is one RPC; for 'batchAppend' it is one append sent over the long-lived
   * BatchAppend stream, and failing it ends that whole stream, as a server going away would.
   */
  failNext(method: FaultyMethod, count: number): void;
  /**
   * Test hook: the next append over `method` is written at once but answered only after
   * `delayMs` (a client whose deadline is shorter gives up on a write that happened).
   */
  answerLate(method: SlowMethod, delayMs: number): void;
  /** Introspection for tests: live events dropped because subscribers were too slow. */
  liveEventsDropped(): number;
  /** Test hook: abort every open subscription with UNAVAILABLE (server "restart"), keeping the data. */
  dropSubscriptions(): void;
  /** Introspection for tests: subscriptions currently open (cancelled ones are removed). */
  openSubscriptions(): number;
}

/** How long stop() lets calls finish before cutting them. */
const SHUTDOWN_GRACE_MS = 1_000;

export async function startEsdbDouble(options: EsdbDoubleOptions = {}): Promise<EsdbDouble> {
  const context: DoubleContext = {
    log: options.log ?? new EventLog(options.logOptions),
    faults: new Faults(),
    late: new LateAnswers(),
    calls: new OpenCalls(),
    maxAppendSize: options.maxAppendSize ?? 1_048_576,
    sendFellBehind: options.sendFellBehind ?? false,
    liveBufferSize: options.liveBufferSize ?? 32,
    stats: { liveEventsDropped: 0 },
  };

  const server = new Server();
  // Delete and Tombstone are left out: the server answers them UNIMPLEMENTED.
  // The generated service types are declared per method; the implementation object is checked
  // against them by hand, so the untyped form grpc-js accepts is enough here.
  server.addService(streamsGrpc.StreamsService, {
    read: readHandler(context),
    append: appendHandler(context),
    batchAppend: batchAppendHandler(context),
  } as UntypedServiceImplementation);
  if (options.cluster !== undefined) {
    server.addService(gossipGrpc.GossipService, {
      read: gossipReadHandler(options.cluster),
    } as UntypedServiceImplementation);
  }
  server.addService(serverFeaturesGrpc.ServerFeaturesService, {
    getSupportedMethods: getSupportedMethodsHandler({ batchAppend: options.batchAppend ?? true }),
  } as UntypedServiceImplementation);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  if (options.cluster !== undefined)
    context.node = { cluster: options.cluster, member: options.cluster.join('127.0.0.1', port) };

  let stopped: Promise<void> | undefined;
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    log: context.log,
    failNext: (method, count) => context.faults.failNext(method, count),
    answerLate: (method, delayMs) => context.late.answerLate(method, delayMs),
    liveEventsDropped: () => context.stats.liveEventsDropped,
    dropSubscriptions: () => context.calls.abortAll(unavailable('Server restarting'), 'subscription'),
    openSubscriptions: () => context.calls.count('subscription'),
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        context.calls.abortAll(unavailable('Server shutting down'));
        const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return stopped;
    },
  };
}
