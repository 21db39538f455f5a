/** Starts the projector thread (`projector-thread.ts`) and follows its runners' progress from this thread. */
import { Worker } from 'node:worker_threads';
import type { EventHandler } from '../projections/projection.js';
import type { Config } from './config/config.js';
import { RemoteRunner, type ReportedStatus } from './subscriptions/remote-runner.js';

export interface ProjectorThread {
  /** Stand-ins for the thread's runners, for read-your-writes. */
  runners: RemoteRunner[];
  stop(): Promise<void>;
}

export function startProjectorThread(config: Config, handlers: EventHandler[], onError: (error: unknown) => void): ProjectorThread {
  const worker = new Worker(new URL('./projector-thread.js', import.meta.url), { workerData: { config } });
  const runners = handlers.map((h) => new RemoteRunner(h));
  const byName = new Map(runners.map((r) => [r.handler.name, r]));
  let stopped: (() => void) | null = null;
  worker.on('message', (message: { progress?: ReportedStatus[]; stopped?: boolean }) => {
    for (const report of message.progress ?? []) byName.get(report.name)?.report(report);
    if (message.stopped) stopped?.();
  });
  worker.on('error', onError);
  return {
    runners,
    stop: () =>
      new Promise<void>((resolve) => {
        stopped = resolve;
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      }),
  };
}
