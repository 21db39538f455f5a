import type { ProjectionView } from './event-handler.js';
import type { AllSubscription, RecordedEvent } from '../event-store/event-store.js';
import { isAfter } from '../event-store/position.js';
import { CheckpointThrottle } from './checkpoint-throttle.js';
import type { Follower } from './following.js';
import { LeaseLost } from './lease-holder.js';
import { PartitionPipeline } from './partition-pipeline.js';

/** Events a pipelined handler has in hand at most before reading on waits. */
const PIPELINE_CAPACITY = 2_000;

/**
 * A handler that writes no read models and names its partitions (a process manager):
 * its events are handled as they are read, across batches (partition-pipeline.ts), and
 * the handled position is stored as its checkpoint at most every `idleCheckpointMs`.
 */
export async function followInPipeline(
  follower: Follower,
  subscription: AllSubscription,
  partitionKey: (event: RecordedEvent) => string,
  signal: AbortSignal,
): Promise<void> {
  const { handler, readStore, progress, committer } = follower;
  const view: ProjectionView = {
    get: async (collection, id) => (await readStore.getStored(collection, id))?.doc ?? null,
  };
  const checkpoints = new CheckpointThrottle(follower.idleCheckpointMs, progress.position, (position) =>
    committer.commit([], position, signal),
  );
  const pipeline = new PartitionPipeline({
    capacity: PIPELINE_CAPACITY,
    handle: async (event) => {
      const ops = await follower.handling.handle(event, view, signal);
      if (ops.length > 0)
        await follower.parking.park(event, new Error(`${handler.name} owns no collection to write to`), 1);
    },
    onHandled: (position, caughtUp) => {
      progress.advance(position, caughtUp);
      checkpoints.moved(position);
    },
  });
  let read = progress.position;
  try {
    for await (const batch of subscription) {
      if (signal.aborted) return;
      if (!follower.lease.held) throw new LeaseLost();
      checkpoints.throwFailure();
      const end = batch.position ?? batch.events[batch.events.length - 1]?.position;
      if (end && isAfter(end, read)) {
        for (const event of batch.events) pipeline.add(event, partitionKey(event));
        pipeline.mark(end, batch.caughtUp);
        read = end;
      } else if (batch.caughtUp && !progress.isLive()) {
        if (read) pipeline.mark(read, true);
        else progress.goLive();
      }
      await pipeline.room();
    }
  } finally {
    await pipeline.drained().catch(() => undefined);
    await checkpoints.close();
  }
}
