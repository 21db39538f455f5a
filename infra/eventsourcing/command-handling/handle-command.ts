/**
 * The one way state changes: load a stream, fold it, decide, append the new events with
 * the revision that was read as the expected revision. A writer that got there first
 * makes the append fail with `WrongExpectedVersion`; nothing is ever overwritten.
 *
 * Commands for one stream in this process queue up and are decided one after another on
 * the state the previous one left; the events of all commands waiting together are
 * appended at once. So a hot stream (the broker's account) costs one append per batch, not
 * one failed append and retry per concurrent command. Other processes are still held off
 * by the expected revision: on a conflict the batch is decided again on fresh state.
 *
 * - A command with an `expectedRevision` (the client's If-Match) must find the stream
 *   exactly there, counting the commands decided before it: otherwise
 *   `WrongExpectedVersion`, the client's conflict to resolve — unless the stream shows
 *   the command already applied (`Decider.isRepeat`: a retry whose answer was lost, its
 *   stream moved on by its own first attempt), which is answered as applied.
 * - Without one, it is decided on whatever the stream holds when its turn comes.
 * - A command that expects a `new` stream is decided on no events, without reading the
 *   stream: the append's `no_stream` is the check, and the retry after a refusal reads the
 *   stream and answers `StreamStateMismatch`.
 */
import type { Decider, DomainEvent } from '../../../domain/decider.js';
import {
  WrongExpectedVersion,
  type EventMetadata,
  type EventStore,
  type EventToAppend,
  type JsonObject,
} from '../event-store/event-store.js';
import type { Position } from '../event-store/position.js';
import { confirms, readSnapshot, takeSnapshot, type Snapshotting, type StartingPoint } from './snapshots.js';
import type { CachedStream, StreamStateCache } from './stream-state-cache.js';

export type StreamExpectation = 'new' | 'existing' | 'any';

export interface CommandEnvironment {
  eventStore: EventStore;
  cache: StreamStateCache;
  newId(): string;
  /** Absent: streams are always folded from their start. */
  snapshots?: Snapshotting;
  /** Told of every command and how it ends (diagnostics: counted by type and outcome). */
  observeCommand?: CommandObserver;
  /**
   * Most commands that may wait for one stream when this one arrives; past it the command is
   * refused with `StreamBusy` at once. Absent: no cap (the process managers' commands).
   */
  maxQueuedPerStream?: number;
}

/** Sees a command (its `type`, the stream it targets) and the promise of its result; must not change either. */
export type CommandObserver = (command: { type: string; streamId: string }, outcome: Promise<unknown>) => void;

export interface CommandRequest<State, Command, Event extends DomainEvent> {
  decider: Decider<State, Command, Event>;
  streamId: string;
  /**
   * What the stream must look like before the command (`existing`: 404-like when absent;
   * `new`: decided on no events without a read, the append's `no_stream` checking it).
   */
  expects: StreamExpectation;
  command: Command;
  /** The stream revision the client based the command on (If-Match); -1 means "no stream". */
  expectedRevision?: number;
  metadata?: EventMetadata;
}

export interface CommandResult<State, Event> {
  state: State;
  events: Event[];
  /** Revision of the stream's last event after the command, -1 when the stream does not exist. */
  revision: number;
  /**
   * Where the read models show the command's effect: the position of the events appended
   * with it, or, when it appended nothing, of the stream's last event (null: no stream).
   */
  position: Position | null;
}

/** The stream is not in the state the command requires (it exists, or it does not). */
export class StreamStateMismatch extends Error {
  override readonly name = 'StreamStateMismatch';
  constructor(
    readonly streamId: string,
    readonly expected: StreamExpectation,
  ) {
    super(expected === 'new' ? `stream ${streamId} already exists` : `stream ${streamId} does not exist`);
  }
}

/** Other processes kept winning the stream for every one of the command's attempts. */
export class TooMuchContention extends Error {
  override readonly name = 'TooMuchContention';
  constructor(readonly streamId: string) {
    super(`stream ${streamId} kept changing while the command was decided`);
  }
}

/** A stream's queue is full (`maxQueuedPerStream`): the command was not taken; retry later. */
export class StreamBusy extends Error {
  override readonly name = 'StreamBusy';
  constructor(readonly streamId: string) {
    super(`too many commands are waiting for stream ${streamId}`);
  }
}

const MAX_ATTEMPTS = 20;
const MAX_BATCH = 200;

// Jobs are typed per call site; the queue holds them without knowing their state types.
interface Job {
  request: CommandRequest<unknown, unknown, DomainEvent>;
  attempts: number;
  resolve(result: CommandResult<unknown, DomainEvent>): void;
  reject(error: unknown): void;
}

const queues = new WeakMap<StreamStateCache, Map<string, Job[]>>();

export function handleCommand<State, Command, Event extends DomainEvent>(
  env: CommandEnvironment,
  request: CommandRequest<State, Command, Event>,
): Promise<CommandResult<State, Event>> {
  // The queue is per cache (one per process in production, one per test environment).
  let streams = queues.get(env.cache);
  if (!streams) {
    streams = new Map();
    queues.set(env.cache, streams);
  }
  const outcome = new Promise<CommandResult<State, Event>>((resolve, reject) => {
    const job = { request, attempts: 0, resolve, reject } as unknown as Job;
    const waiting = streams.get(request.streamId);
    if (waiting && env.maxQueuedPerStream !== undefined && waiting.length >= env.maxQueuedPerStream) {
      reject(new StreamBusy(request.streamId));
      return;
    }
    if (waiting) {
      waiting.push(job);
      return;
    }
    streams.set(request.streamId, [job]);
    void drain(env, streams, request.streamId);
  });
  env.observeCommand?.({ type: commandTypeOf(request.command), streamId: request.streamId }, outcome);
  return outcome;
}

function commandTypeOf(command: unknown): string {
  const type = (command as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : 'unknown';
}

/** Works through a stream's queue until it is empty, a batch at a time. */
async function drain(env: CommandEnvironment, streams: Map<string, Job[]>, streamId: string): Promise<void> {
  for (;;) {
    const queue = streams.get(streamId)!;
    if (queue.length === 0) {
      streams.delete(streamId);
      return;
    }
    const batch = queue.splice(0, MAX_BATCH);
    try {
      const retry = await runBatch(env, streamId, batch);
      queue.unshift(...retry);
    } catch (error) {
      for (const job of batch) job.reject(error);
    }
  }
}

interface Decided {
  job: Job;
  result: CommandResult<unknown, DomainEvent>;
}

/** Decides every command of the batch in turn and appends their events together; returns the jobs to try again. */
async function runBatch(env: CommandEnvironment, streamId: string, batch: Job[]): Promise<Job[]> {
  const decider = batch[0]!.request.decider;
  const loaded = await loadForBatch(env, streamId, batch);
  const { state, decided, toAppend } = decideInTurn(env, streamId, batch, loaded);
  if (toAppend.length === 0) {
    // Nothing new (an operation applied before, say): the caller still reads its writes from
    // the stream's last event, which holds that earlier effect.
    for (const { job, result } of decided) job.resolve({ ...result, position: loaded.position });
    return [];
  }
  try {
    const appended = await env.eventStore.appendToStream(streamId, toAppend, {
      expectedRevision: loaded.revision < 0 ? 'no_stream' : loaded.revision,
    });
    const now = {
      state,
      revision: appended.nextExpectedRevision,
      position: appended.position,
      snapshotRevision: loaded.snapshotRevision,
    };
    for (const { job, result } of decided) job.resolve({ ...result, position: appended.position });
    remember(env, decider, streamId, now);
    return [];
  } catch (error) {
    // The cached state stays: it is what the stream held at its revision, and the next
    // attempt catches up from there (the append's expected revision guards every other case).
    if (!(error instanceof WrongExpectedVersion)) throw error;
    // Another process wrote first: decide the same commands again on what it left.
    const again: Job[] = [];
    for (const { job } of decided) {
      job.attempts += 1;
      if (job.attempts >= MAX_ATTEMPTS) job.reject(new TooMuchContention(streamId));
      else again.push(job);
    }
    return again;
  }
}

/**
 * The state a batch is decided on. Deciding on the cached state needs no read: if another
 * process appended meanwhile, the append's expected revision refuses it and the batch is
 * decided again on the cached state caught up with what came since. Only an If-Match newer
 * than the cache proves the cache stale before that.
 */
async function loadForBatch(env: CommandEnvironment, streamId: string, batch: Job[]): Promise<CachedStream<unknown>> {
  const decider = batch[0]!.request.decider;
  // Deciding on the cached state needs no read: if another process appended meanwhile,
  // the append's expected revision refuses it and the batch is decided again on the cached
  // state caught up with what came since. Only an If-Match can be refused without an
  // append, so one that is not the cached revision is checked against the stream itself:
  // the cache may be behind another process (a newer If-Match), or may not hold yet the
  // operation that a retry with an older one repeats.
  const retried = batch.some((job) => job.attempts > 0);
  // A stream that must not exist yet is neither read nor looked up: the append's `no_stream`
  // proves it new (an address is claimed by the append itself), and the retry that follows a
  // refusal reads it and answers `StreamStateMismatch`.
  if (!retried && batch.every((job) => job.request.expects === 'new')) return beginningOf(decider);
  const loaded = await loadStream(env, decider, streamId, retried ? 'fresh' : 'cached');
  if (
    !retried &&
    batch.some((job) => job.request.expectedRevision !== undefined && job.request.expectedRevision !== loaded.revision)
  ) {
    return loadStream(env, decider, streamId, 'fresh');
  }
  return loaded;
}

/**
 * Decides the batch's commands one after the other, each on the state the ones before it
 * left; a command refused (its If-Match or expected stream state not met, or by its
 * decider) is rejected at once and leaves the state as it was.
 */
function decideInTurn(env: CommandEnvironment, streamId: string, batch: Job[], loaded: CachedStream<unknown>) {
  let { state, revision } = loaded;
  const decided: Decided[] = [];
  const toAppend: EventToAppend[] = [];
  for (const job of batch) {
    const { request } = job;
    try {
      const stale = request.expectedRevision !== undefined && request.expectedRevision !== revision;
      const refusal = () =>
        new WrongExpectedVersion(streamId, request.expectedRevision!, revision < 0 ? 'no_stream' : revision);
      // A repeat of what the stream already holds is answered as applied, whatever the If-Match.
      if (stale && !request.decider.isRepeat?.(request.command, state)) throw refusal();
      if (request.expects === 'new' && revision >= 0) throw new StreamStateMismatch(streamId, request.expects);
      if (request.expects === 'existing' && revision < 0) throw new StreamStateMismatch(streamId, request.expects);
      const events = request.decider.decide(request.command, state);
      // Only a command that changes nothing may pass a stale If-Match (a decider whose
      // `isRepeat` and `decide` disagree is a bug; the If-Match still protects the stream).
      if (stale && events.length > 0) throw refusal();
      for (const e of events) state = request.decider.evolve(state, e);
      revision += events.length;
      toAppend.push(
        ...events.map((e) => ({
          id: env.newId(),
          type: e.type,
          data: e.data as JsonObject,
          metadata: request.metadata,
        })),
      );
      decided.push({ job, result: { state, events, revision, position: null } });
    } catch (error) {
      job.reject(error);
    }
  }
  return { state, decided, toAppend };
}

/**
 * Keeps the stream's state in the cache, and writes a snapshot of it once enough events were
 * folded since the last: `every`, or more for a state that weighs more (about one event per
 * `SNAPSHOT_BYTES_PER_EVENT` of its weight), so that folding what came since never costs
 * much less than reading the snapshot would — a busy market is not rewritten every second.
 */
function remember<State>(
  env: Pick<CommandEnvironment, 'cache' | 'snapshots'>,
  decider: StreamDecider<State>,
  streamId: string,
  entry: CachedStream<State>,
): void {
  const snapshots = env.snapshots;
  const weight = decider.weigh?.(entry.state);
  const heavy = (weight ?? 0) > HEAVY_STATE_BYTES;
  const due = snapshots && (heavy ? Math.max(snapshots.every, weight! / SNAPSHOT_BYTES_PER_EVENT) : snapshots.every);
  if (snapshots && due && decider.snapshot && entry.revision - entry.snapshotRevision >= due) {
    void takeSnapshot(snapshots, decider, streamId, entry);
    entry = { ...entry, snapshotRevision: entry.revision };
  }
  env.cache.put(streamId, entry, weight);
}

/**
 * A heavy state is snapshotted once this many bytes of its weight per event were folded
 * since: encoding a busy market's state often costs the request thread more than folding
 * a few thousand of its events does (docs/PERFORMANCE.md, "Why the code is as it is",
 * "Snapshots of heavy states, by weight").
 */
const SNAPSHOT_BYTES_PER_EVENT = 100;
/** States below this are light: snapshotted every `every` events whatever they weigh. */
const HEAVY_STATE_BYTES = 64 * 1024;

/** What folding a stream takes of its decider. */
export type StreamDecider<State, Event extends DomainEvent = DomainEvent> = Pick<
  Decider<State, never, Event>,
  'initialState' | 'evolve' | 'snapshot' | 'weigh'
>;

/** Events are read this many at a time, so a long stream is never held in memory whole. */
const PAGE_SIZE = 1000;

/**
 * The stream's state, revision and the position of its last event. `fresh` (the default): the cached state brought up to
 * date with a read of what came after it — what a read that decides nothing needs.
 * `cached`: the cached state as it is when there is one, for callers whose append checks
 * the revision anyway, or who only need facts that never change once true.
 * Without a cached state, folding starts from the stream's snapshot when it has a usable one.
 */
export async function loadStream<State, Event extends DomainEvent>(
  env: Pick<CommandEnvironment, 'eventStore' | 'cache' | 'snapshots'>,
  decider: StreamDecider<State, Event>,
  streamId: string,
  mode: 'fresh' | 'cached' = 'fresh',
): Promise<CachedStream<State>> {
  const cached = env.cache.get<State>(streamId);
  if (cached && mode === 'cached') return cached;
  const start = cached ?? (await startingPoint(env, decider, streamId));
  let { state, revision, position } = start;
  for (;;) {
    const read = await env.eventStore.readStream(streamId, { fromRevision: revision + 1, maxCount: PAGE_SIZE });
    if (read.status !== 'found') break;
    for (const event of read.events) {
      // The stream holds what `decide` produced for it, and the event store has checked each
      // event against its schema and upcast it to the current version (versioned-event-store.ts),
      // so its shape is Event's.
      state = decider.evolve(state, { type: event.type, data: event.data } as unknown as Event);
      revision = event.revision;
      position = event.position;
    }
    if (read.events.length < PAGE_SIZE) break;
  }
  const loaded = { state, revision, position, snapshotRevision: start.snapshotRevision };
  if (revision >= 0) remember(env, decider, streamId, loaded);
  return loaded;
}

/** A stream with no events. */
function beginningOf<State>(decider: StreamDecider<State, never>): CachedStream<State> {
  return { state: decider.initialState(), revision: -1, position: null, snapshotRevision: -1 };
}

/** Where folding starts without a cached state: the stream's snapshot, once the stream confirms it; else the beginning. */
async function startingPoint<State, Event extends DomainEvent>(
  env: Pick<CommandEnvironment, 'eventStore' | 'snapshots'>,
  decider: StreamDecider<State, Event>,
  streamId: string,
): Promise<CachedStream<State>> {
  const beginning = beginningOf(decider);
  const snapshots = env.snapshots;
  const snapshot: StartingPoint<State> | null = snapshots ? await readSnapshot(snapshots, decider, streamId) : null;
  if (!snapshots || !snapshot) return beginning;
  const read = await env.eventStore.readStream(streamId, { fromRevision: snapshot.revision, maxCount: 1 });
  const event = read.status === 'found' ? read.events[0] : undefined;
  if (!confirms(snapshots, streamId, snapshot, event)) return beginning;
  snapshots.observe?.({ kind: 'loaded', streamId, revision: snapshot.revision });
  return { ...snapshot, snapshotRevision: snapshot.revision };
}
