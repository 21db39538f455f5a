import { comparePositions, type Position } from '../event-store/position.js';

/**
 * Callers waiting for a runner: for it to reach a position (released as it moves on), or
 * for its next report of any kind (a move, or a change of state such as going live), which
 * is what read-your-writes re-checks on instead of polling. Each wait also ends when its
 * signal aborts, and lets go of the signal when it ends.
 */
export class PositionWaiters {
  private waiting: Array<{ position: Position; resolve(): void }> = [];
  private listening = new Set<() => void>();

  wait(position: Position, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        position,
        resolve: () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        },
      };
      const abort = () => {
        this.waiting = this.waiting.filter((w) => w !== waiter);
        resolve();
      };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Resolves at the runner's next report (`reached` or `reported`), or when `signal` aborts. */
  nextReport(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.listening.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.listening.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Releases everyone waiting for `position` or earlier, and everyone waiting for a report. */
  reached(position: Position): void {
    this.reported();
    const ready = this.waiting.filter((w) => comparePositions(position, w.position) >= 0);
    if (ready.length === 0) return;
    this.waiting = this.waiting.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  /** The runner reported something (its state changed, say): everyone waiting for a report is released. */
  reported(): void {
    for (const done of [...this.listening]) done();
  }
}
