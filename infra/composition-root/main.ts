/**
 * `npm start`: the server process, on the stores the environment selects (embedded SQLite
 * by default), running what `ROLE` says (see roles.ts): by default the whole product —
 * HTTP API, projections and process managers — in one process.
 */
import { ConfigError, loadConfig } from '../config/config.js';
import { createLogger } from '../log/log.js';
import { startRole, stopRole, type Started } from './roles.js';
import { StoreUnreachable } from './startup-checks.js';
import { UnsafeOnFerretDb } from '../mongodb/ferretdb-guard.js';

let logger = createLogger('info');

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger(config.logLevel);

  // Signal handlers go in first: a SIGTERM during start-up still ends in a clean shutdown.
  const started: Started = {};
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    await stopRole(started, config.shutdownTimeoutMs);
    logger.info('stopped');
    // The log is written asynchronously: exiting at once could lose its last lines. A log
    // that cannot be flushed (its reader gone) must not hold the exit up, though.
    // 0, unless the process ends for a fault (a projector thread that kept dying set 1).
    const exit = () => process.exit();
    setTimeout(exit, 2_000);
    logger.flush(exit);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const { server } = await startRole(config, logger, started);
  logger.info(
    {
      role: config.role,
      port: server.port,
      eventStore: config.eventStore,
      readStore: config.readStore,
      dataDir: config.dataDir,
    },
    config.role === 'projector' ? 'marketplace projector running (probes only on this port)' : 'marketplace listening',
  );
}

main().catch((error: unknown) => {
  // Mistakes an operator must fix get one plain line, not a stack trace.
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
  } else if (error instanceof StoreUnreachable || error instanceof UnsafeOnFerretDb) {
    console.error(`could not start: ${error.message}`);
  } else {
    logger.fatal({ err: error }, `could not start: ${(error as Error).message}`);
  }
  process.exit(1);
});
