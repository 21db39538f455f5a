import { comparePositions, type Position } from '../event-store/position.js';

/** Callers waiting for a runner to reach a position; released as it moves on, or when their signal aborts. */
export class PositionWaiters {
  private waiting: Array<{ position: Position; resolve(): void }> = [];

  wait(position: Position, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { position, resolve };
      this.waiting.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          this.waiting = this.waiting.filter((w) => w !== waiter);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Releases everyone waiting for `position` or earlier. */
  reached(position: Position): void {
    const ready = this.waiting.filter((w) => comparePositions(position, w.position) >= 0);
    if (ready.length === 0) return;
    this.waiting = this.waiting.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
