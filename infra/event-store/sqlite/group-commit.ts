import {
  EventStoreUnavailable,
  WrongExpectedVersion,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
} from '../event-store.js';
import type { AppendOutcome, AppendRequest } from './group-writer.js';

/** Where a group of appends is committed: in this thread, or in a writer thread. */
export interface GroupCommit {
  /** Rejects when the commit itself failed (then nothing of the group was written). */
  write(group: AppendRequest[], created: number): Promise<AppendOutcome[]>;
  close(): Promise<void>;
}

interface PendingAppend {
  request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * Appends from concurrent callers are queued and committed together, one group at a
 * time: while a group is being committed (its fsync under way) the next one gathers, so
 * the busier the store, the larger its groups and the fewer syncs per append.
 */
export class GroupCommitAppender {
  private queue: PendingAppend[] = [];
  private scheduled = false;
  private committing = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly commit: GroupCommit,
    private readonly now: () => number,
    private readonly onCommitted: () => void,
  ) {}

  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const rows = events.map((e) => ({ id: e.id, type: e.type, data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata ?? {}) }));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { streamId, events: rows, expected }, resolve, reject });
      if (!this.scheduled && !this.committing) {
        this.scheduled = true;
        // setImmediate, not a microtask: lets every request already read from the
        // sockets in this turn of the event loop join the same group.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once every append made so far is committed (or refused). */
  settled(): Promise<void> {
    if (!this.scheduled && !this.committing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return this.becameIdle();
    this.committing = true;
    this.commit.write(group.map((p) => p.request), this.now()).then(
      (outcomes) => {
        this.onCommitted();
        outcomes.forEach((outcome, i) => answer(group[i]!, outcome));
      },
      (error: unknown) => {
        const failure = new EventStoreUnavailable(`embedded event store could not commit: ${(error as Error).message}`, { cause: error });
        for (const append of group) append.reject(failure);
      },
    ).finally(() => {
      this.committing = false;
      // What gathered during this commit goes at once: it has already waited a whole sync.
      this.flush();
    });
  }

  private becameIdle(): void {
    for (const resolve of this.idle.splice(0)) resolve();
  }
}

function answer(append: PendingAppend, outcome: AppendOutcome): void {
  if ('written' in outcome) {
    const { revision, position } = outcome.written;
    append.resolve({ nextExpectedRevision: revision, position: { commit: BigInt(position), prepare: BigInt(position) } });
  } else {
    append.reject(new WrongExpectedVersion(append.request.streamId, append.request.expected, outcome.refused.actual));
  }
}
