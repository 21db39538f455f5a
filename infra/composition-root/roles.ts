/**
 * What one server process runs, by `ROLE`:
 * - `all` (the default): the HTTP API, the projections (in a worker thread unless
 *   `PROJECTION_THREAD=main`) and the process managers — the whole product in one process;
 * - `api`: the HTTP API only. It runs no runner, so any number of replicas can serve;
 *   read-your-writes follows the checkpoints the projector processes store;
 * - `projector`: every projection and process manager, no API routes, only the probes
 *   (`/health`, `/ready`) on `PORT`. Leases keep one active instance of each across replicas.
 */
import { BusinessRuleViolation } from '../../domain/decider.js';
import { provisionBroker } from '../../command-handlers/admin.js';
import { backoffDelay, sleep } from '../eventsourcing/backoff.js';
import type { Config } from '../config/config.js';
import { checkRoleOnFerretDb } from '../mongodb/ferretdb-guard.js';
import { projectorReadiness, readModelsReadiness } from '../http/probes.js';
import { createHttpApp, listen, liveStreamOptions, type RunningServer } from '../http/server.js';
import type { Logger } from '../log/log.js';
import { checkStoresReachable } from './startup-checks.js';
import { openSystem, type System } from './system.js';

export type Role = Config['role'];

/** What has been started so far, so a shutdown during start-up closes exactly that. */
export interface Started {
  system?: System;
  server?: RunningServer;
}

/**
 * Starts the process `config.role` describes, filling `started` as each part comes up.
 * Unreachable stores fail it with `StoreUnreachable` within `STARTUP_TIMEOUT_MS`; a role
 * FerretDB cannot keep safe, with `UnsafeOnFerretDb` (see ferretdb-guard.ts).
 */
export async function startRole(config: Config, logger: Logger, started: Started = {}): Promise<Required<Started>> {
  await checkStoresReachable(config);
  // Lease owners are named after the part of the product they run ('api' for the whole of it, as before roles).
  const system = await openSystem(config, logger, config.role === 'projector' ? 'projector' : 'api');
  started.system = system;
  await checkRoleOnFerretDb(system, config.role, logger);
  const servesApi = config.role !== 'projector';
  if (servesApi) await provisionConfiguredBroker(system, logger);
  if (config.role === 'api') system.followProjections();
  else system.startProjections();
  const { eventStore, readStore } = system;
  const app = createHttpApp({
    dependencies: [
      { name: 'eventStore', ping: () => eventStore.ping() },
      { name: 'readStore', ping: () => readStore.ping() },
      readModelsReadiness(system.health, { maxLagEvents: config.readyMaxLagEvents, maxLagMs: config.readyMaxLagMs }),
      projectorReadiness(system),
    ],
    logError: (error) => logger.error({ err: error }, 'request failed'),
    metrics: system.metrics,
    requestLog: logger,
    cors: { allowedOrigins: config.corsAllowedOrigins },
    api: servesApi
      ? {
          services: system.services,
          tokens: system.tokens,
          signedOut: system.signedOut,
          gate: system.gate,
          readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
          overload: system.overload,
          liveStream: liveStreamOptions(config),
        }
      : undefined,
  });
  const server = await listen(app, config.port, config.host, {
    headersTimeoutMs: config.httpHeadersTimeoutMs,
    requestTimeoutMs: config.httpRequestTimeoutMs,
    keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
    maxConnections: config.httpMaxConnections,
  });
  started.server = server;
  return { system, server };
}

/** Stops accepting, lets in-flight requests finish, then stops the runners and closes the stores. */
export async function stopRole(started: Started, shutdownTimeoutMs: number): Promise<void> {
  await started.server?.close(shutdownTimeoutMs);
  await started.system?.close();
}

/** The broker named by BROKER_EMAIL exists, with the broker role, before the first request. */
async function provisionConfiguredBroker(system: System, logger: Logger): Promise<void> {
  const { brokerEmail, brokerPassword } = system.config;
  if (!brokerEmail || !brokerPassword) {
    logger.warn(
      'no broker: BROKER_EMAIL and BROKER_PASSWORD are not set, so nobody can list items (npm run cli -- broker provision creates one)',
    );
    return;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await provisionBroker(system.services, {
        email: brokerEmail,
        password: brokerPassword,
        resetPassword: false,
        by: 'configuration',
      });
      logger.info(
        { brokerId: result.userId, created: result.created, roleChanged: result.roleChanged },
        'broker provisioned',
      );
      return;
    } catch (error) {
      // API replicas starting together race to create the broker: the loser sees the
      // address claimed by a registration still in progress, and finds the broker next time.
      const raced = error instanceof BusinessRuleViolation && error.code === 'email_taken';
      if (!raced || attempt >= PROVISIONING_ATTEMPTS - 1) throw error;
      await sleep(backoffDelay(attempt, { initialDelayMs: 200, maxDelayMs: 2_000 }));
    }
  }
}

const PROVISIONING_ATTEMPTS = 8;
