/** Starts the projector thread (`projector-thread.ts`) and follows its runners' progress from this thread. */
import { Worker } from 'node:worker_threads';
import type { EventHandler } from '../projections/projection.js';
import type { Config } from './config/config.js';
import { RemoteRunner, type ReportedStatus } from './subscriptions/remote-runner.js';

export interface ProjectorThread {
  /** Stand-ins for the thread's runners, for read-your-writes. */
  runners: RemoteRunner[];
  /** Tells the thread this one appended (its subscriptions wake at once). */
  notifyAppended(): void;
  stop(): Promise<void>;
}

export function startProjectorThread(config: Config, handlers: EventHandler[], onError: (error: unknown) => void): ProjectorThread {
  const worker = new Worker(new URL('./projector-thread.js', import.meta.url), { workerData: { config } });
  const runners = handlers.map((h) => new RemoteRunner(h));
  const byName = new Map(runners.map((r) => [r.handler.name, r]));
  let stopped: (() => void) | null = null;
  worker.on('message', (message: { progress?: ReportedStatus; stopped?: boolean }) => {
    if (message.progress) byName.get(message.progress.name)?.report(message.progress);
    if (message.stopped) stopped?.();
  });
  worker.on('error', onError);
  return {
    runners,
    notifyAppended: () => worker.postMessage('appended'),
    stop: () =>
      new Promise<void>((resolve) => {
        stopped = resolve;
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      }),
  };
}
