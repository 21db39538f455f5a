/**
 * One client's live stream, written as Server-Sent Events to its response. Entries come
 * from two places — the read store, for what happened since where the client resumes
 * (replay), and the feed this process follows, for what happens next (live) — and each is
 * sent once: live entries that arrive during the replay wait, and whatever the replay
 * already sent is skipped.
 *
 * Never holding memory for a slow client: what the socket has not taken is counted
 * (`writableLength`); past `bufferBytes` the stream is closed. The client comes back with
 * its `Last-Event-ID` and loses nothing: the replay reads from the store.
 */
import type { ServerResponse } from 'node:http';
import type { FeedEntry } from '../../../read-api/live-feed.js';
import { formatPosition, parseSortablePosition } from '../../eventsourcing/event-store/position.js';
import { toMoney } from '../validation.js';

/** Where a client is in the feed: after the entry ranked `rank` of the event at `seq` (rank null: after all of it). */
export interface FeedPoint {
  seq: string;
  rank: number | null;
}

/** An entry with its rank among the user's entries of the same event. */
export interface RankedEntry {
  entry: FeedEntry;
  rank: number;
}

/** Most live entries that may wait while a replay runs; a client that needs more is closed. */
const MAX_WAITING = 1_000;

export class EventStream {
  private waiting: RankedEntry[] | null = [];
  private last: FeedPoint | null;
  private closed = false;
  private sentSinceBeat = false;

  constructor(
    readonly userId: string,
    private readonly res: ServerResponse,
    resumeAfter: FeedPoint | null,
    private readonly bufferBytes: number,
    private readonly onClose: (stream: EventStream) => void,
  ) {
    this.last = resumeAfter;
    res.once('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends replayed entries (in order); false once the stream is closed. */
  replay(entries: RankedEntry[]): boolean {
    for (const ranked of entries) this.send(ranked);
    return !this.closed;
  }

  /** The replay is over: what waited is sent, and live entries go out as they come. */
  goLive(): void {
    const waiting = this.waiting ?? [];
    this.waiting = null;
    for (const ranked of waiting) this.send(ranked);
  }

  /** A live entry for this user. */
  deliver(ranked: RankedEntry): void {
    if (this.closed) return;
    if (this.waiting === null) {
      this.send(ranked);
      return;
    }
    this.waiting.push(ranked);
    if (this.waiting.length > MAX_WAITING) this.drop();
  }

  /** A comment line when nothing else was sent since the last beat. */
  heartbeat(): void {
    if (!this.sentSinceBeat) this.write(': heartbeat\n\n');
    this.sentSinceBeat = false;
  }

  /** How much the socket has yet to take (what a replay waits on before reading more). */
  get backlog(): number {
    return this.res.writableLength;
  }

  write(text: string): void {
    if (this.closed) return;
    this.res.write(text);
    this.sentSinceBeat = true;
    if (this.res.writableLength > this.bufferBytes) this.drop();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting = null;
    if (!this.res.writableEnded) this.res.end();
    this.onClose(this);
  }

  /** Too slow: the connection goes, nothing is kept for it. */
  private drop(): void {
    if (this.closed) return;
    this.res.destroy();
    this.close();
  }

  private send({ entry, rank }: RankedEntry): void {
    if (this.closed || !isAfterPoint(entry.seq, rank, this.last)) return;
    this.last = { seq: entry.seq, rank };
    this.write(sseMessage(entry, rank));
  }
}

/** Whether the entry (`seq`, `rank`) comes after the point. */
export function isAfterPoint(seq: string, rank: number, point: FeedPoint | null): boolean {
  if (point === null || seq > point.seq) return true;
  if (seq < point.seq) return false;
  return point.rank !== null && rank > point.rank;
}

/** The event's `id`: its position in the log, and its rank among the user's entries of that event. */
export function entryId(seq: string, rank: number): string {
  return `${formatPosition(parseSortablePosition(seq))}/${rank}`;
}

function sseMessage(entry: FeedEntry, rank: number): string {
  const data =
    entry.kind === 'notification'
      ? entry.data
      : { ...entry.data, price: entry.data.price === null ? null : toMoney(entry.data.price) };
  return `id: ${entryId(entry.seq, rank)}\nevent: ${entry.kind}\ndata: ${JSON.stringify(data)}\n\n`;
}
