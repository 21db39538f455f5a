/**
 * What became of snapshots, counted and logged from the one observer `loadStream` and the
 * snapshot writer tell (infra/eventsourcing/command-handling/snapshots.ts): the command code knows nothing of
 * metrics or logs. A snapshot that was ignored, could not be read or written is a log line
 * (warn) naming the stream and why; every outcome is counted by stream category.
 */
import type { SnapshotObservation } from '../eventsourcing/command-handling/snapshots.js';
import type { Logger } from '../log/log.js';
import { streamCategory } from './event-store.js';
import type { Metrics } from './metrics.js';

export function snapshotRecorder(
  metrics: Pick<Metrics, 'snapshots'>,
  logger: Pick<Logger, 'warn'>,
): (observation: SnapshotObservation) => void {
  return (observation) => {
    metrics.snapshots.inc({ category: streamCategory(observation.streamId), outcome: observation.kind });
    const stream = observation.streamId;
    if (observation.kind === 'ignored')
      logger.warn({ stream }, `snapshot ignored, folding the stream from its start: ${observation.reason}`);
    if (observation.kind === 'unavailable')
      logger.warn(
        { stream, err: observation.error },
        'snapshot store could not be read, folding the stream from its start',
      );
    if (observation.kind === 'write_failed')
      logger.warn(
        { stream, err: observation.error },
        'snapshot could not be written (the stream stays correct; loading it costs more until the next one)',
      );
  };
}
