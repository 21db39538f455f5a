/**
 * The EventStoreDB adapter of the event store port, over `@eventstore/db-client` 6.x (gRPC).
 *
 * Retries, in short:
 * - reads (stream, `$all` pages, head position) are retried on transient failures with a
 *   bounded, jittered backoff, then fail with `EventStoreUnavailable`;
 * - an append is retried at most once, and only when that cannot write the events twice
 *   (see `#mayRetryAppend`);
 * - subscriptions resubscribe by themselves (see subscription.ts);
 * - `ping` is never retried: it reports the state of the server now.
 */
import {
  EventStoreDBClient,
  END,
  BACKWARDS,
  FORWARDS,
  START,
  ErrorType,
  type AppendResult as ClientAppendResult,
  type EventData,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  EventStoreRejected,
  type AllSubscription,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type SubscribeToAllOptions,
} from '../eventsourcing/event-store/event-store.js';
import { backoffDelay, sleep, type BackoffPolicy } from '../eventsourcing/backoff.js';
import { withRetries } from './retries.js';
import {
  isIdempotentExpectedRevision,
  toClientExpectedRevision,
  toClientPosition,
  toEventData,
  toPosition,
  toRecordedEvent,
  toRevision,
} from './conversion.js';
import { errorType, isStreamNotFound, isWrongExpectedVersion, toStoreError, toWrongExpectedVersion } from './errors.js';
import { planFilter } from './filters.js';
import { collect, isValidCount, readAllPages, type ReadSettings } from './reads.js';
import type { CappableStreams } from './snapshots.js';
import { ResubscribingSubscription, type SubscriptionSettings } from './subscription.js';

export interface EsdbEventStoreOptions {
  /** `esdb://host:2113?tls=false`, `esdb+discover://…` for a cluster (see the client's docs). */
  connectionString: string;
  /** A read fails (and may be retried) when the server sends nothing for this long. Default 10 s. */
  readIdleTimeoutMs?: number;
  /** Deadline of `ping`. Default 5 s. */
  pingTimeoutMs?: number;
  /** Tries per read, the first included, while failures are transient. Default 4. */
  readAttempts?: number;
  /** Backoff between read retries and before the one append retry. Default 100 ms doubling to 2 s. */
  retryBackoff?: Partial<BackoffPolicy>;
  /** Backoff between resubscriptions. Default 200 ms doubling to 10 s. */
  resubscribeBackoff?: Partial<BackoffPolicy>;
  /**
   * Consecutive failed resubscriptions after which a subscription ends with
   * `EventStoreUnavailable`. Default 30 (about 4 minutes with the default backoff).
   */
  maxResubscribeAttempts?: number;
  /** Buffered entries per subscription above which the server stream is paused. Default 4 × maxBatchSize. */
  subscriptionHighWaterMark?: number;
  /** Events per page when reading `$all`. Default 500. */
  readPageSize?: number;
  /**
   * Reads and subscriptions ask for the leader, so a follower answers NotLeader with the
   * leader's address and the client reconnects there, instead of serving what it has
   * replicated so far. Appends need not: a follower forwards them. Default: true unless the
   * connection string prefers another kind of node (`nodePreference=follower`…).
   */
  requiresLeader?: boolean;
}

const DEFAULT_MAX_BATCH_SIZE = 500;

/** The EventStoreDB adapter, with what the snapshot streams need besides the port (see snapshots.ts). */
export type EsdbEventStore = EventStore & CappableStreams;

export function openEsdbEventStore(options: EsdbEventStoreOptions): EsdbEventStore {
  return new EsdbEventStoreAdapter(options);
}

/**
 * With `throwOnAppendFailure=false` the client resolves a wrong expected version as a
 * "failed" result without the actual revision (and with a wrong one on its batch path).
 */
function assertThrowsOnAppendFailure(connectionString: string): void {
  const query = connectionString.split('?')[1] ?? '';
  for (const pair of query.split('&')) {
    const [key = '', value = ''] = pair.split('=');
    if (key.replace(/[-_]/g, '').toLowerCase() === 'throwonappendfailure' && value.trim() === 'false') {
      throw new Error('openEsdbEventStore: the connection string must not set throwOnAppendFailure=false');
    }
  }
}

/** The connection string's `nodePreference`, if it names one other than the leader, wants reads elsewhere. */
function prefersLeader(connectionString: string): boolean {
  const match = /[?&]nodePreference=([^&]*)/i.exec(connectionString);
  return match === null || match[1]!.toLowerCase() === 'leader';
}

function assertStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || streamId === '') {
    throw new EventStoreRejected('A stream id is a non-empty string');
  }
}

function assertCount(maxCount: number | undefined): void {
  if (maxCount !== undefined && !isValidCount(maxCount)) {
    throw new EventStoreRejected(`Invalid maxCount ${maxCount}: an integer ≥ 0 is expected`);
  }
}

class EsdbEventStoreAdapter implements EsdbEventStore {
  readonly #client: EventStoreDBClient;
  readonly #reads: ReadSettings;
  readonly #retryBackoff: BackoffPolicy;
  readonly #pingTimeoutMs: number;
  readonly #options: EsdbEventStoreOptions;
  readonly #subscriptions = new Set<ResubscribingSubscription>();
  #closed = false;

  constructor(options: EsdbEventStoreOptions) {
    assertThrowsOnAppendFailure(options.connectionString);
    this.#client = EventStoreDBClient.connectionString(options.connectionString);
    this.#options = options;
    this.#retryBackoff = { initialDelayMs: 100, maxDelayMs: 2_000, ...options.retryBackoff };
    this.#reads = {
      idleTimeoutMs: options.readIdleTimeoutMs ?? 10_000,
      attempts: Math.max(1, options.readAttempts ?? 4),
      backoff: this.#retryBackoff,
      pageSize: Math.max(2, options.readPageSize ?? 500),
      requiresLeader: options.requiresLeader ?? prefersLeader(options.connectionString),
    };
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 5_000;
  }

  async setMaxCount(streamId: string, maxCount: number): Promise<void> {
    this.#assertOpen();
    assertStreamId(streamId);
    try {
      await this.#client.setStreamMetadata(streamId, { maxCount });
    } catch (error) {
      throw toStoreError(error, `set the metadata of stream ${streamId}`);
    }
  }

  async appendToStream(streamId: string, events: EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    this.#assertOpen();
    assertStreamId(streamId);
    const expected = options.expectedRevision ?? 'any';
    if (events.length === 0) {
      // The server answers an empty append without a position, which the port requires.
      throw new EventStoreRejected(`Nothing to append to stream ${streamId}`);
    }
    const expectedRevision = toClientExpectedRevision(expected);
    const data: EventData[] = events.map(toEventData);
    const append = () => this.#client.appendToStream(streamId, data, { expectedRevision });

    let result: ClientAppendResult;
    try {
      result = await append();
    } catch (error) {
      if (!this.#mayRetryAppend(error, expected)) throw this.#appendError(error, streamId, expected);
      await sleep(backoffDelay(0, this.#retryBackoff));
      try {
        result = await append();
      } catch (retryError) {
        throw this.#appendError(retryError, streamId, expected);
      }
    }

    const nextExpectedRevision = toRevision(result.nextExpectedRevision);
    const position = result.position
      ? toPosition(result.position)
      : await this.#positionOfRevision(streamId, nextExpectedRevision);
    return { nextExpectedRevision, position };
  }

  /**
   * One retry, for two failures only:
   * - not leader: the node refused without writing; the client has already switched to the
   *   leader it was told about;
   * - unavailable: the events may or may not have been written. Sending the same event ids
   *   at the same expected revision again is idempotent on the server (it recognises the
   *   ids and answers success without writing), but only for `no_stream` and exact
   *   revisions: with `any`/`stream_exists` the server's duplicate check is best-effort,
   *   so those fail with `EventStoreUnavailable` and the caller decides.
   * Timeouts are not retried: the first attempt may still be in flight.
   */
  #mayRetryAppend(error: unknown, expected: ExpectedRevision): boolean {
    const type = errorType(error);
    if (type === ErrorType.NOT_LEADER) return true;
    return type === ErrorType.UNAVAILABLE && isIdempotentExpectedRevision(expected);
  }

  #appendError(error: unknown, streamId: string, expected: ExpectedRevision): Error {
    if (isWrongExpectedVersion(error)) return toWrongExpectedVersion(error, streamId, expected);
    return toStoreError(error, `append to stream ${streamId}`);
  }

  /**
   * The server leaves the position out of some answers (an idempotent re-append). The
   * event is then read back; failing that, the head of `$all` is a safe upper bound for a
   * read-your-writes wait.
   */
  async #positionOfRevision(streamId: string, revision: number): Promise<Position> {
    const result = await this.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    const event = result.status === 'found' ? result.events[0] : undefined;
    if (event) return event.position;
    const head = await this.headPosition();
    if (head) return head;
    throw new EventStoreRejected(`EventStoreDB did not report where stream ${streamId} was written`);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    this.#assertOpen();
    assertStreamId(streamId);
    assertCount(options.maxCount);
    const direction = options.direction ?? 'forwards';
    const from = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    if (typeof from === 'number' && (!Number.isSafeInteger(from) || from < 0)) {
      throw new EventStoreRejected(`Invalid revision ${from}: an integer ≥ 0 is expected`);
    }
    // Reading one event even when none is wanted still tells whether the stream exists.
    const wanted = options.maxCount ?? Infinity;
    const maxCount = wanted === Infinity ? undefined : Math.max(wanted, 1);
    const action = `read stream ${streamId}`;

    const resolved = await withRetries(action, this.#reads.attempts, this.#reads.backoff, async () => {
      const read = this.#client.readStream(streamId, {
        direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
        fromRevision: from === 'start' ? START : from === 'end' ? END : BigInt(from),
        requiresLeader: this.#reads.requiresLeader,
        ...(maxCount === undefined ? {} : { maxCount }),
      });
      try {
        return await collect<ResolvedEvent>(read, this.#reads.idleTimeoutMs, action);
      } catch (error) {
        if (isStreamNotFound(error)) return null;
        throw error;
      }
    });
    if (resolved === null) return { status: 'not_found' };

    const events: RecordedEvent[] = [];
    for (const item of resolved.slice(0, wanted)) {
      const event = toRecordedEvent(item);
      if (event) events.push(event);
    }
    return { status: 'found', events };
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.#assertOpen();
    return readAllPages(this.#client, options, this.#reads);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllSubscription {
    this.#assertOpen();
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new EventStoreRejected(`Invalid maxBatchSize ${maxBatchSize}: an integer ≥ 1 is expected`);
    }
    const plan = planFilter(options.filter);
    const settings: SubscriptionSettings = {
      maxBatchSize,
      highWaterMark: Math.max(this.#options.subscriptionHighWaterMark ?? 4 * maxBatchSize, maxBatchSize),
      backoff: { initialDelayMs: 200, maxDelayMs: 10_000, ...this.#options.resubscribeBackoff },
      maxResubscribeAttempts: this.#options.maxResubscribeAttempts ?? 30,
      stableAfterMs: 10_000,
    };
    const subscription = new ResubscribingSubscription(
      (from, checkpointReached) =>
        this.#client.subscribeToAll({
          fromPosition: from === 'start' ? START : toClientPosition(from),
          requiresLeader: this.#reads.requiresLeader,
          // Every subscription is filtered (system events at least), so the server sends
          // checkpoints: the position advances even when nothing matches for a long time.
          filter: { ...plan.server, checkpointReached },
        }),
      plan,
      options.fromPosition ?? 'start',
      settings,
      () => this.#subscriptions.delete(subscription),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<Position | null> {
    this.#assertOpen();
    const [last] = await readAllPages(this.#client, { direction: 'backwards', maxCount: 1 }, this.#reads);
    return last?.position ?? null;
  }

  /** The cheapest call that needs the server to answer: the last record of `$all`. */
  async ping(): Promise<void> {
    this.#assertOpen();
    const read = this.#client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
    try {
      await collect(read, this.#pingTimeoutMs, 'ping');
    } catch (error) {
      throw toStoreError(error, 'ping');
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#subscriptions].map((subscription) => subscription.close()));
    await this.#client.dispose();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('The EventStoreDB event store is closed');
  }
}
