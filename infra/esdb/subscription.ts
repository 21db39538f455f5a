/**
 * A catch-up subscription to `$all` that survives connection loss.
 *
 * The client's subscription is a push stream of events; the port's is a pull iterator of
 * batches. In between sits a buffer of entries in `$all` order:
 * - events that pass the filter;
 * - "progress" marks: events the filter refused and the server's filter checkpoints,
 *   which only move the position forward;
 * - the caught-up mark, and the fell-behind mark (a server that says so: 24.10 does not,
 *   it only catches up again and repeats "caught up").
 * Each `next()` takes what is buffered (at most `maxBatchSize` events) as one batch. When
 * the buffer grows past a high-water mark the client stream is paused (gRPC flow control
 * then holds the server back) and resumed once the consumer has drained it to half.
 *
 * When the server connection fails transiently (server restart, leader change, network),
 * the subscription is reopened after a backoff from the furthest position received —
 * buffered entries are kept, so the consumer sees every event once, in order. Anything the
 * new subscription sends at or before that position is dropped (the server starts after
 * it, but a duplicate must never reach a consumer). Other failures end the iteration: the
 * buffered entries are delivered first, then `next()` throws.
 */
import type { AllStreamResolvedEvent, AllStreamSubscription, Position as ClientPosition } from '@eventstore/db-client';
import {
  EventStoreUnavailable,
  type AllSubscription,
  type Position,
  type RecordedEvent,
  type SubscriptionBatch,
} from '../eventsourcing/event-store/event-store.js';
import { isAfter } from '../eventsourcing/event-store/position.js';
import { backoffDelay, type BackoffPolicy } from '../eventsourcing/backoff.js';
import { toPosition, toRecordedEvent } from './conversion.js';
import { isTransient, toStoreError } from './errors.js';
import type { FilterPlan } from './filters.js';

/** Opens the client subscription; `checkpointReached` goes into its filter options as is. */
export type OpenSource = (
  from: Position | 'start',
  checkpointReached: (source: AllStreamSubscription, position: ClientPosition) => Promise<void> | void,
) => AllStreamSubscription;

export interface SubscriptionSettings {
  maxBatchSize: number;
  /** Buffered entries above which the client stream is paused. */
  highWaterMark: number;
  backoff: BackoffPolicy;
  /** Consecutive failed (re)subscriptions before giving up with `EventStoreUnavailable`. */
  maxResubscribeAttempts: number;
  /** A connection that lived this long counts as a success: the attempt count restarts. */
  stableAfterMs: number;
}

type Entry =
  | { kind: 'event'; event: RecordedEvent }
  | { kind: 'progress'; position: Position }
  | { kind: 'caught-up' }
  | { kind: 'fell-behind' };

/** FIFO with O(1) shift: the array is compacted once its consumed head grows large. */
class EntryQueue {
  #items: Entry[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }
  push(entry: Entry): void {
    this.#items.push(entry);
  }
  peek(): Entry | undefined {
    return this.#items[this.#head];
  }
  last(): Entry | undefined {
    return this.size > 0 ? this.#items[this.#items.length - 1] : undefined;
  }
  shift(): void {
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export class ResubscribingSubscription implements AllSubscription, AsyncIterator<SubscriptionBatch> {
  readonly #open: OpenSource;
  readonly #plan: FilterPlan;
  readonly #settings: SubscriptionSettings;
  readonly #onClosed: () => void;
  readonly #queue = new EntryQueue();

  /** Where the first subscription starts (exclusive). */
  readonly #start: Position | 'start';
  /** Furthest position taken from the server: where a resubscription starts. */
  #received: Position | undefined;
  /** Furthest position handed to the consumer. */
  #delivered: Position | undefined;
  #caughtUpReceived = false;
  #caughtUpDelivered = false;

  #source: AllStreamSubscription | undefined;
  #detachSource: (() => void) | undefined;
  /** Bumped on every (re)subscription: callbacks of an abandoned source are ignored. */
  #generation = 0;
  #connectedAt = 0;
  #failedAttempts = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #paused = false;
  #started = false;
  #closed = false;
  #failure: Error | undefined;

  #wakeConsumer: (() => void) | undefined;
  #wakeScheduled = false;
  /** Serialises `next()` calls: a batch is taken by one caller at a time. */
  #pulls: Promise<unknown> = Promise.resolve();

  constructor(
    open: OpenSource,
    plan: FilterPlan,
    from: Position | 'start',
    settings: SubscriptionSettings,
    onClosed: () => void,
  ) {
    this.#open = open;
    this.#plan = plan;
    this.#settings = settings;
    this.#onClosed = onClosed;
    this.#start = from;
    // Events at or before the starting point are dropped like any repeat.
    this.#received = from === 'start' ? undefined : from;
    this.#delivered = this.#received;
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
    return this;
  }

  next(): Promise<IteratorResult<SubscriptionBatch, undefined>> {
    const pull = this.#pulls.then(() => this.#pull());
    this.#pulls = pull.catch(() => undefined);
    return pull;
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    await this.close();
    return DONE;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const source = this.#abandonSource();
    this.#queue.clear();
    this.#wake(true);
    this.#onClosed();
    await source?.unsubscribe().catch(() => undefined);
  }

  async #pull(): Promise<IteratorResult<SubscriptionBatch, undefined>> {
    if (!this.#started && !this.#closed) {
      this.#started = true;
      this.#connect();
    }
    for (;;) {
      if (this.#closed) return DONE;
      if (this.#queue.size > 0) return { done: false, value: this.#takeBatch() };
      if (this.#failure) {
        const failure = this.#failure;
        await this.close();
        throw failure;
      }
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve;
      });
    }
  }

  #takeBatch(): SubscriptionBatch {
    const events: RecordedEvent[] = [];
    for (let entry = this.#queue.peek(); entry !== undefined; entry = this.#queue.peek()) {
      if (entry.kind === 'event') {
        if (events.length >= this.#settings.maxBatchSize) break;
        events.push(entry.event);
        this.#delivered = entry.event.position;
      } else if (entry.kind === 'progress') {
        this.#delivered = entry.position;
      } else if (entry.kind === 'fell-behind') {
        // Events already taken in this batch were live; those after it are catch-up again.
        if (events.length > 0) break;
        this.#caughtUpDelivered = false;
      } else {
        this.#caughtUpDelivered = true;
      }
      this.#queue.shift();
    }
    if (this.#paused && this.#queue.size <= this.#settings.highWaterMark / 2) {
      this.#paused = false;
      this.#source?.resume();
    }
    const batch: SubscriptionBatch = { events, caughtUp: this.#caughtUpDelivered };
    if (this.#delivered) batch.position = this.#delivered;
    return batch;
  }

  /**
   * Opens a client subscription from the furthest position received.
   *
   * The client reports checkpoints and "caught up" out of band, as soon as it parses them,
   * while the events before them may still sit in its stream buffer (a paused stream, or
   * events not emitted yet). Taken at once, a checkpoint would move the resubscription
   * point past events not yet received — a gap after the next reconnection. So these
   * marks wait until the buffer has been emitted; a checkpoint also holds the client's
   * parsing (it awaits the callback), so nothing overtakes it.
   */
  #connect(): void {
    if (this.#closed) return;
    const generation = ++this.#generation;
    const current = () => generation === this.#generation && !this.#closed;
    const marks = new HeldMarks();
    let source: AllStreamSubscription;
    try {
      source = this.#open(this.#received ?? this.#start, (emitter, position) =>
        marks.whenEmitted(emitter, () => {
          if (current()) this.#onProgress(toPosition(position));
        }),
      );
    } catch (error) {
      this.#onSourceFailure(error, generation);
      return;
    }
    this.#attach(source, generation, marks);
    this.#connectedAt = Date.now();
    if (this.#paused) source.pause();
  }

  /** Listens to a source just opened, and says how to stop (`#detachSource`). */
  #attach(source: AllStreamSubscription, generation: number, marks: HeldMarks): void {
    const current = () => generation === this.#generation && !this.#closed;
    const listeners = {
      data: (resolved: AllStreamResolvedEvent) => {
        if (current()) this.#onEvent(resolved);
        marks.releaseIfEmitted(source);
      },
      caughtUp: () =>
        void marks.whenEmitted(source, () => {
          if (current()) this.#onCaughtUp();
        }),
      fellBehind: () =>
        void marks.whenEmitted(source, () => {
          if (current()) this.#onFellBehind();
        }),
      error: (error: Error) => this.#onSourceFailure(error, generation),
      // The server never ends a subscription by itself; an end is a lost connection.
      end: () => this.#onSourceFailure(new EventStoreUnavailable('EventStoreDB ended the subscription'), generation),
    };
    source.on('data', listeners.data);
    source.on('caughtUp', listeners.caughtUp);
    source.on('fellBehind', listeners.fellBehind);
    source.on('error', listeners.error);
    source.on('end', listeners.end);
    this.#source = source;
    this.#detachSource = () => {
      source.off('data', listeners.data);
      source.off('caughtUp', listeners.caughtUp);
      source.off('fellBehind', listeners.fellBehind);
      source.off('end', listeners.end);
      // Swapped, not removed: an abandoned stream may still emit 'error', and an 'error'
      // without a listener would crash the process.
      source.off('error', listeners.error);
      source.on('error', () => undefined);
      // Unblock a client parser waiting on a checkpoint; `current()` is false by now.
      marks.releaseAll();
    };
  }

  /** Detaches the current source (its callbacks are ignored from now on) and returns it. */
  #abandonSource(): AllStreamSubscription | undefined {
    this.#generation++;
    const source = this.#source;
    this.#source = undefined;
    this.#detachSource?.();
    this.#detachSource = undefined;
    return source;
  }

  #onSourceFailure(error: unknown, generation: number): void {
    if (generation !== this.#generation || this.#closed) return;
    const source = this.#abandonSource();
    void source?.unsubscribe().catch(() => undefined);
    if (Date.now() - this.#connectedAt >= this.#settings.stableAfterMs) this.#failedAttempts = 0;
    if (isTransient(error) && this.#failedAttempts < this.#settings.maxResubscribeAttempts) {
      const delay = backoffDelay(this.#failedAttempts++, this.#settings.backoff);
      this.#retryTimer = setTimeout(() => this.#connect(), delay);
      return;
    }
    this.#failure = toStoreError(error, 'subscribe to $all');
    this.#wake(true);
  }

  /** True when `position` is new; then it becomes the resubscription point. */
  #advance(position: Position): boolean {
    if (!isAfter(position, this.#received)) return false;
    this.#received = position;
    this.#failedAttempts = 0;
    return true;
  }

  #onEvent(resolved: AllStreamResolvedEvent): void {
    const event = resolved.event;
    if (!event) return;
    const position = toPosition(event.position);
    if (!this.#advance(position)) return;
    if (!this.#plan.accepts(event.streamId, event.type)) {
      this.#enqueue({ kind: 'progress', position });
      return;
    }
    let recorded: RecordedEvent | undefined;
    try {
      recorded = toRecordedEvent(resolved);
    } catch (error) {
      this.#failure = toStoreError(error, 'subscribe to $all');
      void this.#abandonSource()
        ?.unsubscribe()
        .catch(() => undefined);
      this.#wake(true);
      return;
    }
    this.#enqueue(recorded ? { kind: 'event', event: recorded } : { kind: 'progress', position });
  }

  #onProgress(position: Position): void {
    if (this.#advance(position)) this.#enqueue({ kind: 'progress', position });
  }

  #onCaughtUp(): void {
    // A resubscription's own "caught up" adds nothing to one already received; only "fell
    // behind" takes the flag down.
    if (this.#caughtUpReceived) return;
    this.#caughtUpReceived = true;
    this.#enqueue({ kind: 'caught-up' });
  }

  /** The server is reading from its log again: batches say "not caught up" until it is. */
  #onFellBehind(): void {
    if (!this.#caughtUpReceived) return;
    this.#caughtUpReceived = false;
    this.#enqueue({ kind: 'fell-behind' });
  }

  #enqueue(entry: Entry): void {
    const last = this.#queue.last();
    if (entry.kind === 'progress' && last?.kind === 'progress') {
      // A run of skipped events and checkpoints only matters by its end.
      last.position = entry.position;
      this.#wake(false);
      return;
    }
    this.#queue.push(entry);
    if (!this.#paused && this.#queue.size >= this.#settings.highWaterMark) {
      this.#paused = true;
      this.#source?.pause();
    }
    this.#wake(false);
  }

  /**
   * Wakes a waiting `next()`. Unless urgent, one turn of the event loop is left first so
   * that a burst of events arriving together lands in one batch.
   */
  #wake(urgent: boolean): void {
    if (!this.#wakeConsumer) return;
    if (urgent) {
      const wake = this.#wakeConsumer;
      this.#wakeConsumer = undefined;
      wake();
      return;
    }
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      const wake = this.#wakeConsumer;
      this.#wakeConsumer = undefined;
      wake?.();
    });
  }
}

/**
 * A source's marks (checkpoints, "caught up", "fell behind") held until the client's
 * stream buffer has emitted the events received before them (see `#connect`).
 */
class HeldMarks {
  #waiting: Array<() => void> = [];

  /** Runs `mark` once `source` has emitted what it holds: now if it holds nothing, else later (the promise resolves then). */
  whenEmitted(source: AllStreamSubscription, mark: () => void): Promise<void> | void {
    if (source.readableLength === 0) return mark();
    return new Promise<void>((resolve) =>
      this.#waiting.push(() => {
        mark();
        resolve();
      }),
    );
  }

  /** After an event is emitted: the marks held run if it was the last one buffered. */
  releaseIfEmitted(source: AllStreamSubscription): void {
    if (this.#waiting.length === 0 || source.readableLength > 0) return;
    this.releaseAll();
  }

  releaseAll(): void {
    const marks = this.#waiting;
    this.#waiting = [];
    for (const mark of marks) mark();
  }
}
