import type { RunnerLog } from './runner-status.js';
import { faultName, isTransient } from './transient.js';

/** While a fault lasts, it is logged again this often (a full disk can last hours). */
const REPEAT_MS = 60_000;

/**
 * What an operator reads of a runner waiting out failures: one warning when a storage or
 * connection fault starts (`waiting out a storage fault`, naming the runner, the fault and
 * the error), again every minute while it lasts with the tries so far, and one line when the
 * runner moves on again (`storage fault over`, with how long it lasted). A handler's own
 * failures (retried a few times, then parked) are logged by the parking instead.
 */
export class FaultWatch {
  private since: number | null = null;
  private loggedAt = 0;
  private retries = 0;

  constructor(
    private readonly name: string,
    private readonly log: RunnerLog | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The runner failed and will try again. */
  failed(error: unknown): void {
    if (!isTransient(error)) return;
    const now = this.now();
    this.retries += 1;
    if (this.since === null) this.since = now;
    else if (now - this.loggedAt < REPEAT_MS) return;
    this.loggedAt = now;
    this.log?.warn('waiting out a storage fault; retrying with backoff', {
      projection: this.name,
      fault: faultName(error),
      error: error instanceof Error ? error.message : String(error),
      retries: this.retries,
      sinceMs: now - this.since,
    });
  }

  /** The runner moved on: a fault being waited out is over. */
  movedOn(): void {
    if (this.since === null) return;
    this.log?.info('storage fault over', {
      projection: this.name,
      retries: this.retries,
      durationMs: this.now() - this.since,
    });
    this.since = null;
    this.retries = 0;
  }
}
