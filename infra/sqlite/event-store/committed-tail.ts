import type { AllFilter } from '../../eventsourcing/event-store/event-store.js';
import { narrows, toPage, type AllPage, type Row } from './reader.js';

/**
 * The latest events of the log, in `$all` order, kept in memory so that live
 * subscriptions (a thread runs up to a dozen, each woken by every commit) read them
 * without a query each. A thread that commits adds its own commits; a thread told of
 * another's commits reads the new rows once and adds them (see `SqliteEventStore`).
 *
 * It only ever answers for a stretch of the log it holds whole: rows that do not follow
 * the last one held mean another writer came in between, and the tail starts again from
 * them; a subscription asking for anything before (or beyond) what is held gets `null`
 * and reads SQLite. What it cannot know is whether someone appended after its last row:
 * a reader may rely on it only when told it holds everything (see `SqliteAllSubscription`).
 */
export class CommittedTail {
  /** Contiguous, ending at `last`: rows[i][0] === last - rows.length + 1 + i. */
  private rows: Row[] = [];
  /** Position of the last row held (or, with no rows, the one it holds rows after); null: none. */
  private last: number | null = null;

  constructor(private readonly capacity = 10_000) {}

  /** Where the tail ends: it holds the rows up to here (those it kept), null when it holds nothing yet. */
  end(): number | null {
    return this.last;
  }

  /** Holds nothing yet, but will answer for what follows `position` (as rows after it are added). */
  startAfter(position: number): void {
    this.rows = [];
    this.last = position;
  }

  /** Adds rows in position order: one commit's, or the ones read after `end()`. */
  add(commit: Row[]): void {
    for (const row of commit) {
      const position = row[0];
      if (this.last !== null && position !== this.last + 1) this.rows = [];
      this.rows.push(row);
      this.last = position;
    }
    // Trimmed in one go now and then rather than shifted row by row.
    if (this.rows.length > 2 * this.capacity) this.rows = this.rows.slice(-this.capacity);
  }

  /** Like `EventReader.pageForwards`, or null when the tail does not hold the rows right after `after`. */
  pageAfter(after: number, limit: number, filter: AllFilter | undefined): AllPage | null {
    if (this.last === null) return null;
    const start = after - (this.last - this.rows.length);
    if (start < 0 || start > this.rows.length) return null;
    const rows = this.rows.slice(start, start + limit);
    // An empty page still says how far the log was looked at: up to `after`.
    if (rows.length === 0) return { events: [], scannedUpTo: after, reachedEnd: true };
    const page = toPage(rows, limit, narrows(filter) ? filter : undefined);
    return { ...page, reachedEnd: start + rows.length === this.rows.length };
  }
}
