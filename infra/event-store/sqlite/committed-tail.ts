import type { AllFilter } from '../event-store.js';
import { narrows, toPage, type AllPage, type Row } from './reader.js';

/**
 * The events this process committed last, in `$all` order, kept in memory so that live
 * subscriptions (a process runs a dozen, each woken by every commit) read them without a
 * query. It only ever answers for a stretch of the log it holds whole: a commit whose
 * first position does not follow the last one held means another process wrote in
 * between, and the tail starts again from that row; a subscription asking for anything
 * before (or beyond) what is held gets `null` and reads SQLite.
 *
 * What it cannot know is whether another process appended after its last row: a reader
 * may rely on it only when woken by a commit of this process (see `SqliteAllSubscription`).
 */
export class CommittedTail {
  /** Contiguous: rows[i][0] === rows[0][0] + i. */
  private rows: Row[] = [];

  constructor(private readonly capacity = 10_000) {}

  /** Adds the rows of one commit, in position order. */
  add(commit: Row[]): void {
    for (const row of commit) {
      const last = this.rows[this.rows.length - 1];
      if (last && row[0] !== last[0] + 1) this.rows = [];
      this.rows.push(row);
    }
    // Trimmed in one go now and then rather than shifted row by row.
    if (this.rows.length > 2 * this.capacity) this.rows = this.rows.slice(-this.capacity);
  }

  /** Like `EventReader.pageForwards`, or null when the tail does not hold the rows right after `after`. */
  pageAfter(after: number, limit: number, filter: AllFilter | undefined): AllPage | null {
    const first = this.rows[0];
    if (!first) return null;
    const start = after + 1 - first[0];
    if (start < 0 || start > this.rows.length) return null;
    const rows = this.rows.slice(start, start + limit);
    // An empty page still says how far the log was looked at: up to `after`.
    if (rows.length === 0) return { events: [], scannedUpTo: after, reachedEnd: true };
    const page = toPage(rows, limit, narrows(filter) ? filter : undefined);
    return { ...page, reachedEnd: start + rows.length === this.rows.length };
  }
}
