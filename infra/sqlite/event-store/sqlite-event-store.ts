import Database from 'better-sqlite3';
import {
  EventStoreRejected,
  EventStoreUnavailable,
  type AllSubscription,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type SubscribeToAllOptions,
} from '../../eventsourcing/event-store/event-store.js';
import type { Position } from '../../eventsourcing/event-store/position.js';
import type { SnapshotStore, StoredSnapshot } from '../../eventsourcing/event-store/snapshot-store.js';
import { hearCommits } from './commit-announcements.js';
import { CommittedTail } from './committed-tail.js';
import { GroupCommitAppender, type GroupCommit } from './group-commit.js';
import { EventReader } from './reader.js';
import { configure, migrate, type Durability } from './schema.js';
import { SqliteAllSubscription, type WakeReason, type Wakeups } from './subscription.js';
import { commitInThisThread, commitInWriterThread } from './writer.js';

export interface SqliteEventStoreOptions {
  /** Path of the database file (created if missing). */
  file: string;
  /** 'full' (default): every acknowledged append survives a power cut. */
  durability?: Durability;
  /** How often an idle subscription looks for appends made by another process (ms). */
  idleCheckMs?: number;
  /**
   * Where commits run: 'thread' (default) keeps every WAL sync off the calling thread's
   * event loop; 'inline' commits in this thread (no extra thread, for short-lived tools).
   */
  writer?: 'thread' | 'inline';
  /** Announce every commit to the process's other threads reading this file (commit-announcements.ts). */
  announceCommits?: boolean;
  /** Wake this store's live subscriptions at every commit another thread announces for this file. */
  hearCommits?: boolean;
  /** Page cache of the reading connection, and of the writer's (MiB). Default 64 each. */
  pageCacheMb?: { reader: number; writer: number };
  now?: () => number;
}

/** The embedded event store, and its snapshots: a table beside the events, written with the appends' commits. */
export interface EmbeddedEventStore extends EventStore {
  readonly snapshots: SnapshotStore;
}

/** The embedded event store: one SQLite file, WAL mode, appends grouped into shared commits. */
export function openSqliteEventStore(options: SqliteEventStoreOptions): EmbeddedEventStore {
  const durability = options.durability ?? 'full';
  const db = new Database(options.file);
  configure(db, durability, options.pageCacheMb?.reader);
  migrate(db);
  const announce = options.announceCommits ?? false;
  const commit =
    options.writer === 'inline'
      ? commitInThisThread(db, announce ? options.file : null)
      : commitInWriterThread(options.file, durability, announce, options.pageCacheMb?.writer);
  return new SqliteEventStore(db, commit, options);
}

class SqliteEventStore implements EmbeddedEventStore {
  private readonly reader: EventReader;
  private readonly appender: GroupCommitAppender;
  private readonly waiters = new Set<(reason: WakeReason) => void>();
  private readonly tail = new CommittedTail();
  private readonly subscriptions = new Set<AllSubscription>();
  private closed = false;
  private hearing: { close(): void } | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly commit: GroupCommit,
    private readonly options: SqliteEventStoreOptions,
  ) {
    this.reader = new EventReader(db);
    this.appender = new GroupCommitAppender(commit, options.now ?? Date.now, (rows) => {
      this.tail.add(rows);
      this.wakeSubscriptions('in-tail');
    });
    if (options.hearCommits)
      this.hearing = hearCommits(options.file, () => this.wakeSubscriptions(this.readIntoTail()));
  }

  /**
   * Another thread committed: what it added is read once, into the tail, for every live
   * subscription here to page through; read by each of them, the same rows would be
   * scanned and filtered once per subscription. The first time, the tail only starts at
   * the head (the subscriptions read SQLite this once); after that it holds every row up
   * to what this read saw, whoever wrote it.
   */
  private readIntoTail(): WakeReason {
    const end = this.tail.end();
    if (end === null) {
      this.tail.startAfter(this.reader.head());
      return 'committed-elsewhere';
    }
    const rows = this.reader.rowsAfter(end, TAIL_READ_LIMIT);
    this.tail.add(rows);
    return rows.length < TAIL_READ_LIMIT ? 'in-tail' : 'committed-elsewhere';
  }

  readonly snapshots: SnapshotStore = {
    read: async (streamId) => {
      this.assertOpen();
      const row = this.reader.snapshot(streamId);
      if (!row) return null;
      const position = BigInt(row.position);
      return {
        streamId,
        revision: row.revision,
        position: { commit: position, prepare: position },
        version: row.version,
        state: row.state,
      } satisfies StoredSnapshot;
    },
    write: async (snapshot) => {
      if (this.closed) throw new EventStoreUnavailable('embedded event store is closed');
      const { streamId: stream, revision, version, state } = snapshot;
      await this.commit.writeSnapshot({
        stream,
        revision,
        position: toRow(snapshot.position),
        version,
        state,
        taken: (this.options.now ?? Date.now)(),
      });
    },
  };

  appendToStream(streamId: string, events: EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new EventStoreUnavailable('embedded event store is closed'));
    if (events.length === 0) return Promise.reject(new EventStoreRejected(`nothing to append to stream ${streamId}`));
    return this.appender.append(streamId, events, options.expectedRevision ?? 'any');
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<ReadStreamResult> {
    this.assertOpen();
    return this.reader.readStream(streamId, options);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const from = options.fromPosition ?? (backwards ? 'end' : 'start');
    // Forwards includes the starting position, backwards starts just before it (EventStoreDB's rule).
    let cursor: number;
    if (from === 'start') cursor = 0;
    else if (from === 'end') cursor = backwards ? Number.MAX_SAFE_INTEGER : this.reader.head();
    else cursor = toRow(from) - 1;
    const events: RecordedEvent[] = [];
    while (events.length < maxCount) {
      const want = Math.min(1000, maxCount - events.length);
      const page = backwards
        ? this.reader.pageBackwards(cursor, want, options.filter)
        : this.reader.pageForwards(cursor, want, options.filter);
      events.push(...page.events);
      if (page.reachedEnd) break;
      cursor = backwards ? page.scannedUpTo - 1 : page.scannedUpTo;
    }
    return events;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllSubscription {
    this.assertOpen();
    const from = options.fromPosition ?? 'start';
    const subscription = new SqliteAllSubscription(
      this.reader,
      this.tail,
      this.wakeups,
      from === 'start' ? 0 : toRow(from),
      options.filter,
      options.maxBatchSize,
      this.options.idleCheckMs ?? 200,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<Position | null> {
    this.assertOpen();
    const head = this.reader.head();
    return head === 0 ? null : { commit: BigInt(head), prepare: BigInt(head) };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hearing?.close();
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    // Appends already accepted are committed (or refused) before the handles go away.
    await this.appender.settled();
    await this.commit.close();
    this.db.close();
  }

  private readonly wakeups: Wakeups = {
    next: (fallbackMs) => {
      let wake!: (reason: WakeReason) => void;
      const promise = new Promise<WakeReason>((resolve) => (wake = resolve));
      const timer = setTimeout(() => done('timeout'), fallbackMs);
      const done = (reason: WakeReason) => {
        clearTimeout(timer);
        this.waiters.delete(done);
        wake(reason);
      };
      this.waiters.add(done);
      return { promise, cancel: () => done('timeout') };
    },
  };

  private wakeSubscriptions(reason: WakeReason): void {
    for (const wake of [...this.waiters]) wake(reason);
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailable('embedded event store is closed');
  }
}

/** Rows read into the tail at once; a wake that finds more leaves the subscriptions to read SQLite. */
const TAIL_READ_LIMIT = 5_000;

function toRow(position: Position): number {
  return Number(position.commit);
}
