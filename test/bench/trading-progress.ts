/**
 * How many deals have completed end to end, seen from outside: the public statistics
 * (`GET /statistics/total-daily-stats`, deals per day over the last 7 days, summed) count
 * a deal once its `DealCompleted` event has been projected, i.e. after the payment, the
 * accrual, both commissions and the completion all went through. Sampled every
 * `intervalMs` while the load runs (one cheap public GET each time), so completions can
 * be set against creations over time, and the backlog measured and waited out.
 */
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { call, sleep } from './trading-http.js';

export interface CompletionSample {
  /** performance.now() when the answer arrived. */
  at: number;
  completed: number;
}

export class CompletedDeals {
  readonly samples: CompletionSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;

  constructor(private readonly baseUrl: string) {}

  /** Deals completed so far, all time (the statistics keep 7 days; a bench lasts minutes). */
  async read(): Promise<number> {
    const answer = await call(this.baseUrl, 'GET', '/api/v1/statistics/total-daily-stats');
    if (answer.status !== 200)
      throw new Error(`GET total-daily-stats: ${answer.status} ${JSON.stringify(answer.body)}`);
    const completed = (answer.body as Array<{ count: number }>).reduce((n, day) => n + day.count, 0);
    this.samples.push({ at: performance.now(), completed });
    return completed;
  }

  /** Samples every `intervalMs` until `stop()`. */
  start(intervalMs: number): void {
    const loop = async () => {
      while (this.timer) {
        await this.read().catch(() => undefined);
        await sleep(intervalMs);
      }
    };
    this.timer = setTimeout(() => undefined, 1 << 30);
    this.polling = loop();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** Polls until `target` deals have completed (or `timeoutMs` passed); when that was seen, or null. */
  async waitFor(target: number, timeoutMs: number, intervalMs = 50): Promise<{ at: number | null; completed: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const completed = await this.read();
      if (completed >= target) return { at: performance.now(), completed };
      if (performance.now() > deadline) return { at: null, completed };
      await sleep(intervalMs);
    }
  }

  /** The last sample taken at or before `at` (the count then), or `fallback`. */
  countAt(at: number, fallback: number): number {
    let count = fallback;
    for (const s of this.samples) {
      if (s.at > at) break;
      count = s.completed;
    }
    return count;
  }
}

/**
 * Deals opened, failed and completed as the event store recorded them: counted in the
 * server's events.db (read-only, WAL, another connection; only the rows appended since the
 * last count are looked at). The 202s say which placements matched, but cannot count
 * deals exactly: when the order-placement process manager entered an order into the
 * market before its own request did, that request answers with the order as it is by
 * then, possibly already in a deal another placement opened.
 */
export class DealEvents {
  private readonly db: Database.Database;
  private after = 0;
  readonly counts = { DealOpened: 0, DealFailed: 0, DealCompleted: 0 };

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
  }

  /** Counts of every deal event up to the current head. */
  update(): { opened: number; failed: number; completed: number } {
    const head = this.db.prepare<[], { p: number | null }>('SELECT max(position) AS p FROM events').get()?.p ?? 0;
    const rows = this.db
      .prepare<[number, number], { type: keyof DealEvents['counts']; n: number }>(
        "SELECT type, count(*) AS n FROM events WHERE position > ? AND position <= ? AND type IN ('DealOpened', 'DealFailed', 'DealCompleted') GROUP BY type",
      )
      .all(this.after, head);
    for (const { type, n } of rows) this.counts[type] += n;
    this.after = head;
    return { opened: this.counts.DealOpened, failed: this.counts.DealFailed, completed: this.counts.DealCompleted };
  }

  close(): void {
    this.db.close();
  }
}
