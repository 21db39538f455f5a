/**
 * Read-your-writes in a process that runs no projection (`ROLE=api`): the runners live in
 * other processes, and what they store is all this one can see of them. A runner commits
 * its checkpoint with each batch's writes, so a stored checkpoint is exactly what a query
 * may rely on; its lease says whether anyone is running it at all. This feed polls both
 * and reports them to one stand-in per handler, which the `ConsistencyGate` waits on.
 */
import type { EventHandler } from './event-handler.js';
import { backoffDelay, sleep } from '../backoff.js';
import { formatPosition } from '../event-store/position.js';
import type { ReadStore } from '../read-store/read-store.js';
import type { LeaseStore } from './leases.js';
import { RemoteRunner } from './remote-runner.js';

export interface CheckpointFeedOptions {
  readStore: Pick<ReadStore, 'listCheckpoints'>;
  leases: Pick<LeaseStore, 'list'>;
  /** How often checkpoints are read: the most read-your-writes adds to a runner's own lag. */
  intervalMs?: number;
  /** Told once when polling starts failing (the store is down; polling goes on with backoff). */
  onError?: (error: unknown) => void;
}

export interface CheckpointFeed {
  /** Stand-ins for the handlers' runners, wherever they run. */
  runners: RemoteRunner[];
  /** Reads the stored checkpoints and leases once (also done on every tick). */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_INTERVAL_MS = 50;

export function followCheckpoints(
  handlers: ReadonlyArray<Pick<EventHandler, 'name' | 'kind' | 'filter'>>,
  options: CheckpointFeedOptions,
): CheckpointFeed {
  const runners = handlers.map((h) => new RemoteRunner(h));
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const stopping = new AbortController();

  async function poll(): Promise<void> {
    const [checkpoints, leases] = await Promise.all([options.readStore.listCheckpoints(), options.leases.list()]);
    const positions = new Map(checkpoints.map((c) => [c.name, c.position]));
    const holders = new Map(leases.map((l) => [l.name, l.holder]));
    for (const runner of runners) {
      const position = positions.get(runner.handler.name) ?? null;
      // An unexpired lease means a runner is at work on it: the gate may then take "nothing
      // for it to handle up to the position" as reached. Without one, nothing moves the
      // read model, and waiting for it must time out rather than pretend.
      const running = Boolean(holders.get(runner.handler.name));
      runner.report({
        name: runner.handler.name,
        state: running ? 'live' : 'waiting-for-lease',
        position: position ? formatPosition(position) : null,
        lastError: null,
      });
    }
  }

  const loop = (async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      try {
        await poll();
        failures = 0;
        await sleep(intervalMs, stopping.signal);
      } catch (error) {
        if (failures === 0) options.onError?.(error);
        await sleep(
          Math.max(intervalMs, backoffDelay(failures, { initialDelayMs: intervalMs, maxDelayMs: 5_000 })),
          stopping.signal,
        );
        failures += 1;
      }
    }
  })();

  return {
    runners,
    poll,
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
