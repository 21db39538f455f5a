import {
  EventStoreUnavailable,
  WrongExpectedVersion,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
} from '../../eventsourcing/event-store/event-store.js';
import type { AppendOutcome, AppendRequest, SnapshotRow } from './group-writer.js';
import type { Row } from './reader.js';

/** Where a group of appends is committed: in this thread, or in a writer thread. */
export interface GroupCommit {
  /** Rejects when the commit itself failed (then nothing of the group was written). */
  write(group: AppendRequest[], created: number): Promise<AppendOutcome[]>;
  /** Stores a stream's snapshot (a newer one stored already stays). */
  writeSnapshot(snapshot: SnapshotRow): Promise<void>;
  /**
   * How many groups may be handed over before the first is answered: 1 when a group is
   * committed as it is handed over; more when the other side queues them (a writer thread
   * commits everything queued at once, so groups sent while a sync is under way share the
   * next one, and no group waits for this thread to hear of the previous commit).
   */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

interface PendingAppend {
  request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * Appends from concurrent callers are queued and handed over together, a group per turn of
 * the event loop, up to `commit.maxInFlight` groups at a time; past that they gather until
 * a commit is answered. So the busier the store, the larger its groups and the fewer syncs
 * per append.
 */
export class GroupCommitAppender {
  private queue: PendingAppend[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly commit: GroupCommit,
    private readonly now: () => number,
    /** Told of every commit, with the rows it added to the log in position order. */
    private readonly onCommitted: (rows: Row[]) => void,
  ) {}

  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const rows = events.map((e) => ({
      id: e.id,
      type: e.type,
      data: JSON.stringify(e.data),
      metadata: JSON.stringify(e.metadata ?? {}),
    }));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { streamId, events: rows, expected }, resolve, reject });
      if (!this.scheduled && this.inFlight < this.commit.maxInFlight) {
        this.scheduled = true;
        // setImmediate, not a microtask: lets every request already read from the
        // sockets in this turn of the event loop join the same group.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once every append made so far is committed (or refused). */
  settled(): Promise<void> {
    if (!this.scheduled && this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) {
      if (this.inFlight === 0) this.becameIdle();
      return;
    }
    this.inFlight += 1;
    const created = this.now();
    this.commit
      .write(
        group.map((p) => p.request),
        created,
      )
      .then(
        (outcomes) => {
          this.onCommitted(committedRows(group, outcomes, created));
          outcomes.forEach((outcome, i) => {
            answer(group[i]!, outcome);
          });
        },
        (error: unknown) => {
          const failure = new EventStoreUnavailable(
            `embedded event store could not commit: ${(error as Error).message}`,
            { cause: error },
          );
          for (const append of group) append.reject(failure);
        },
      )
      .finally(() => {
        this.inFlight -= 1;
        // What gathered while no more groups could be handed over goes at once: it has already waited.
        if (!this.scheduled) this.flush();
      });
  }

  private becameIdle(): void {
    for (const resolve of this.idle.splice(0)) resolve();
  }
}

/** The rows a group added, as the log holds them (a replayed append added none). */
function committedRows(group: PendingAppend[], outcomes: AppendOutcome[], created: number): Row[] {
  const rows: Row[] = [];
  outcomes.forEach((outcome, i) => {
    if (!('written' in outcome) || outcome.written.replayed) return;
    const { streamId, events } = group[i]!.request;
    const { revision, position } = outcome.written;
    const firstPosition = position - events.length + 1;
    const firstRevision = revision - events.length + 1;
    events.forEach((e, k) => {
      rows.push([firstPosition + k, streamId, firstRevision + k, e.id, e.type, e.data, e.metadata, created]);
    });
  });
  return rows;
}

function answer(append: PendingAppend, outcome: AppendOutcome): void {
  if ('written' in outcome) {
    const { revision, position } = outcome.written;
    append.resolve({
      nextExpectedRevision: revision,
      position: { commit: BigInt(position), prepare: BigInt(position) },
    });
  } else {
    append.reject(new WrongExpectedVersion(append.request.streamId, append.request.expected, outcome.refused.actual));
  }
}
