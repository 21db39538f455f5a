/**
 * A runner feeds one projection or process manager from `$all`. Its parts, each in a file
 * of its own:
 * - lease-holder.ts: one runner per handler at a time (waiting for, renewing, handing over its lease);
 * - following.ts, follow-pipeline.ts: reading from the checkpoint, catching up, then live;
 * - event-handling.ts: handing events to the handler, batch by batch or one by one;
 * - committer.ts, checkpoint-throttle.ts: writes committed with their checkpoint;
 * - retries.ts, parking.ts: failures waited out, events that keep failing set aside;
 * - runner-status.ts: what it shows (state, position, last error) and who waits for it.
 * This file puts them together and keeps the runner going.
 */
import type { EventHandler } from './event-handler.js';
import type { EventStore } from '../event-store/event-store.js';
import { comparePositions, type Position } from '../event-store/position.js';
import type { ReadStore } from '../read-store/read-store.js';
import { backoffDelay, sleep, type BackoffPolicy } from '../backoff.js';
import { Committer } from './committer.js';
import { EventHandling } from './event-handling.js';
import { followFromCheckpoint, type Follower, type RebuildProgress } from './following.js';
import { LeaseHolder, LeaseLost } from './lease-holder.js';
import { rebuilderName } from './lease-owners.js';
import type { LeaseStore } from './leases.js';
import { Parking } from './parking.js';
import { Retries } from './retries.js';
import { errorMessage, RunnerProgress, type RunnerLog, type RunnerStatus } from './runner-status.js';

export type { RebuildProgress } from './following.js';
export { isRebuilder, rebuilderName } from './lease-owners.js';
export type { RunnerLog, RunnerState, RunnerStatus } from './runner-status.js';

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

const RESUBSCRIBE_BACKOFF: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 10_000 };

/**
 * Feeds one projection or process manager from `$all`: from its checkpoint, in batches,
 * each batch's writes committed together with the new checkpoint. Transient failures are
 * waited out with backoff; an event that keeps failing is parked after `maxAttempts` tries
 * (recorded, logged, visible in status) so one bad event never blocks the rest.
 */
export class ProjectionRunner {
  private stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly progress: RunnerProgress;
  private readonly lease: LeaseHolder;
  private readonly follower: Follower;
  private readonly leaseTtlMs: number;

  constructor(
    readonly handler: EventHandler,
    private readonly options: RunnerOptions,
  ) {
    const { eventStore, readStore, leases, log } = options;
    this.leaseTtlMs = options.leaseTtlMs ?? 15_000;
    const progress = new RunnerProgress(handler.name, options.onAdvance, log);
    const retries = new Retries(
      options.maxAttempts ?? 5,
      (error) => progress.retrying(error),
      () => progress.recovered(),
    );
    const stopSignal = () => this.stopping.signal;
    const instanceOf = handler.kind === 'process-manager' ? handler.partitionKey?.bind(handler) : undefined;
    const parking = new Parking({ handlerName: handler.name, readStore, log, retries, stopSignal, instanceOf });
    const leaseHeld = () => this.lease.held;
    const committer = new Committer({ handlerName: handler.name, readStore, retries, parking, leaseHeld });
    const settled = () => committer.settled();
    this.lease = new LeaseHolder({ leases, name: handler.name, ttlMs: this.leaseTtlMs, log, settled });
    const redeliveryFloor = () => this.redeliveryFloor();
    const handling = new EventHandling({ handler, readStore, retries, parking, redeliveryFloor });
    this.progress = progress;
    this.follower = {
      handler,
      eventStore,
      readStore,
      progress,
      lease: this.lease,
      handling,
      committer,
      parking,
      batchSize: options.batchSize ?? 500,
      idleCheckpointMs: options.idleCheckpointMs ?? 1000,
      liveBatchIntervalMs: options.liveBatchIntervalMs ?? 5,
    };
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
    return this.progress.status();
  }

  /**
   * The earliest place in the log (commit position) from which this handler may be given an
   * event again: its stored checkpoint, held back by any event it parked (which may be
   * retried). What a process manager did for events before it can never be asked again.
   */
  redeliveryFloor(): number {
    const parked = this.follower.parking.oldestParked;
    const stored = this.follower.committer.storedCheckpoint;
    const floor = parked && (!stored || comparePositions(parked, stored) < 0) ? parked : stored;
    return floor ? Number(floor.commit) : -1;
  }

  hasReached(position: Position): boolean {
    return this.progress.hasReached(position);
  }

  /** Resolves once every event up to `position` has been handled and committed (read-your-writes). */
  waitFor(position: Position, signal?: AbortSignal): Promise<void> {
    return this.progress.waitFor(position, signal);
  }

  /** Resolves at the next move or change of state (read-your-writes re-checks then). */
  nextReport(signal?: AbortSignal): Promise<void> {
    return this.progress.nextReport(signal);
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
      await followFromCheckpoint(this.follower, signal, { untilCaughtUp: true, onProgress });
    } finally {
      await this.lease.release(owner);
    }
  }

  /** Holds the lease and follows, starting again from the checkpoint after each interruption, until stopped. */
  private async run(): Promise<void> {
    const { signal } = this.stopping;
    let failures = 0;
    try {
      while (!signal.aborted) {
        try {
          await this.holdLease(signal);
          if (signal.aborted) break;
          await followFromCheckpoint(this.follower, signal);
          failures = 0;
        } catch (error) {
          if (signal.aborted) break;
          if (error instanceof LeaseLost) {
            this.options.log.info('projection handed over', { projection: this.handler.name });
            continue;
          }
          failures += 1;
          this.progress.retrying(error);
          this.options.log.warn('projection interrupted, resuming from its checkpoint', {
            projection: this.handler.name,
            error: errorMessage(error),
            failures,
          });
          await sleep(backoffDelay(failures - 1, RESUBSCRIBE_BACKOFF), signal);
        }
      }
    } finally {
      await this.lease.release(this.options.owner).catch(() => undefined);
      this.progress.stopped();
    }
  }

  /** Waits until this process holds the projection's lease, then keeps renewing it. */
  private async holdLease(signal: AbortSignal, owner = this.options.owner): Promise<void> {
    if (this.lease.held) return;
    this.progress.waitingForLease();
    await this.lease.hold(owner, signal);
  }
}
