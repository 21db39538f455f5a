import { isAfter, type Position } from '../event-store/position.js';

/**
 * Stores a moving position at most every `everyMs`, the latest one included: one store at
 * a time, and the position reached meanwhile stored when the interval is over.
 */
export class CheckpointThrottle {
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
