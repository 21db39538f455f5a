/** Starts the projector thread (`projector-thread.ts`), keeps it running, and follows its runners' progress from this thread. */
import { Worker } from 'node:worker_threads';
import type { EventHandler } from '../eventsourcing/subscriptions/event-handler.js';
import type { Config } from '../config/config.js';
import { RemoteRunner, type ReportedStatus } from '../eventsourcing/subscriptions/remote-runner.js';
import { ThreadSupervisor, type SupervisorOptions } from './thread-supervisor.js';

/** A thread's V8 heap in bytes: what is in use, and what it holds from the system. */
export interface HeapSize {
  used: number;
  total: number;
}

export interface ProjectorThread {
  /** Stand-ins for the thread's runners, for read-your-writes (the same across restarts). */
  runners: RemoteRunner[];
  /** The thread's heap as it last reported it (every few seconds); null before its first report. */
  heap(): HeapSize | null;
  /** Why the thread is not running now (dead, waiting to be restarted, not started yet); null while it runs. */
  down(): string | null;
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

/** How the thread is kept running: its log, and what ends the process when it keeps dying. */
export type ProjectorSupervision = Pick<SupervisorOptions, 'log' | 'giveUp'> &
  Partial<Pick<SupervisorOptions, 'restartBackoff' | 'maxDeaths' | 'windowMs'>>;

/** Starts the thread, supervised (thread-supervisor.ts): restarted with backoff when it dies. */
export function startProjectorThread(
  config: Config,
  handlers: EventHandler[],
  supervision: ProjectorSupervision,
): ProjectorThread {
  const runners = handlers.map((h) => new RemoteRunner(h));
  const byName = new Map(runners.map((r) => [r.handler.name, r]));
  let heap: HeapSize | null = null;
  const supervisor = new ThreadSupervisor({
    ...supervision,
    name: 'projector thread',
    spawn: () =>
      new Worker(new URL('./projector-thread.js', import.meta.url), {
        workerData: { config },
        resourceLimits: {
          maxYoungGenerationSizeMb: PROJECTOR_YOUNG_GENERATION_MB,
          maxOldGenerationSizeMb: PROJECTOR_OLD_GENERATION_MB,
        },
      }),
    onMessage: (message) => {
      const { progress, heap: reported } = message as { progress?: ReportedStatus[]; heap?: HeapSize };
      for (const report of progress ?? []) byName.get(report.name)?.report(report);
      if (reported) heap = reported;
    },
    // Its runners stopped with it: their stand-ins say so (and why) until the new thread reports.
    onDown: (reason) => {
      for (const runner of runners) runner.stopped(reason);
    },
  });
  supervisor.start();
  return { runners, heap: () => heap, down: () => supervisor.down(), stop: () => supervisor.stop() };
}
