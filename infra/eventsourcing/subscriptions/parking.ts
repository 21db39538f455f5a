import { UnreadableEvent, type RecordedEvent } from '../event-store/event-store.js';
import { comparePositions, formatPosition, type Position } from '../event-store/position.js';
import type { ParkedEvent, ReadStore } from '../read-store/read-store.js';
import type { Retries } from './retries.js';
import { errorMessage, type RunnerLog } from './runner-status.js';

export interface ParkingOptions {
  handlerName: string;
  readStore: ReadStore;
  log: RunnerLog;
  retries: Retries;
  /** The runner's signal to stop: storing a parked event is tried again until it stops. */
  stopSignal(): AbortSignal;
  /**
   * A process manager's: the instance (the deal, the order) an event belongs to. Its process
   * stops at a parked event, so the log names it as stuck.
   */
  instanceOf?(event: RecordedEvent): string;
}

/**
 * Events a handler skips for good (unreadable, failing after every try, refused by the
 * store): each is recorded in the read store, logged and visible in status, so one bad
 * event never blocks the rest. The oldest one this handler parked holds back its
 * redelivery floor, since a parked event may be retried.
 */
export class Parking {
  private oldest: Position | null = null;

  constructor(private readonly options: ParkingOptions) {}

  get oldestParked(): Position | null {
    return this.oldest;
  }

  /** Following starts again: what the store holds as parked for this handler. */
  resumeFrom(parked: ReadonlyArray<Pick<ParkedEvent, 'position'>>): void {
    this.oldest = parked.reduce<Position | null>(
      (oldest, p) => (oldest && comparePositions(oldest, p.position) <= 0 ? oldest : p.position),
      null,
    );
  }

  async park(event: RecordedEvent, error: unknown, attempts: number): Promise<void> {
    const parked = {
      projection: this.options.handlerName,
      eventId: event.id,
      eventType: event.type,
      streamId: event.streamId,
      position: event.position,
      error: errorMessage(error),
      attempts,
      parkedAt: new Date(),
    };
    if (!this.oldest || comparePositions(event.position, this.oldest) < 0) this.oldest = event.position;
    const instance = this.options.instanceOf?.(event);
    this.options.log.error(
      instance ? `${whyParked(error)}; ${parked.projection} ${instance} is stuck` : whyParked(error),
      {
        ...parked,
        position: formatPosition(event.position),
        ...(instance ? { stuck: instance, repair: 'npm run cli -- parked retry|skip' } : {}),
      },
    );
    await this.options.retries.store(() => this.options.readStore.park(parked), this.options.stopSignal());
  }
}

function whyParked(error: unknown): string {
  return error instanceof UnreadableEvent
    ? 'event parked: it, or an event its handling needs, cannot be read'
    : 'event parked: the projection skips it after repeated failures';
}
