/**
 * The projector: every read-model projection, in a worker thread of the server process,
 * so building read models uses the second core instead of the event loop that answers
 * requests. It opens its own connections to the stores (SQLite in WAL
 * mode serves both threads). It is told of the API thread's appends at once and reports each
 * runner's progress back, which is what read-your-writes waits on.
 *
 * Messages in: 'stop'. Out: { progress: [...] }, { ready }, { stopped }. Commits are heard from the
 * API thread's writer directly (event-store/sqlite/commit-announcements.ts).
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import { formatPosition } from '../eventsourcing/event-store/position.js';
import { createLogger } from '../log/log.js';
import type { ReportedStatus } from '../eventsourcing/subscriptions/remote-runner.js';
import { PerTurnBatch } from '../sqlite/per-turn.js';
import { openSystem } from './system.js';

if (!parentPort) throw new Error('projector-thread runs as a worker thread');
const port = parentPort;
// The API thread's configuration, already checked there (plain data crosses threads as is).
const config = workerData.config as Config;
const HEAP_REPORT_MS = 5_000;
const logger = createLogger(config.logLevel).child({ thread: 'projector' });

// The runners' progress of one turn goes in one message, the latest of each: runners woken
// by the same commit move on together, and each message is work for the API thread.
const progress = new PerTurnBatch<ReportedStatus>((reports) => {
  const latest = new Map(reports.map((report) => [report.name, report]));
  port.postMessage({ progress: [...latest.values()] });
});
const system = await openSystem(config, logger, 'projector', {
  hearCommits: true,
  onAdvance: (status) =>
    progress.add({ ...status, position: status.position ? formatPosition(status.position) : null }),
});
port.on('message', async (message: unknown) => {
  if (message === 'stop') {
    await system.close();
    progress.flush();
    port.postMessage({ stopped: true });
    port.close();
  }
});
// Projections only: process managers stay with the API thread's command queues.
for (const runner of system.runners) if (runner.handler.kind !== 'process-manager') runner.start();
port.postMessage({ ready: true });
// This thread's V8 heap, for the API thread's metrics (a worker's heap is its own, apart from the process's).
const heapReports = setInterval(() => {
  const heap = getHeapStatistics();
  port.postMessage({ heap: { used: heap.used_heap_size, total: heap.total_heap_size } });
}, HEAP_REPORT_MS);
heapReports.unref();
