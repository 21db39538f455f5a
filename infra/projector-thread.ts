/**
 * The projector: every read-model projection, in a worker thread of the server process,
 * so building read models uses the second core instead of the event loop that answers
 * requests. It opens its own connections to the stores (SQLite in WAL
 * mode serves both threads). It is told of the API thread's appends at once and reports each
 * runner's progress back, which is what read-your-writes waits on.
 *
 * Messages in: 'appended' (the API thread committed), 'stop'. Out: { progress }, { ready }, { stopped }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from './config/config.js';
import { formatPosition } from './event-store/position.js';
import { createLogger } from './log.js';
import type { ReportedStatus } from './subscriptions/remote-runner.js';
import { openSystem } from './system.js';

if (!parentPort) throw new Error('projector-thread runs as a worker thread');
const port = parentPort;
// The API thread's configuration, already checked there (plain data crosses threads as is).
const config = workerData.config as Config;
const logger = createLogger(config.logLevel).child({ thread: 'projector' });

const wakeUps: Array<() => void> = [];
const system = await openSystem(config, logger, 'projector', {
  appendsElsewhere: { listen: (wake) => void wakeUps.push(wake) },
  onAdvance: (status) => {
    const reported: ReportedStatus = { ...status, position: status.position ? formatPosition(status.position) : null };
    port.postMessage({ progress: reported });
  },
});
port.on('message', async (message: unknown) => {
  if (message === 'appended') {
    for (const wake of wakeUps) wake();
  } else if (message === 'stop') {
    await system.close();
    port.postMessage({ stopped: true });
    port.close();
  }
});
// Projections only: process managers stay with the API thread's command queues.
for (const runner of system.runners) if (runner.handler.kind !== 'process-manager') runner.start();
port.postMessage({ ready: true });
