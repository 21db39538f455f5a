import type Database from 'better-sqlite3';
import type { ExpectedRevision } from '../../eventsourcing/event-store/event-store.js';

/** An event ready for the table: data and metadata already JSON text. */
export interface EventRow {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

/** One append of a group, in a shape that crosses threads as it is. */
export interface AppendRequest {
  streamId: string;
  events: EventRow[];
  expected: ExpectedRevision;
}

/** What became of one append; plain data so a writer thread can answer with it. */
export type AppendOutcome =
  /** `replayed`: the same events were appended before (at `position`); nothing new was written. */
  { written: { revision: number; position: number; replayed?: true } } | { refused: { actual: number | 'no_stream' } };

/** A stream's snapshot as its row is written (see `SnapshotStore`). */
export interface SnapshotRow {
  stream: string;
  revision: number;
  position: number;
  version: number;
  state: string;
  taken: number;
}

/** A group of appends and the time its events are stamped with. */
export interface CreatedGroup {
  group: AppendRequest[];
  created: number;
}

const NO_STREAM = -1;

/**
 * Writes a group of appends in one transaction (one WAL sync for the whole group). Each
 * append is still checked on its own against the stream's revision inside that
 * transaction, so the group behaves exactly like the same appends run one after another;
 * a refused append does not affect the others.
 */
export class GroupWriter {
  private readonly statements;
  private readonly writeAll: (groups: CreatedGroup[], snapshots: SnapshotRow[]) => AppendOutcome[][];

  constructor(db: Database.Database) {
    this.statements = {
      // The stream's revision is its last event's, read from the (stream, revision) index: the
      // index page the insert dirties anyway. Keeping it in `streams` too dirtied a second,
      // random page per append (docs/PERFORMANCE.md, "Why the code is as it is", "A stream's
      // revision read from the events' index").
      stream: db.prepare<[string], { id: number; revision: number | null }>(
        'SELECT s.id, (SELECT max(e.revision) FROM events e WHERE e.stream = s.id) AS revision FROM streams s WHERE s.name = ?',
      ),
      createStream: db.prepare<[string], { id: number }>('INSERT INTO streams (name) VALUES (?) RETURNING id'),
      insert: db.prepare<[number, number, string, string, string, string, number]>(
        'INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      ids: db.prepare<[number, number, number], { id: string; position: number }>(
        'SELECT id, position FROM events WHERE stream = ? AND revision BETWEEN ? AND ? ORDER BY revision',
      ),
      // A snapshot never replaces one taken at a later revision.
      snapshot: db.prepare<SnapshotRow>(
        `INSERT INTO snapshots (stream, revision, position, version, state, taken) VALUES (@stream, @revision, @position, @version, @state, @taken)
         ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, position = excluded.position, version = excluded.version, state = excluded.state, taken = excluded.taken
         WHERE excluded.revision >= snapshots.revision`,
      ),
    };
    // `.immediate` takes the write lock up front, so no other process can slip an
    // append between our revision check and our insert.
    this.writeAll = db.transaction((groups: CreatedGroup[], snapshots: SnapshotRow[]) => {
      for (const snapshot of snapshots) this.statements.snapshot.run(snapshot);
      return groups.map(({ group, created }) => group.map((append) => this.writeOne(append, created)));
    }).immediate;
  }

  /**
   * Commits the groups together, in order, with any snapshots that queued beside them (they
   * share the commit's sync). Throws when the transaction itself fails (then nothing of them was written).
   */
  write(groups: CreatedGroup[], snapshots: SnapshotRow[] = []): AppendOutcome[][] {
    return this.writeAll(groups, snapshots);
  }

  private writeOne({ streamId, events, expected }: AppendRequest, created: number): AppendOutcome {
    const stream = this.statements.stream.get(streamId);
    const actual = stream?.revision ?? NO_STREAM;
    if (!expectationHolds(expected, actual)) {
      const replay = stream && this.alreadyAppended(stream.id, expected, actual, events);
      return replay ?? { refused: { actual: actual === NO_STREAM ? 'no_stream' : actual } };
    }
    if ((expected === 'any' || expected === 'stream_exists') && stream) {
      // Best effort, as EventStoreDB does without an exact revision: a retry of the
      // stream's latest append is a no-op.
      const replay = this.alreadyAppended(stream.id, actual - events.length, actual, events);
      if (replay) return replay;
    }
    const id = stream ? stream.id : this.statements.createStream.get(streamId)!.id;
    let revision = actual;
    let position = 0;
    for (const event of events) {
      revision += 1;
      position = Number(
        this.statements.insert.run(id, revision, event.id, event.type, event.data, event.metadata, created)
          .lastInsertRowid,
      );
    }
    return { written: { revision, position } };
  }

  /**
   * EventStoreDB's idempotent append: when the events right after the expected revision
   * carry exactly these ids, the append already happened; answer as it was answered then.
   */
  private alreadyAppended(
    streamDbId: number,
    expected: ExpectedRevision,
    actual: number,
    events: EventRow[],
  ): AppendOutcome | null {
    const after = expected === 'no_stream' ? NO_STREAM : expected;
    if (typeof after !== 'number' || events.length === 0 || after + events.length > actual) return null;
    const stored = this.statements.ids.all(streamDbId, after + 1, after + events.length);
    if (stored.length !== events.length || stored.some((row, i) => row.id !== events[i]!.id)) return null;
    return {
      written: { revision: after + events.length, position: stored[stored.length - 1]!.position, replayed: true },
    };
  }
}

function expectationHolds(expected: ExpectedRevision, actual: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === NO_STREAM;
  if (expected === 'stream_exists') return actual !== NO_STREAM;
  return expected === actual;
}
