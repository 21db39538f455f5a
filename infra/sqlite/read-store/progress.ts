/** Each projection's progress in `read.db`: its checkpoint (`read_checkpoints`) and the events it parked (`read_parked`). */
import type Database from 'better-sqlite3';
import { parseSortablePosition, sortablePosition, type Position } from '../../eventsourcing/event-store/position.js';
import type { CheckpointRecord, ParkedEvent } from '../../eventsourcing/read-store/read-store.js';

interface CheckpointRow {
  name: string;
  position: string;
  updated_at: number;
}

interface ParkedRow {
  projection: string;
  event_id: string;
  event_type: string;
  stream_id: string;
  position: string;
  error: string;
  attempts: number;
  parked_at: number;
}

export class ProjectionProgress {
  private readonly getCheckpointRow: Database.Statement<[string], CheckpointRow>;
  private readonly listCheckpointRows: Database.Statement<[], CheckpointRow>;
  private readonly moveCheckpoint: Database.Statement<[string, string, number]>;
  private readonly deleteCheckpoint: Database.Statement<[string]>;
  private readonly upsertParked: Database.Statement<[string, string, string, string, string, string, number, number]>;
  private readonly listAllParked: Database.Statement<[], ParkedRow>;
  private readonly listParkedOf: Database.Statement<[string], ParkedRow>;
  private readonly deleteParked: Database.Statement<[string]>;
  private readonly deleteOneParked: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    this.getCheckpointRow = db.prepare('SELECT * FROM read_checkpoints WHERE name = ?');
    this.listCheckpointRows = db.prepare('SELECT * FROM read_checkpoints ORDER BY name');
    // Moves forward only: committing with an older checkpoint (a replay) leaves it as it is.
    this.moveCheckpoint = db.prepare(`
      INSERT INTO read_checkpoints (name, position, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
      WHERE excluded.position > read_checkpoints.position`);
    this.deleteCheckpoint = db.prepare('DELETE FROM read_checkpoints WHERE name = ?');
    this.upsertParked = db.prepare(`
      INSERT INTO read_parked (projection, event_id, event_type, stream_id, position, error, attempts, parked_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (projection, event_id) DO UPDATE SET
        event_type = excluded.event_type, stream_id = excluded.stream_id, position = excluded.position,
        error = excluded.error, attempts = excluded.attempts, parked_at = excluded.parked_at`);
    this.listAllParked = db.prepare('SELECT * FROM read_parked ORDER BY position, projection, event_id');
    this.listParkedOf = db.prepare('SELECT * FROM read_parked WHERE projection = ? ORDER BY position, event_id');
    this.deleteParked = db.prepare('DELETE FROM read_parked WHERE projection = ?');
    this.deleteOneParked = db.prepare('DELETE FROM read_parked WHERE projection = ? AND event_id = ?');
  }

  /** The projection's checkpoint, null before its first commit. */
  position(projection: string): Position | null {
    const row = this.getCheckpointRow.get(projection);
    return row ? parseSortablePosition(row.position) : null;
  }

  checkpoint(projection: string): CheckpointRecord {
    return toCheckpoint(projection, this.getCheckpointRow.get(projection));
  }

  checkpoints(): CheckpointRecord[] {
    return this.listCheckpointRows.all().map((row) => toCheckpoint(row.name, row));
  }

  /** Moves the checkpoint to `position`, unless it is there or past it already. */
  moveForward(projection: string, position: Position): void {
    this.moveCheckpoint.run(projection, sortablePosition(position), Date.now());
  }

  park(event: ParkedEvent): void {
    this.upsertParked.run(
      event.projection,
      event.eventId,
      event.eventType,
      event.streamId,
      sortablePosition(event.position),
      event.error,
      event.attempts,
      event.parkedAt.getTime(),
    );
  }

  parked(projection?: string): ParkedEvent[] {
    const rows = projection === undefined ? this.listAllParked.all() : this.listParkedOf.all(projection);
    return rows.map(toParked);
  }

  /** Forgets one parked event; true if it was parked. */
  unpark(projection: string, eventId: string): boolean {
    return this.deleteOneParked.run(projection, eventId).changes > 0;
  }

  /** Forgets the projection's checkpoint and parked events (a rebuild, inside its transaction). */
  forget(projection: string): void {
    this.deleteCheckpoint.run(projection);
    this.deleteParked.run(projection);
  }
}

function toCheckpoint(name: string, row: CheckpointRow | undefined): CheckpointRecord {
  return row
    ? { name, position: parseSortablePosition(row.position), updatedAt: new Date(row.updated_at) }
    : { name, position: null, updatedAt: null };
}

function toParked(row: ParkedRow): ParkedEvent {
  return {
    projection: row.projection,
    eventId: row.event_id,
    eventType: row.event_type,
    streamId: row.stream_id,
    position: parseSortablePosition(row.position),
    error: row.error,
    attempts: row.attempts,
    parkedAt: new Date(row.parked_at),
  };
}
