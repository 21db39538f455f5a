/**
 * What feeds the live streams of one API process: it follows the read store, not this
 * process's memory, so a stream shows every letter and order change whichever process (or
 * projector) wrote it. While at least one stream is open it looks, every `pollMs`, whether
 * the notifications projection's checkpoint moved, reads what the projection committed
 * since (one query per collection for all streams, whole events only, never past the
 * checkpoint: everything at or before it is committed), and hands each entry to the
 * streams of its user. A stream opened with a resume point replays from the store up to
 * where the feed stood when it joined, then takes the live entries after that.
 */
import type { ServerResponse } from 'node:http';
import type { ReadStore } from '../../eventsourcing/read-store/read-store.js';
import { sortablePosition } from '../../eventsourcing/event-store/position.js';
import { readFeed, type FeedEntry } from '../../../read-api/live-feed.js';
import { EventStream, type FeedPoint, type RankedEntry } from './event-stream.js';

/** The projection whose documents the streams send (it owns the letters and the order changes). */
const PROJECTION = 'notifications';

export interface LiveFeedOptions {
  pollMs: number;
  heartbeatMs: number;
  bufferBytes: number;
}

export class LiveFeed {
  private readonly streams = new Map<string, Set<EventStream>>();
  private open = 0;
  /** Every entry up to here (sortable position) was handed out; null before the feed started. */
  private watermark: string | null = null;
  private starting: Promise<void> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Counts the feed's starts: a poll of an earlier spell (still reading when the last stream went) hands nothing out. */
  private spell = 0;

  constructor(
    private readonly readStore: ReadStore,
    private readonly options: LiveFeedOptions,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Opens a stream for the user on the response, replays from `after` (null: only what comes next), then goes live. */
  async attach(userId: string, res: ServerResponse, after: FeedPoint | null): Promise<void> {
    await this.start();
    const joinedAt = this.watermark;
    const stream = new EventStream(userId, res, after, this.options.bufferBytes, (s) => this.detach(s));
    if (this.stopped) return stream.close();
    const mine = this.streams.get(userId) ?? new Set<EventStream>();
    this.streams.set(userId, mine);
    mine.add(stream);
    this.open++;
    stream.write('retry: 2000\n: stream open\n\n');
    if (after !== null && joinedAt !== null) await this.replay(stream, after, joinedAt);
    stream.goLive();
  }

  /** How many streams are open in this process. */
  get size(): number {
    return this.open;
  }

  /** Ends every stream (shutdown). */
  close(): void {
    this.stopped = true;
    for (const set of [...this.streams.values()]) for (const stream of [...set]) stream.close();
    this.stopTimers();
  }

  private detach(stream: EventStream): void {
    const mine = this.streams.get(stream.userId);
    if (!mine?.delete(stream)) return;
    this.open--;
    if (mine.size === 0) this.streams.delete(stream.userId);
    if (this.open === 0) this.stopTimers();
  }

  /** The feed starts where the projection stands (what came before is for replays), once per idle spell. */
  private start(): Promise<void> {
    if (this.pollTimer || this.stopped) return Promise.resolve();
    this.starting ??= (async () => {
      try {
        this.watermark = await this.checkpoint();
        this.spell++;
        this.schedule();
        this.beatTimer = setInterval(() => this.beat(), this.options.heartbeatMs);
        this.beatTimer.unref();
      } finally {
        this.starting = null;
      }
    })();
    return this.starting;
  }

  private schedule(): void {
    const spell = this.spell;
    this.pollTimer = setTimeout(() => void this.poll(spell), this.options.pollMs);
    this.pollTimer.unref();
  }

  private stopTimers(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.pollTimer = null;
    this.beatTimer = null;
  }

  private async poll(spell: number): Promise<void> {
    try {
      await this.catchUp(spell);
    } catch (error) {
      // The store may be away for a moment: the next poll reads the same stretch again.
      this.onError(error);
    }
    if (spell === this.spell && this.pollTimer && !this.stopped && this.open > 0) this.schedule();
  }

  /** Hands out what the projection committed since the watermark, page by page. */
  private async catchUp(spell: number): Promise<void> {
    for (;;) {
      const upTo = await this.checkpoint();
      if (upTo === null || (this.watermark !== null && upTo <= this.watermark)) return;
      const read = await readFeed(this.readStore, { after: this.watermark, upTo });
      if (spell !== this.spell || this.open === 0) return;
      this.dispatch(read.entries);
      this.watermark = read.reached;
      if (read.reached === upTo) return;
    }
  }

  private dispatch(entries: FeedEntry[]): void {
    for (const one of ranked(entries)) {
      const mine = this.streams.get(one.entry.userId);
      if (mine) for (const stream of mine) stream.deliver(one);
    }
  }

  /** What the stream missed, from the store: after its resume point, up to where the feed stood when it joined. */
  private async replay(stream: EventStream, after: FeedPoint, upTo: string): Promise<void> {
    let from = after;
    for (;;) {
      const read = await readFeed(this.readStore, {
        after: from.seq,
        inclusive: from.rank !== null,
        upTo,
        userId: stream.userId,
      });
      if (!stream.replay(ranked(read.entries))) return;
      if (read.reached === upTo) return;
      from = { seq: read.reached, rank: null };
      await drained(stream, this.options.bufferBytes / 2);
      if (stream.isClosed) return;
    }
  }

  private beat(): void {
    for (const set of this.streams.values()) for (const stream of set) stream.heartbeat();
  }

  private async checkpoint(): Promise<string | null> {
    const { position } = await this.readStore.getCheckpoint(PROJECTION);
    return position ? sortablePosition(position) : null;
  }
}

/** Each entry with its rank among its user's entries of the same event (in the order read). */
function ranked(entries: FeedEntry[]): RankedEntry[] {
  const seen = new Map<string, number>();
  return entries.map((entry) => {
    const key = `${entry.userId} ${entry.seq}`;
    const rank = seen.get(key) ?? 0;
    seen.set(key, rank + 1);
    return { entry, rank };
  });
}

/** Until the socket has taken enough of what the replay wrote (or the stream closed). */
async function drained(stream: EventStream, below: number): Promise<void> {
  while (!stream.isClosed && stream.backlog > below) await new Promise((resolve) => setTimeout(resolve, 10));
}
