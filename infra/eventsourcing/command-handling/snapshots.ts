/**
 * Taking and using snapshots for `loadStream`: a stream is folded from its latest snapshot
 * plus the events after it, and a new snapshot is written once `every` events were folded
 * since — after the command that crossed the mark has been answered, never before.
 *
 * A snapshot of another shape version, one that cannot be decoded, or one whose last event
 * is not the stream's event at that revision (a foreign or stale file) is ignored, as is a
 * store that cannot be read: the stream is then folded from its start. Each case is told to
 * `observe` (a log line and a metric).
 */
import type { Decider, DomainEvent } from '../../../domain/decider.js';
import type { RecordedEvent } from '../event-store/event-store.js';
import { comparePositions, formatPosition, type Position } from '../event-store/position.js';
import type { SnapshotStore, StoredSnapshot } from '../event-store/snapshot-store.js';

export type SnapshotObservation =
  | { kind: 'loaded'; streamId: string; revision: number }
  | { kind: 'ignored'; streamId: string; reason: string }
  | { kind: 'unavailable'; streamId: string; error: unknown }
  | { kind: 'written'; streamId: string; revision: number; bytes: number }
  | { kind: 'write_failed'; streamId: string; error: unknown };

export interface Snapshotting {
  store: SnapshotStore;
  /** A snapshot is written once this many events were folded since the last one. */
  every: number;
  observe?(observation: SnapshotObservation): void;
}

/** A state to start folding from: the snapshot's, with the revision and position of its last event. */
export interface StartingPoint<State> {
  state: State;
  revision: number;
  position: Position | null;
}

/** The stream's snapshot, decoded, when there is a usable one (checked against the stream by `confirms`). */
export async function readSnapshot<State>(
  snapshots: Snapshotting,
  decider: Pick<Decider<State, never, DomainEvent>, 'snapshot'>,
  streamId: string,
): Promise<StartingPoint<State> | null> {
  const codec = decider.snapshot;
  if (!codec) return null;
  let stored: StoredSnapshot | null;
  try {
    stored = await snapshots.store.read(streamId);
  } catch (error) {
    snapshots.observe?.({ kind: 'unavailable', streamId, error });
    return null;
  }
  if (!stored) return null;
  if (stored.version !== codec.version) {
    snapshots.observe?.({
      kind: 'ignored',
      streamId,
      reason: `its shape is version ${stored.version}, this build reads version ${codec.version}`,
    });
    return null;
  }
  try {
    return { state: codec.decode(JSON.parse(stored.state)), revision: stored.revision, position: stored.position };
  } catch (error) {
    snapshots.observe?.({
      kind: 'ignored',
      streamId,
      reason: `it cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    });
    return null;
  }
}

/** Whether the stream's event at the snapshot's revision is the one the snapshot was taken after. */
export function confirms(
  snapshots: Snapshotting,
  streamId: string,
  start: StartingPoint<unknown>,
  event: RecordedEvent | undefined,
): boolean {
  if (
    event &&
    event.revision === start.revision &&
    start.position &&
    comparePositions(event.position, start.position) === 0
  )
    return true;
  const found = event ? `revision ${event.revision} at ${formatPosition(event.position)}` : 'no such event';
  snapshots.observe?.({
    kind: 'ignored',
    streamId,
    reason: `it was taken after revision ${start.revision} at ${start.position ? formatPosition(start.position) : '?'}, the stream has ${found}`,
  });
  return false;
}

const writing = new WeakMap<Snapshotting, Set<string>>();

/** Writes a snapshot of `state` after the current turn (one at a time per stream); resolves when it is written or failed. */
export function takeSnapshot<State>(
  snapshots: Snapshotting,
  decider: Pick<Decider<State, never, DomainEvent>, 'snapshot'>,
  streamId: string,
  at: StartingPoint<State>,
): Promise<void> {
  const codec = decider.snapshot;
  let busy = writing.get(snapshots);
  if (!busy) {
    busy = new Set();
    writing.set(snapshots, busy);
  }
  if (!codec || !at.position || busy.has(streamId)) return Promise.resolve();
  const streams = busy;
  const position = at.position;
  streams.add(streamId);
  return new Promise<void>((resolve) => setImmediate(resolve))
    .then(async () => {
      const state = JSON.stringify(codec.encode(at.state));
      await snapshots.store.write({ streamId, revision: at.revision, position, version: codec.version, state });
      snapshots.observe?.({ kind: 'written', streamId, revision: at.revision, bytes: state.length });
    })
    .catch((error: unknown) => snapshots.observe?.({ kind: 'write_failed', streamId, error }))
    .finally(() => streams.delete(streamId));
}
