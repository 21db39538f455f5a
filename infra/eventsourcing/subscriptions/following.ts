import type { EventHandler } from './event-handler.js';
import type { AllSubscription, EventStore } from '../event-store/event-store.js';
import { isAfter, type Position } from '../event-store/position.js';
import type { ReadStore } from '../read-store/read-store.js';
import { sleep } from '../backoff.js';
import type { Committer } from './committer.js';
import type { EventHandling } from './event-handling.js';
import { followInPipeline } from './follow-pipeline.js';
import type { LeaseHolder } from './lease-holder.js';
import type { Parking } from './parking.js';
import type { RunnerProgress } from './runner-status.js';

/** What following `$all` for one handler works with: the runner's parts and settings. */
export interface Follower {
  handler: EventHandler;
  eventStore: EventStore;
  readStore: ReadStore;
  progress: RunnerProgress;
  lease: Pick<LeaseHolder, 'held'>;
  handling: EventHandling;
  committer: Committer;
  parking: Parking;
  batchSize: number;
  /** Stored checkpoints are moved at least this often while only filtered-out events pass. */
  idleCheckpointMs: number;
  /** Once live, batches start at most this often. */
  liveBatchIntervalMs: number;
}

export interface RebuildProgress {
  events: number;
  position: Position | null;
  caughtUp: boolean;
}

/** A rebuild follows until it has caught up with the head of `$all`, committing every batch. */
export interface Rebuilding {
  untilCaughtUp: boolean;
  onProgress?: (progress: RebuildProgress) => void;
}

/**
 * Follows `$all` from the handler's stored checkpoint: catching up, then live, until
 * `signal` aborts or (when rebuilding) it has caught up. A handler that writes no read
 * models and names its partitions (a process manager) is followed in a pipeline
 * (follow-pipeline.ts); every other in batches, each committed with its checkpoint.
 */
export async function followFromCheckpoint(
  follower: Follower,
  signal: AbortSignal,
  rebuild?: Rebuilding,
): Promise<void> {
  const { handler, eventStore, readStore } = follower;
  await readStore.ensureCollections(handler.collections);
  const stored = await readStore.getCheckpoint(handler.name);
  const parked = await readStore.listParked(handler.name);
  follower.committer.resumeFrom(stored.position);
  follower.parking.resumeFrom(parked);
  follower.progress.resumeFrom(stored.position);
  const subscription = eventStore.subscribeToAll({
    fromPosition: stored.position ?? 'start',
    filter: handler.filter,
    maxBatchSize: follower.batchSize,
  });
  const onAbort = () => void subscription.close();
  signal.addEventListener('abort', onAbort, { once: true });
  const partitionKey = handler.partitionKey?.bind(handler);
  try {
    if (!rebuild && partitionKey && handler.collections.length === 0)
      return await followInPipeline(follower, subscription, partitionKey, signal);
    await followInBatches(follower, subscription, signal, rebuild);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await subscription.close();
  }
}

/**
 * Each batch read is handled, then committed with its end as the checkpoint: at once when
 * it wrote something or the runner goes live or falls behind, otherwise (only filtered-out
 * events passed) at most every `idleCheckpointMs`. A rebuild commits every batch.
 */
async function followInBatches(
  follower: Follower,
  subscription: AllSubscription,
  signal: AbortSignal,
  rebuild?: Rebuilding,
): Promise<void> {
  const { progress, handling, committer } = follower;
  let lastCommitAt = Date.now();
  const interval = rebuild ? 0 : follower.liveBatchIntervalMs;
  let handled = 0;
  for await (const batch of subscription) {
    if (signal.aborted) return;
    const batchStartedAt = Date.now();
    const end = batch.position ?? batch.events[batch.events.length - 1]?.position;
    if (!end || !isAfter(end, progress.position)) {
      if (batch.caughtUp && !progress.isLive()) progress.goLive();
      if (batch.caughtUp && rebuild?.untilCaughtUp) return;
      continue;
    }
    const writes = await handling.handleBatch(batch, signal);
    if (signal.aborted) return;
    const due =
      writes.length > 0 ||
      Date.now() - lastCommitAt >= follower.idleCheckpointMs ||
      batch.caughtUp !== progress.isLive();
    if (due || rebuild) {
      await committer.commit(writes, end, signal);
      lastCommitAt = Date.now();
    }
    progress.advance(end, batch.caughtUp);
    handled += batch.events.length;
    rebuild?.onProgress?.({ events: handled, position: end, caughtUp: batch.caughtUp });
    if (batch.caughtUp && rebuild?.untilCaughtUp) return;
    // Live: let the next batch gather events for a moment instead of taking them one by one.
    if (batch.caughtUp && interval > 0) await sleep(batchStartedAt + interval - Date.now(), signal);
  }
}
