/**
 * The event store port. One interface with EventStoreDB's semantics, implemented by the
 * embedded SQLite store (infra/sqlite/, the default) and the EventStoreDB adapter
 * (infra/esdb/). Everything else talks to this interface only.
 */
import type { Position } from './position.js';

export type { Position } from './position.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Correlation and causation travel with every event so a flow can be traced end to end. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  /** The version of the data's shape (domain/event-schema.ts); absent in events written before versions were recorded: version 1. */
  schemaVersion?: number;
  [key: string]: JsonValue | undefined;
}

export interface EventToAppend {
  /** A uuid chosen by the writer: re-appending the same ids is how retries stay idempotent. */
  id: string;
  type: string;
  data: JsonObject;
  metadata?: EventMetadata;
}

export interface RecordedEvent {
  id: string;
  type: string;
  streamId: string;
  /** 0-based position of the event inside its stream. */
  revision: number;
  /** Global position in `$all`: totally ordered, opaque (compare with `comparePositions`). */
  position: Position;
  data: JsonObject;
  metadata: EventMetadata;
  created: Date;
  /**
   * Set by a store that checks what it reads (versioned-event-store.ts) when the event matches
   * no version of its type this build knows: why. Its `data` is then as stored and must not be
   * used; a runner parks the event. (`readStream` throws `UnreadableEvent` instead.)
   */
  unreadable?: string;
}

/**
 * What the writer believes about the stream:
 * - `any`: no check;
 * - `no_stream`: the stream must not exist yet;
 * - `stream_exists`: it must exist (any revision);
 * - a number: the revision of the stream's last event must be exactly this.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event now in the stream (the next expected revision). */
  nextExpectedRevision: number;
  /** Global position of the last event written (read-your-writes token). */
  position: Position;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  direction?: Direction;
  /** Inclusive. Default: 'start' forwards, 'end' backwards. */
  fromRevision?: number | 'start' | 'end';
  /** Default: unbounded. */
  maxCount?: number;
}

export type ReadStreamResult = { status: 'found'; events: RecordedEvent[] } | { status: 'not_found' };

export interface AllFilter {
  /** Keep events whose stream id starts with one of these. */
  streamPrefixes?: string[];
  /** Keep events whose type starts with one of these. */
  eventTypePrefixes?: string[];
}

export interface ReadAllOptions {
  direction?: Direction;
  /**
   * Default: 'start' forwards, 'end' backwards. As in EventStoreDB, a forwards read
   * includes the event at this position and a backwards read starts just before it (so
   * paging backwards passes the last position seen without repeating it).
   */
  fromPosition?: Position | 'start' | 'end';
  maxCount?: number;
  filter?: AllFilter;
}

export interface SubscribeToAllOptions {
  /** Exclusive: the first event delivered is the one after this position. Default 'start'. */
  fromPosition?: Position | 'start';
  filter?: AllFilter;
  /** Upper bound on the events in one batch (default 500). */
  maxBatchSize?: number;
}

/**
 * What a subscription delivers: the events that were ready, in `$all` order.
 * `caughtUp` is true once the subscription has reached the end of `$all` (this batch
 * included), and stays true while it keeps up with live appends. `position` is how far
 * the subscription has looked, which can be past the last event when a filter skipped some.
 */
export interface SubscriptionBatch {
  events: RecordedEvent[];
  caughtUp: boolean;
  position?: Position;
}

export interface AllSubscription extends AsyncIterable<SubscriptionBatch> {
  /** Ends the iteration (a pending `next()` resolves as done) and frees resources. */
  close(): Promise<void>;
}

export interface EventStore {
  /** At least one event (an empty append is refused with `EventStoreRejected`: it would have no position). */
  appendToStream(streamId: string, events: EventToAppend[], options?: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  /** System events (types starting with `$`) are never returned. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catch-up then live; system events are never delivered. */
  subscribeToAll(options?: SubscribeToAllOptions): AllSubscription;
  /** Position of the last event in `$all`, or null when the store is empty. */
  headPosition(): Promise<Position | null>;
  /** Resolves when the store is reachable; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The stream was not at the revision the writer expected. */
export class WrongExpectedVersion extends Error {
  override readonly name = 'WrongExpectedVersion';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual last revision, or 'no_stream'. */
    readonly actual: number | 'no_stream',
  ) {
    super(`Wrong expected version on stream "${streamId}": expected ${String(expected)}, actual ${String(actual)}`);
  }
}

/** The store could not be reached or answered with a transient failure; retrying may help. */
export class EventStoreUnavailable extends Error {
  override readonly name = 'EventStoreUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A request the store refuses for good (bad stream name, event too large, access denied…). */
export class EventStoreRejected extends Error {
  override readonly name = 'EventStoreRejected';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A stored event this build cannot read as any version of its type: a fault to repair, never data to guess at. */
export class UnreadableEvent extends Error {
  override readonly name = 'UnreadableEvent';
  constructor(
    readonly streamId: string,
    readonly revision: number,
    readonly eventId: string,
    readonly reason: string,
  ) {
    super(`event ${eventId} at revision ${revision} of stream ${streamId} cannot be read: ${reason}`);
  }
}

/** An event about to be appended does not match its type's current schema: a bug in whatever produced it. Nothing was written. */
export class MalformedEvent extends Error {
  override readonly name = 'MalformedEvent';
  constructor(
    readonly streamId: string,
    readonly reason: string,
  ) {
    super(`refused to append to stream ${streamId}: ${reason}`);
  }
}
