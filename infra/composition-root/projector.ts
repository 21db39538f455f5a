/** Starts the projector thread (`projector-thread.ts`) and follows its runners' progress from this thread. */
import { Worker } from 'node:worker_threads';
import type { EventHandler } from '../eventsourcing/subscriptions/event-handler.js';
import type { Config } from '../config/config.js';
import { RemoteRunner, type ReportedStatus } from '../eventsourcing/subscriptions/remote-runner.js';

/** A thread's V8 heap in bytes: what is in use, and what it holds from the system. */
export interface HeapSize {
  used: number;
  total: number;
}

export interface ProjectorThread {
  /** Stand-ins for the thread's runners, for read-your-writes. */
  runners: RemoteRunner[];
  /** The thread's heap as it last reported it (every few seconds); null before its first report. */
  heap(): HeapSize | null;
  stop(): Promise<void>;
}

/**
 * The projector's heap. Young: its short-lived objects are the events and writes of a
 * batch; V8's larger default nursery for a thread only held more garbage. Old: room for its
 * live data (the committed tail, a batch's view); without a limit V8 let garbage grow the
 * heap far past it before collecting. See docs/PERFORMANCE.md, "Why the code is as it is",
 * "Heap limits and malloc arenas".
 */
const PROJECTOR_YOUNG_GENERATION_MB = 24;
const PROJECTOR_OLD_GENERATION_MB = 128;

export function startProjectorThread(
  config: Config,
  handlers: EventHandler[],
  onError: (error: unknown) => void,
): ProjectorThread {
  const worker = new Worker(new URL('./projector-thread.js', import.meta.url), {
    workerData: { config },
    resourceLimits: {
      maxYoungGenerationSizeMb: PROJECTOR_YOUNG_GENERATION_MB,
      maxOldGenerationSizeMb: PROJECTOR_OLD_GENERATION_MB,
    },
  });
  const runners = handlers.map((h) => new RemoteRunner(h));
  const byName = new Map(runners.map((r) => [r.handler.name, r]));
  let stopped: (() => void) | null = null;
  let heap: HeapSize | null = null;
  worker.on('message', (message: { progress?: ReportedStatus[]; stopped?: boolean; heap?: HeapSize }) => {
    for (const report of message.progress ?? []) byName.get(report.name)?.report(report);
    if (message.heap) heap = message.heap;
    if (message.stopped) stopped?.();
  });
  worker.on('error', onError);
  return {
    runners,
    heap: () => heap,
    stop: () =>
      new Promise<void>((resolve) => {
        stopped = resolve;
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      }),
  };
}
