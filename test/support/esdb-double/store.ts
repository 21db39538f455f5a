/**
 * The in-memory transaction log of the double.
 *
 * Modelled on EventStoreDB's log: every write appends records at increasing byte offsets, an
 * event's commit and prepare positions are both its record's offset (single-prepare committed
 * writes), and positions are opaque and sparse, never 0, 1, 2… The log starts with a record
 * that is no event (a real chunk starts with an epoch record) and then, as a fresh node's
 * does, with system events (system-events.ts). The expected-version check follows the
 * server's IndexWriter.CheckCommit, idempotency included, with its bounded id cache
 * (committed-ids.ts). Stream reads honour stream metadata (metadata.ts).
 */
import { CommittedIds } from './committed-ids.js';
import { isMetastream, parseStreamMetadata, readableEvents, type StreamMetadata } from './metadata.js';
import { writeStartupEvents } from './system-events.js';

/** Where the first event goes: the epoch record before it covers [0, this). */
const FIRST_RECORD_POSITION = 1_024n;
/** Rough fixed size of a prepare record (headers, ids, timestamps) on top of its variable parts. */
const RECORD_OVERHEAD = 88;

export interface ProposedEvent {
  /** Lower-case canonical UUID string, as the server's Guid prints it. */
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  metadata: Uint8Array;
}

export interface RecordedEvent {
  streamId: string;
  revision: number;
  id: string;
  type: string;
  /** The server keeps only "is JSON"; reads report application/json or application/octet-stream. */
  isJson: boolean;
  data: Uint8Array;
  metadata: Uint8Array;
  /** .NET ticks (100 ns) since the Unix epoch, as the `created` metadata carries them. */
  created: bigint;
  /** Commit = prepare = the record's offset. */
  position: bigint;
  /** Offset just past the record: where a forward read "after" this event resumes. */
  postPosition: bigint;
}

export type ExpectedRevision =
  | { kind: 'any' }
  | { kind: 'no_stream' }
  | { kind: 'stream_exists' }
  | { kind: 'revision'; revision: bigint };

export type AppendOutcome =
  | {
      kind: 'written' | 'idempotent';
      /** The stream's revision after the write (-1: the stream still does not exist). */
      currentRevision: number;
      /** The last written (or, if idempotent, last matching) event's position. */
      position: bigint;
    }
  | { kind: 'wrong_expected_version'; currentRevision: number };

type Listener = (events: readonly RecordedEvent[]) => void;

export interface EventLogOptions {
  /** Size of the committed-events cache in bytes (default: the server's 8 MiB). */
  committedIdsBytes?: number;
  /** Write the system events a fresh node writes (default true). */
  systemEvents?: boolean;
}

export class EventLog {
  /** Every event in log order; `position`s strictly increase. */
  readonly all: RecordedEvent[] = [];
  /** Start of every record (events and the rest) in log order: the positions a read may start at. */
  private readonly recordStarts: bigint[] = [0n];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly committedIds: CommittedIds;
  private readonly listeners = new Set<Listener>();
  private nextPosition = FIRST_RECORD_POSITION;

  constructor(options: EventLogOptions = {}) {
    this.committedIds = new CommittedIds(options.committedIdsBytes);
    if (options.systemEvents ?? true) writeStartupEvents(this);
  }

  lastRevision(streamId: string): number {
    const events = this.streams.get(streamId);
    return events === undefined ? -1 : events.length - 1;
  }

  /** Every event of the stream, unreadable ones included (the index holds them all). */
  streamEvents(streamId: string): readonly RecordedEvent[] | undefined {
    return this.streams.get(streamId);
  }

  /** What a stream read sees: the events its metadata leaves readable; undefined when the stream does not exist. */
  readableStreamEvents(streamId: string): readonly RecordedEvent[] | undefined {
    const events = this.streams.get(streamId);
    if (events === undefined) return undefined;
    return readableEvents(events, this.metadataOf(streamId), Date.now());
  }

  /** The metadata in force: a metastream's is fixed at `$maxCount: 1`. */
  metadataOf(streamId: string): StreamMetadata {
    if (isMetastream(streamId)) return { maxCount: 1 };
    const last = this.streams.get(`$$${streamId}`)?.at(-1);
    return last === undefined ? {} : parseStreamMetadata(last.data);
  }

  /** The server's LastIndexedPosition: where the last record starts. */
  lastIndexedPosition(): bigint {
    return this.recordStarts.at(-1)!;
  }

  /** Just past the last record (the writer checkpoint). */
  endPosition(): bigint {
    return this.nextPosition;
  }

  /** A read can start at a record's start or at the end of the log; anywhere else the chunk reader fails. */
  isRecordBoundary(position: bigint): boolean {
    if (position >= this.nextPosition) return position === this.nextPosition;
    let low = 0;
    let high = this.recordStarts.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const start = this.recordStarts[mid]!;
      if (start === position) return true;
      if (start < position) low = mid + 1;
      else high = mid - 1;
    }
    return false;
  }

  /** Called synchronously after each write with the events it added. */
  onAppended(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Index of the first event at or after `position`, or `all.length`. */
  firstIndexAtOrAfter(position: bigint): number {
    let low = 0;
    let high = this.all.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.all[mid]!.position < position) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  append(streamId: string, expected: ExpectedRevision, proposed: readonly ProposedEvent[]): AppendOutcome {
    const check = this.checkCommit(
      streamId,
      expected,
      proposed.map((e) => e.id),
    );
    if (check.kind !== 'ok') return check;

    const current = check.currentRevision;
    if (proposed.length === 0) {
      // The server still writes an empty prepare (no data flag): it takes log space, shows in
      // no read, and its position is what the write reports.
      const position = this.allocate(RECORD_OVERHEAD + byteLength(streamId));
      return { kind: 'written', currentRevision: current, position };
    }

    const created = BigInt(Date.now()) * 10_000n;
    const streamEvents = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, streamEvents);
    const written: RecordedEvent[] = [];
    for (const [offset, e] of proposed.entries()) {
      const size = RECORD_OVERHEAD + byteLength(streamId) + byteLength(e.type) + e.data.length + e.metadata.length;
      const position = this.allocate(size);
      const recorded: RecordedEvent = {
        streamId,
        revision: current + 1 + offset,
        id: e.id,
        type: e.type,
        isJson: e.contentType === 'application/json',
        data: e.data,
        metadata: e.metadata,
        created,
        position,
        postPosition: this.nextPosition,
      };
      streamEvents.push(recorded);
      this.all.push(recorded);
      this.committedIds.put(e.id, { streamId, revision: recorded.revision });
      written.push(recorded);
    }
    for (const listener of [...this.listeners]) listener(written);
    return { kind: 'written', currentRevision: current + proposed.length, position: written.at(-1)!.position };
  }

  private allocate(size: number): bigint {
    const position = this.nextPosition;
    this.recordStarts.push(position);
    this.nextPosition += BigInt(size);
    return position;
  }

  /** The server's CheckCommit: decides between writing, an idempotent success and a conflict. */
  private checkCommit(
    streamId: string,
    expected: ExpectedRevision,
    eventIds: readonly string[],
  ): { kind: 'ok'; currentRevision: number } | Exclude<AppendOutcome, { kind: 'written' }> {
    const current = this.lastRevision(streamId);
    const wrong = { kind: 'wrong_expected_version', currentRevision: current } as const;

    // "Stream exists" also accepts a stream that only has metadata so far.
    if (expected.kind === 'stream_exists' && current < 0 && this.lastRevision(`$$${streamId}`) < 0) {
      return wrong;
    }

    if (expected.kind === 'any' || expected.kind === 'stream_exists') {
      // Best-effort idempotency through the id cache: all ids already in this stream → no write;
      // the first id unknown → write; a later one unknown → the request is "corrupted", and the
      // server answers that with a wrong expected version.
      let last: { streamId: string; revision: number } | undefined;
      for (const [index, id] of eventIds.entries()) {
        const committed = this.committedIds.get(id);
        if (committed === undefined || committed.streamId !== streamId) {
          return index === 0 ? { kind: 'ok', currentRevision: current } : wrong;
        }
        last = committed;
      }
      if (last === undefined) return { kind: 'ok', currentRevision: current };
      return this.idempotent(streamId, last.revision);
    }

    const expectedRevision = expected.kind === 'no_stream' ? -1n : expected.revision;
    if (expectedRevision > BigInt(current)) return wrong;
    if (expectedRevision === BigInt(current)) return { kind: 'ok', currentRevision: current };

    // Expected is behind the stream: only an exact replay of the events that followed it is
    // accepted (idempotent); anything else, a partial match included, is a conflict.
    const streamEvents = this.streams.get(streamId) ?? [];
    let revision = Number(expectedRevision);
    for (const id of eventIds) {
      revision += 1;
      if (streamEvents[revision]?.id !== id) return wrong;
    }
    if (revision === Number(expectedRevision)) return wrong; // no events: nothing to replay
    return this.idempotent(streamId, revision);
  }

  private idempotent(streamId: string, revision: number): Exclude<AppendOutcome, { kind: 'written' }> {
    const event = this.streams.get(streamId)![revision]!;
    return { kind: 'idempotent', currentRevision: revision, position: event.position };
  }
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
