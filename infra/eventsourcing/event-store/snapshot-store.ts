/**
 * The snapshot store port: the latest folded state of a stream, so loading it costs the
 * events since, not its whole history. Embedded: a table beside the events in `events.db`;
 * EventStoreDB: a snapshot stream per stream, keeping only its last event (`$maxCount: 1`).
 * A snapshot is only ever a shortcut: whatever is wrong with one, the stream is folded
 * from its start instead.
 */
import type { Position } from './position.js';

export interface StoredSnapshot {
  streamId: string;
  /** Revision of the last event folded into the state. */
  revision: number;
  /** Position of that event: checked against the stream on reading, so a snapshot that belongs to another store is refused. */
  position: Position;
  /** The shape of the state (`SnapshotCodec.version`). */
  version: number;
  /** The encoded state, as JSON text. */
  state: string;
}

export interface SnapshotStore {
  /** The latest snapshot of the stream, or null. Rejects when the store cannot be read. */
  read(streamId: string): Promise<StoredSnapshot | null>;
  /** Replaces the stream's snapshot (an older one than stored may be ignored). */
  write(snapshot: StoredSnapshot): Promise<void>;
}
