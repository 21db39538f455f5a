/**
 * Snapshots kept in EventStoreDB itself: one snapshot stream per stream
 * (`snapshot-<stream>`), whose metadata keeps only its last event (`$maxCount: 1`), so the
 * server lets older snapshots go at its next scavenge. The event's type starts with `$`, as
 * the server's own events do, so no reader of `$all` takes it for a domain event (the port
 * leaves system events out). The state is gzipped: a busy market's state would otherwise
 * pass the server's 1 MiB limit on an append.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { EventStore } from '../eventsourcing/event-store/event-store.js';
import { formatPosition, parsePosition } from '../eventsourcing/event-store/position.js';
import type { SnapshotStore, StoredSnapshot } from '../eventsourcing/event-store/snapshot-store.js';

export const SNAPSHOT_STREAM_PREFIX = 'snapshot-';
export const SNAPSHOT_EVENT_TYPE = '$snapshot';

export interface CappableStreams {
  /** Sets the stream's `$maxCount`: reads then see only its last `maxCount` events. */
  setMaxCount(streamId: string, maxCount: number): Promise<void>;
}

export function streamSnapshotStore(
  events: Pick<EventStore, 'appendToStream' | 'readStream'>,
  streams: CappableStreams,
): SnapshotStore {
  const capped = new Set<string>();
  return {
    async read(streamId) {
      const read = await events.readStream(SNAPSHOT_STREAM_PREFIX + streamId, {
        direction: 'backwards',
        fromRevision: 'end',
        maxCount: 1,
      });
      const event = read.status === 'found' ? read.events[0] : undefined;
      return event ? fromEventData(streamId, event.data) : null;
    },
    async write(snapshot) {
      const stream = SNAPSHOT_STREAM_PREFIX + snapshot.streamId;
      const state = gzipSync(snapshot.state).toString('base64');
      const data = {
        revision: snapshot.revision,
        position: formatPosition(snapshot.position),
        version: snapshot.version,
        state,
      };
      const { nextExpectedRevision } = await events.appendToStream(stream, [
        { id: crypto.randomUUID(), type: SNAPSHOT_EVENT_TYPE, data },
      ]);
      // The first snapshot creates the stream: cap it then (once per process is enough; setting it again is harmless).
      if (nextExpectedRevision === 0 || !capped.has(stream)) {
        await streams.setMaxCount(stream, 1);
        capped.add(stream);
      }
    },
  };
}

/** What `write` stored; anything else is not a snapshot of ours and reads as none. */
function fromEventData(streamId: string, data: Record<string, unknown>): StoredSnapshot | null {
  const { revision, position, version, state } = data;
  const at = typeof position === 'string' ? parsePosition(position) : null;
  if (!Number.isSafeInteger(revision) || !Number.isSafeInteger(version) || typeof state !== 'string' || !at)
    return null;
  try {
    return {
      streamId,
      revision: revision as number,
      position: at,
      version: version as number,
      state: gunzipSync(Buffer.from(state, 'base64')).toString('utf8'),
    };
  } catch {
    return null;
  }
}
