/**
 * Recently used streams' folded state, so a command reads only the events appended since
 * (usually none) instead of the whole stream. Correctness never depends on it: the read
 * that follows a cache hit catches up with appends made elsewhere, and the expected
 * revision of the append catches the rest.
 *
 * Bounded in bytes, not entries: one busy market's state can weigh as much as thousands of
 * accounts. Each state's weight is its decider's estimate (`Decider.weigh`); the least
 * recently used states are let go once the total passes the budget.
 */
import type { Position } from '../event-store/position.js';

export interface CachedStream<State = unknown> {
  state: State;
  revision: number;
  /** Where the event at `revision` is in `$all`: what a command that changes nothing answers for read-your-writes. */
  position: Position | null;
  /** Revision of the stream's latest snapshot known here; -1 when none is. */
  snapshotRevision: number;
}

interface Entry {
  stream: CachedStream;
  bytes: number;
}

/** What a state is counted as when its decider gives no estimate. */
const DEFAULT_WEIGHT = 2_048;

export class StreamStateCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(readonly maxBytes = 64 * 1024 * 1024) {}

  get<State>(streamId: string): CachedStream<State> | undefined {
    const entry = this.entries.get(streamId);
    if (!entry) return undefined;
    // Map keeps insertion order: re-inserting marks the entry as most recently used.
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    // The cache holds whatever state the stream's decider folded; the caller names that type.
    return entry.stream as CachedStream<State>;
  }

  /** Keeps `stream` (unless a newer revision is held), counting it as `bytes`; the least recently used go past the budget. */
  put(streamId: string, stream: CachedStream, bytes = DEFAULT_WEIGHT): void {
    const current = this.entries.get(streamId);
    if (current && current.stream.revision > stream.revision) return;
    this.delete(streamId);
    this.entries.set(streamId, { stream, bytes });
    this.total += bytes;
    if (this.total <= this.maxBytes) return;
    // The newest entry stays even alone over the budget: the command that needs it is running.
    for (const [oldest] of this.entries) {
      if (this.total <= this.maxBytes || oldest === streamId) break;
      this.delete(oldest);
    }
  }

  delete(streamId: string): void {
    const entry = this.entries.get(streamId);
    if (!entry) return;
    this.entries.delete(streamId);
    this.total -= entry.bytes;
  }

  /** The estimated bytes held. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }
}
