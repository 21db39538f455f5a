import type { EventHandler, ProjectionView } from './event-handler.js';
import {
  UnreadableEvent,
  type AllSubscription,
  type EventStore,
  type RecordedEvent,
  type SubscriptionBatch,
} from '../event-store/event-store.js';
import { comparePositions, formatPosition, isAfter, type Position } from '../event-store/position.js';
import type { PositionedWrites, ReadStore, WriteOp } from '../read-store/read-store.js';
import { BatchView } from './batch-view.js';
import { isDeadLocalOwner } from './lease-owners.js';
import type { LeaseStore } from './leases.js';
import { PartitionPipeline } from './partition-pipeline.js';
import { PositionWaiters } from './position-waiters.js';
import { backoffDelay, sleep, type BackoffPolicy } from '../backoff.js';
import { isTransient } from './transient.js';

export interface RunnerLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface RunnerOptions {
  eventStore: EventStore;
  readStore: ReadStore;
  leases: LeaseStore;
  /** Names this process in leases (e.g. `api@host:pid`). */
  owner: string;
  log: RunnerLog;
  batchSize?: number;
  /** Tries of a failing event before it is parked. */
  maxAttempts?: number;
  leaseTtlMs?: number;
  /** Stored checkpoints are moved at least this often while only filtered-out events pass. */
  idleCheckpointMs?: number;
  /**
   * Once live, batches start at most this often: under load, events gather for a few
   * milliseconds and are committed together instead of one read-model transaction each.
   */
  liveBatchIntervalMs?: number;
  /** Told whenever the runner moves on (to report progress to another thread). */
  onAdvance?: (status: RunnerStatus) => void;
}

export interface RebuildProgress {
  events: number;
  position: Position | null;
  caughtUp: boolean;
}

export type RunnerState = 'waiting-for-lease' | 'catching-up' | 'live' | 'retrying' | 'stopped';

export interface RunnerStatus {
  name: string;
  state: RunnerState;
  position: Position | null;
  lastError: string | null;
}

const RESUBSCRIBE_BACKOFF: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 10_000 };
const HANDLER_BACKOFF: BackoffPolicy = { initialDelayMs: 50, maxDelayMs: 5_000 };
const STORE_BACKOFF: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 10_000 };
/** Events a pipelined handler has in hand at most before reading on waits. */
const PIPELINE_CAPACITY = 2_000;

/** The writes of one event, with the event (to park it if the store refuses them). */
interface EventWrites extends PositionedWrites {
  event: RecordedEvent;
}

/** The lease was taken away (a rebuild asked for it): stop before writing anything more. */
class LeaseLost extends Error {}

const REBUILDER = 'rebuild:';

/**
 * A rebuild holds the lease under a name of its own, so every process sharing the leases
 * can tell a view is being replayed (readiness); `rebuild:` keeps the `role@host:pid` shape.
 */
export function rebuilderName(owner: string): string {
  return `${REBUILDER}${owner}`;
}

export function isRebuilder(holder: string | null | undefined): boolean {
  return holder?.startsWith(REBUILDER) ?? false;
}

/**
 * Feeds one projection or process manager from `$all`: from its checkpoint, in batches,
 * each batch's writes committed together with the new checkpoint. Transient failures are
 * waited out with backoff; an event that keeps failing is parked after `maxAttempts` tries
 * (recorded, logged, visible in status) so one bad event never blocks the rest.
 */
export class ProjectionRunner {
  private state: RunnerState = 'stopped';
  private position: Position | null = null;
  private lastError: string | null = null;
  private leaseHeld = false;
  private stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  /** The commit being written, so a lost lease is given back only after it landed. */
  private inFlight: Promise<void> | null = null;
  /** Where a restart would resume (the stored checkpoint) and the oldest event this handler parked: see `redeliveryFloor`. */
  private storedCheckpoint: Position | null = null;
  private oldestParked: Position | null = null;
  private readonly waiters = new PositionWaiters();
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly leaseTtlMs: number;

  constructor(
    readonly handler: EventHandler,
    private readonly options: RunnerOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.leaseTtlMs = options.leaseTtlMs ?? 15_000;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.loop = null;
  }

  status(): RunnerStatus {
    return { name: this.handler.name, state: this.state, position: this.position, lastError: this.lastError };
  }

  /**
   * The earliest place in the log (commit position) from which this handler may be given an
   * event again: its stored checkpoint, held back by any event it parked (which may be
   * retried). What a process manager did for events before it can never be asked again.
   */
  redeliveryFloor(): number {
    const floor =
      this.oldestParked && (!this.storedCheckpoint || comparePositions(this.oldestParked, this.storedCheckpoint) < 0)
        ? this.oldestParked
        : this.storedCheckpoint;
    return floor ? Number(floor.commit) : -1;
  }

  hasReached(position: Position): boolean {
    return this.position !== null && comparePositions(this.position, position) >= 0;
  }

  /** Resolves once every event up to `position` has been handled and committed (read-your-writes). */
  waitFor(position: Position, signal?: AbortSignal): Promise<void> {
    return this.hasReached(position) ? Promise.resolve() : this.waiters.wait(position, signal);
  }

  /**
   * Drops the view and replays it from the start. Takes the lease over from whichever
   * process runs the projection (it stops at its next renewal and resumes, from the new
   * checkpoint, once the rebuild gives the lease back).
   */
  async rebuild(onProgress?: (progress: RebuildProgress) => void): Promise<void> {
    const { leases, readStore } = this.options;
    const owner = rebuilderName(this.options.owner);
    // A stopped runner can rebuild: `stop` aborted its signal for good, which would end the
    // rebuild before it took the lease (leaving its handover request to block the runner).
    if (!this.loop) this.stopping = new AbortController();
    const { signal } = this.stopping;
    await leases.requestHandover(this.handler.name, owner, this.leaseTtlMs * 3);
    try {
      await this.holdLease(signal, owner);
      await readStore.ensureCollections(this.handler.collections);
      await readStore.reset(
        this.handler.name,
        this.handler.collections.map((c) => c.name),
      );
      await this.followFromCheckpoint(signal, { untilCaughtUp: true, onProgress });
    } finally {
      this.stopRenewing();
      if (this.leaseHeld) await leases.release(this.handler.name, owner);
      this.leaseHeld = false;
    }
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    let failures = 0;
    try {
      while (!signal.aborted) {
        try {
          await this.holdLease(signal);
          if (signal.aborted) break;
          await this.followFromCheckpoint(signal);
          failures = 0;
        } catch (error) {
          if (signal.aborted) break;
          if (error instanceof LeaseLost) {
            this.options.log.info('projection handed over', { projection: this.handler.name });
            continue;
          }
          failures += 1;
          this.setError('retrying', error);
          this.options.log.warn('projection interrupted, resuming from its checkpoint', {
            projection: this.handler.name,
            error: message(error),
            failures,
          });
          await sleep(backoffDelay(failures - 1, RESUBSCRIBE_BACKOFF), signal);
        }
      }
    } finally {
      this.stopRenewing();
      if (this.leaseHeld)
        await this.options.leases.release(this.handler.name, this.options.owner).catch(() => undefined);
      this.leaseHeld = false;
      this.state = 'stopped';
    }
  }

  /** Waits until this process holds the projection's lease, then keeps renewing it. */
  private async holdLease(signal: AbortSignal, owner = this.options.owner): Promise<void> {
    if (this.leaseHeld) return;
    this.state = 'waiting-for-lease';
    while (!signal.aborted && !(await this.options.leases.acquire(this.handler.name, owner, this.leaseTtlMs))) {
      const lease = (await this.options.leases.list()).find((l) => l.name === this.handler.name);
      if (lease?.holder && isDeadLocalOwner(lease.holder)) {
        this.options.log.info('freeing the lease of a process that is gone', {
          projection: this.handler.name,
          holder: lease.holder,
        });
        await this.options.leases.release(this.handler.name, lease.holder);
        continue;
      }
      await sleep(this.leaseTtlMs / 5, signal);
    }
    if (signal.aborted) return;
    this.leaseHeld = true;
    this.renewTimer = setInterval(() => void this.renew(owner), this.leaseTtlMs / 3);
  }

  private async renew(owner: string): Promise<void> {
    try {
      const held = await this.options.leases.acquire(this.handler.name, owner, this.leaseTtlMs);
      if (!held) {
        this.leaseHeld = false;
        this.stopRenewing();
        await this.inFlight;
        await this.options.leases.release(this.handler.name, owner);
      }
    } catch (error) {
      this.options.log.warn('could not renew projection lease', {
        projection: this.handler.name,
        error: message(error),
      });
    }
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
  }

  private async followFromCheckpoint(
    signal: AbortSignal,
    rebuild?: { untilCaughtUp: boolean; onProgress?: (progress: RebuildProgress) => void },
  ): Promise<void> {
    const { eventStore, readStore } = this.options;
    await readStore.ensureCollections(this.handler.collections);
    const stored = await readStore.getCheckpoint(this.handler.name);
    const parked = await readStore.listParked(this.handler.name);
    this.storedCheckpoint = stored.position;
    this.oldestParked = parked.reduce<Position | null>(
      (oldest, p) => (oldest && comparePositions(oldest, p.position) <= 0 ? oldest : p.position),
      null,
    );
    let handled = 0;
    this.position = stored.position;
    this.state = 'catching-up';
    const subscription = eventStore.subscribeToAll({
      fromPosition: stored.position ?? 'start',
      filter: this.handler.filter,
      maxBatchSize: this.batchSize,
    });
    const onAbort = () => void subscription.close();
    signal.addEventListener('abort', onAbort, { once: true });
    let lastCommitAt = Date.now();
    const interval = rebuild ? 0 : (this.options.liveBatchIntervalMs ?? 5);
    const partitionKey = this.handler.partitionKey?.bind(this.handler);
    try {
      if (!rebuild && partitionKey && this.handler.collections.length === 0)
        return await this.followInPipeline(subscription, partitionKey, signal);
      for await (const batch of subscription) {
        if (signal.aborted) return;
        const batchStartedAt = Date.now();
        const end = batch.position ?? batch.events[batch.events.length - 1]?.position;
        if (!end || !isAfter(end, this.position)) {
          if (batch.caughtUp && !this.isLive()) this.advanceState('live');
          if (batch.caughtUp && rebuild?.untilCaughtUp) return;
          continue;
        }
        const writes = await this.handleBatch(batch, signal);
        if (signal.aborted) return;
        const due =
          writes.length > 0 ||
          Date.now() - lastCommitAt >= (this.options.idleCheckpointMs ?? 1000) ||
          batch.caughtUp !== this.isLive();
        if (due || rebuild) {
          if (!this.leaseHeld) throw new LeaseLost();
          this.inFlight = this.commit(writes, end, signal);
          await this.inFlight.finally(() => (this.inFlight = null));
          lastCommitAt = Date.now();
        }
        this.advance(end, batch.caughtUp);
        handled += batch.events.length;
        rebuild?.onProgress?.({ events: handled, position: end, caughtUp: batch.caughtUp });
        if (batch.caughtUp && rebuild?.untilCaughtUp) return;
        // Live: let the next batch gather events for a moment instead of taking them one by one.
        if (batch.caughtUp && interval > 0) await sleep(batchStartedAt + interval - Date.now(), signal);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await subscription.close();
    }
  }

  /**
   * A handler that writes no read models and names its partitions (a process manager):
   * its events are handled as they are read, across batches (partition-pipeline.ts), and
   * the handled position is stored as its checkpoint at most every `idleCheckpointMs`.
   */
  private async followInPipeline(
    subscription: AllSubscription,
    partitionKey: (event: RecordedEvent) => string,
    signal: AbortSignal,
  ): Promise<void> {
    const { readStore } = this.options;
    const view: ProjectionView = {
      get: async (collection, id) => (await readStore.getStored(collection, id))?.doc ?? null,
    };
    const checkpoints = new CheckpointThrottle(this.options.idleCheckpointMs ?? 1000, this.position, (position) => {
      if (!this.leaseHeld) return Promise.reject(new LeaseLost());
      this.inFlight = this.commit([], position, signal).finally(() => (this.inFlight = null));
      return this.inFlight;
    });
    const pipeline = new PartitionPipeline({
      capacity: PIPELINE_CAPACITY,
      handle: async (event) => {
        const ops = await this.handleEvent(event, view, signal);
        if (ops.length > 0) await this.park(event, new Error(`${this.handler.name} owns no collection to write to`), 1);
      },
      onHandled: (position, caughtUp) => {
        this.advance(position, caughtUp);
        checkpoints.moved(position);
      },
    });
    let read = this.position;
    try {
      for await (const batch of subscription) {
        if (signal.aborted) return;
        if (!this.leaseHeld) throw new LeaseLost();
        checkpoints.throwFailure();
        const end = batch.position ?? batch.events[batch.events.length - 1]?.position;
        if (end && isAfter(end, read)) {
          for (const event of batch.events) pipeline.add(event, partitionKey(event));
          pipeline.mark(end, batch.caughtUp);
          read = end;
        } else if (batch.caughtUp && !this.isLive()) {
          if (read) pipeline.mark(read, true);
          else this.advanceState('live');
        }
        await pipeline.room();
      }
    } finally {
      await pipeline.drained().catch(() => undefined);
      await checkpoints.close();
    }
  }

  private async handleBatch(batch: SubscriptionBatch, signal: AbortSignal): Promise<EventWrites[]> {
    const view = new BatchView(this.options.readStore);
    const writes: EventWrites[] = [];
    const keep = (event: RecordedEvent, ops: WriteOp[]) => {
      if (ops.length === 0) return;
      view.record(event.position, ops);
      writes.push({ event, position: event.position, ops });
    };
    const partitionKey = this.handler.partitionKey?.bind(this.handler);
    if (!partitionKey) {
      for (const event of batch.events) {
        if (signal.aborted) break;
        keep(event, await this.handleEvent(event, view, signal));
      }
      return writes;
    }
    // Independent partitions run side by side; within one, events keep their order.
    const partitions = new Map<string, RecordedEvent[]>();
    for (const event of batch.events) {
      const key = partitionKey(event);
      const partition = partitions.get(key);
      if (partition) partition.push(event);
      else partitions.set(key, [event]);
    }
    const results = new Map<RecordedEvent, WriteOp[]>();
    await Promise.all(
      [...partitions.values()].map(async (events) => {
        for (const event of events) {
          if (signal.aborted) return;
          results.set(event, await this.handleEvent(event, view, signal));
        }
      }),
    );
    for (const event of batch.events) keep(event, results.get(event) ?? []);
    return writes;
  }

  private async handleEvent(event: RecordedEvent, view: ProjectionView, signal: AbortSignal) {
    // An event no version of its type matches (versioned-event-store.ts) never reaches a handler; trying again cannot help.
    if (event.unreadable !== undefined) {
      await this.park(event, new UnreadableEvent(event.streamId, event.revision, event.id, event.unreadable), 1);
      return [];
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.handler.handle(event, view, { redeliveryFloor: this.redeliveryFloor() });
      } catch (error) {
        if (signal.aborted) return [];
        if (error instanceof UnreadableEvent || (!isTransient(error) && attempt >= this.maxAttempts)) {
          await this.park(event, error, attempt);
          return [];
        }
        this.setError('retrying', error);
        await sleep(backoffDelay(attempt - 1, HANDLER_BACKOFF), signal);
      }
    }
  }

  private async park(event: RecordedEvent, error: unknown, attempts: number): Promise<void> {
    const parked = {
      projection: this.handler.name,
      eventId: event.id,
      eventType: event.type,
      streamId: event.streamId,
      position: event.position,
      error: message(error),
      attempts,
      parkedAt: new Date(),
    };
    if (!this.oldestParked || comparePositions(event.position, this.oldestParked) < 0)
      this.oldestParked = event.position;
    const why =
      error instanceof UnreadableEvent
        ? 'event parked: it, or an event its handling needs, cannot be read'
        : 'event parked: the projection skips it after repeated failures';
    this.options.log.error(why, {
      ...parked,
      position: formatPosition(event.position),
    });
    await this.withRetries(() => this.options.readStore.park(parked), this.stopping.signal);
  }

  /**
   * Commits the batch. If the store refuses it for good (a handler produced a write the
   * store rejects), the events are committed one by one so that only the culprit is parked.
   */
  private async commit(writes: EventWrites[], checkpoint: Position, signal: AbortSignal): Promise<void> {
    try {
      await this.commitWrites(writes, checkpoint, signal);
    } catch (error) {
      if (signal.aborted || isTransient(error) || writes.length === 0) throw error;
      for (const one of writes) {
        try {
          await this.commitWrites([one], one.position, signal);
        } catch (refused) {
          if (signal.aborted || isTransient(refused)) throw refused;
          await this.park(one.event, refused, this.maxAttempts);
        }
      }
      await this.commitWrites([], checkpoint, signal);
    }
  }

  private async commitWrites(writes: PositionedWrites[], checkpoint: Position, signal: AbortSignal): Promise<void> {
    const positioned = writes.map(({ position, ops }) => ({ position, ops }));
    await this.withRetries(() => this.options.readStore.commit(this.handler.name, positioned, checkpoint), signal);
    if (isAfter(checkpoint, this.storedCheckpoint)) this.storedCheckpoint = checkpoint;
  }

  /** Store writes are idempotent (by position), so retrying them after any failure is safe. */
  private async withRetries(action: () => Promise<void>, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await action();
        return;
      } catch (error) {
        if (signal.aborted || (!isTransient(error) && attempt >= this.maxAttempts)) throw error;
        this.setError('retrying', error);
        await sleep(backoffDelay(attempt - 1, STORE_BACKOFF), signal);
      }
    }
  }

  private advance(position: Position, caughtUp: boolean): void {
    this.position = position;
    this.state = caughtUp ? 'live' : 'catching-up';
    this.lastError = null;
    this.options.onAdvance?.(this.status());
    this.waiters.reached(position);
  }

  private isLive(): boolean {
    return this.state === 'live';
  }

  private advanceState(state: RunnerState): void {
    this.state = state;
    // A runner in another thread is followed through these reports only: without this
    // one, a projection that nothing has concerned yet never looks live there.
    this.options.onAdvance?.(this.status());
  }

  private setError(state: RunnerState, error: unknown): void {
    this.state = state;
    this.lastError = message(error);
  }
}

/**
 * Stores a moving position at most every `everyMs`, the latest one included: one store at
 * a time, and the position reached meanwhile stored when the interval is over.
 */
class CheckpointThrottle {
  private stored: Position | null;
  private latest: Position | null;
  private storedAt = Date.now();
  private storing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failure: { error: unknown } | null = null;
  private closed = false;

  constructor(
    private readonly everyMs: number,
    from: Position | null,
    private readonly store: (position: Position) => Promise<void>,
  ) {
    this.stored = from;
    this.latest = from;
  }

  moved(position: Position): void {
    this.latest = position;
    this.schedule();
  }

  /** A store that failed for good fails the runner (which starts again from the stored checkpoint). */
  throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Stores what is not stored yet, once (when the lease is still held), and stops. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.storing;
    if (this.latest && isAfter(this.latest, this.stored)) await this.store(this.latest).catch(() => undefined);
  }

  private schedule(): void {
    if (this.closed || this.timer || this.storing || !this.latest || !isAfter(this.latest, this.stored)) return;
    const wait = this.storedAt + this.everyMs - Date.now();
    if (wait > 0) this.timer = setTimeout(() => this.storeLatest(), wait);
    else this.storeLatest();
  }

  private storeLatest(): void {
    this.timer = null;
    const position = this.latest!;
    this.storing = this.store(position).then(
      () => {
        this.stored = position;
        this.storedAt = Date.now();
      },
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
    void this.storing.finally(() => {
      this.storing = null;
      if (!this.failure) this.schedule();
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
