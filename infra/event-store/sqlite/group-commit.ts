import type Database from 'better-sqlite3';
import {
  EventStoreUnavailable,
  WrongExpectedVersion,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
} from '../event-store.js';

interface PendingAppend {
  streamId: string;
  events: EventToAppend[];
  expected: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

type Outcome = { ok: AppendResult } | { error: unknown };

const NO_STREAM = -1;

/**
 * Appends from concurrent callers are queued and written together in one transaction
 * (one WAL sync for the whole group). Each append is still checked on its own against
 * the stream's revision inside that transaction, so the group behaves exactly like the
 * same appends run one after another; a refused append does not affect the others.
 */
export class GroupCommitAppender {
  private queue: PendingAppend[] = [];
  private scheduled = false;
  private readonly writeGroup: (group: PendingAppend[]) => Outcome[];
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly onCommitted: () => void,
  ) {
    this.statements = {
      stream: db.prepare<[string], { id: number; revision: number }>('SELECT id, revision FROM streams WHERE name = ?'),
      createStream: db.prepare<[string, number], { id: number }>('INSERT INTO streams (name, revision) VALUES (?, ?) RETURNING id'),
      moveStream: db.prepare<[number, number]>('UPDATE streams SET revision = ? WHERE id = ?'),
      insert: db.prepare<[number, number, string, string, string, string, number]>(
        'INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      ids: db.prepare<[number, number, number], { id: string; position: number }>(
        'SELECT id, position FROM events WHERE stream = ? AND revision BETWEEN ? AND ? ORDER BY revision',
      ),
    };
    // `.immediate` takes the write lock up front, so no other process can slip an
    // append between our revision check and our insert.
    this.writeGroup = db.transaction((group: PendingAppend[]) => group.map((append) => this.writeOne(append))).immediate;
  }

  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ streamId, events, expected, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: lets every request already read from the
        // sockets in this turn of the event loop join the same group.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.writeGroup(group);
    } catch (error) {
      const failure = new EventStoreUnavailable(`embedded event store could not commit: ${(error as Error).message}`, { cause: error });
      for (const append of group) append.reject(failure);
      return;
    }
    this.onCommitted();
    outcomes.forEach((outcome, i) => {
      const append = group[i]!;
      if ('ok' in outcome) append.resolve(outcome.ok);
      else append.reject(outcome.error);
    });
  }

  private writeOne({ streamId, events, expected }: PendingAppend): Outcome {
    const stream = this.statements.stream.get(streamId);
    const actual = stream ? stream.revision : NO_STREAM;
    if (!this.expectationHolds(expected, actual)) {
      const replay = stream && this.alreadyAppended(stream.id, expected, actual, events);
      if (replay) return { ok: replay };
      return { error: new WrongExpectedVersion(streamId, expected, actual === NO_STREAM ? 'no_stream' : actual) };
    }
    if ((expected === 'any' || expected === 'stream_exists') && stream) {
      // Best effort, as EventStoreDB does without an exact revision: a retry of the
      // stream's latest append is a no-op.
      const replay = this.alreadyAppended(stream.id, actual - events.length, actual, events);
      if (replay) return { ok: replay };
    }
    const id = stream ? stream.id : this.statements.createStream.get(streamId, 0)!.id;
    const created = this.now();
    let revision = actual;
    let position = 0;
    for (const event of events) {
      revision += 1;
      const info = this.statements.insert.run(
        id,
        revision,
        event.id,
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata ?? {}),
        created,
      );
      position = Number(info.lastInsertRowid);
    }
    this.statements.moveStream.run(revision, id);
    return { ok: { nextExpectedRevision: revision, position: { commit: BigInt(position), prepare: BigInt(position) } } };
  }

  private expectationHolds(expected: ExpectedRevision, actual: number): boolean {
    if (expected === 'any') return true;
    if (expected === 'no_stream') return actual === NO_STREAM;
    if (expected === 'stream_exists') return actual !== NO_STREAM;
    return expected === actual;
  }

  /**
   * EventStoreDB's idempotent append: when the events right after the expected revision
   * carry exactly these ids, the append already happened; answer as it was answered then.
   */
  private alreadyAppended(streamDbId: number, expected: ExpectedRevision, actual: number, events: EventToAppend[]): AppendResult | null {
    const after = expected === 'no_stream' ? NO_STREAM : expected;
    if (typeof after !== 'number' || events.length === 0 || after + events.length > actual) return null;
    const stored = this.statements.ids.all(streamDbId, after + 1, after + events.length);
    if (stored.length !== events.length || stored.some((row, i) => row.id !== events[i]!.id)) return null;
    const last = stored[stored.length - 1]!.position;
    return { nextExpectedRevision: after + events.length, position: { commit: BigInt(last), prepare: BigInt(last) } };
  }
}
