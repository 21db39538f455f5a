import { backoffDelay, sleep, type BackoffPolicy } from '../backoff.js';
import { UnreadableEvent } from '../event-store/event-store.js';
import { isTransient } from './transient.js';

const HANDLER_BACKOFF: BackoffPolicy = { initialDelayMs: 50, maxDelayMs: 5_000 };
const STORE_BACKOFF: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 10_000 };

/**
 * How a runner tries again, with backoff: a transient failure (transient.ts) as long as
 * it lasts, any other up to `maxAttempts` tries. Each failure waited out is shown in the
 * runner's status (`onRetry`).
 */
export class Retries {
  constructor(
    readonly maxAttempts: number,
    private readonly onRetry: (error: unknown) => void,
    /** Told when an action that had to be retried succeeded: the failure is over. */
    private readonly onRecovered: () => void = () => undefined,
  ) {}

  /** Store writes are idempotent (by position), so retrying them after any failure is safe. */
  async store(action: () => Promise<void>, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await action();
        if (attempt > 1) this.onRecovered();
        return;
      } catch (error) {
        if (signal.aborted || (!isTransient(error) && attempt >= this.maxAttempts)) throw error;
        this.onRetry(error);
        await sleep(backoffDelay(attempt - 1, STORE_BACKOFF), signal);
      }
    }
  }

  /** Whether a handler's failure at its `attempt`th try is for good: its event is then parked. */
  givesUp(error: unknown, attempt: number): boolean {
    return error instanceof UnreadableEvent || (!isTransient(error) && attempt >= this.maxAttempts);
  }

  /** A handler succeeded at its `attempt`th try. */
  handled(attempt: number): void {
    if (attempt > 1) this.onRecovered();
  }

  /** Waits before a handler's next try, after it failed its `attempt`th. */
  async beforeHandlerRetry(error: unknown, attempt: number, signal: AbortSignal): Promise<void> {
    this.onRetry(error);
    await sleep(backoffDelay(attempt - 1, HANDLER_BACKOFF), signal);
  }
}
