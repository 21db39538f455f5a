/**
 * `npm start`: the whole product in one process — HTTP API, projections and process
 * managers — on the stores the environment selects (embedded SQLite by default).
 */
import { provisionBroker } from '../command-handlers/identity.js';
import { ConfigError, loadConfig } from './config/config.js';
import { readModelsReadiness } from './http/probes.js';
import { createHttpApp, listen, type RunningServer } from './http/server.js';
import { createLogger } from './log.js';
import { openSystem, type System } from './system.js';

let logger = createLogger('info');

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger(config.logLevel);

  // Signal handlers go in first: a SIGTERM during start-up still ends in a clean shutdown.
  let system: System | null = null;
  let server: RunningServer | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    await server?.close(config.shutdownTimeoutMs);
    await system?.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  system = await openSystem(config, logger);
  const { eventStore, readStore } = system;
  await provisionConfiguredBroker(system);
  system.startProjections();
  const app = createHttpApp({
    dependencies: [
      { name: 'eventStore', ping: () => eventStore.ping() },
      { name: 'readStore', ping: () => readStore.ping() },
      readModelsReadiness(system.health, { maxLagEvents: config.readyMaxLagEvents, maxLagMs: config.readyMaxLagMs }),
    ],
    logError: (error) => logger.error({ err: error }, 'request failed'),
    metrics: system.metrics,
    requestLog: logger,
    api: {
      services: system.services,
      tokens: system.tokens,
      signedOut: system.signedOut,
      gate: system.gate,
      readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
    },
  });
  server = await listen(app, config.port, config.host);
  logger.info({ port: server.port, eventStore: config.eventStore, readStore: config.readStore, dataDir: config.dataDir }, 'marketplace listening');
}

/** The broker named by BROKER_EMAIL exists, with the broker role, before the first request. */
async function provisionConfiguredBroker(system: System): Promise<void> {
  const { brokerEmail, brokerPassword } = system.config;
  if (!brokerEmail || !brokerPassword) {
    logger.warn('no broker: BROKER_EMAIL and BROKER_PASSWORD are not set, so nobody can list items (npm run cli -- broker provision creates one)');
    return;
  }
  const result = await provisionBroker(system.services, { email: brokerEmail, password: brokerPassword, resetPassword: false });
  logger.info({ brokerId: result.userId, created: result.created, roleChanged: result.roleChanged }, 'broker provisioned');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
  } else {
    logger.fatal({ err: error }, `could not start: ${(error as Error).message}`);
  }
  process.exit(1);
});
