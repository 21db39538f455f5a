/**
 * Recently used streams' folded state, so a command reads only the events appended since
 * (usually none) instead of the whole stream. Correctness never depends on it: the read
 * that follows a cache hit catches up with appends made elsewhere, and the expected
 * revision of the append catches the rest.
 */
import type { Position } from '../infra/event-store/position.js';

export interface CachedStream<State = unknown> {
  state: State;
  revision: number;
  /** Where the event at `revision` is in `$all`: what a command that changes nothing answers for read-your-writes. */
  position: Position | null;
}

export class StreamStateCache {
  private readonly entries = new Map<string, CachedStream>();

  constructor(private readonly maxEntries = 50_000) {}

  get<State>(streamId: string): CachedStream<State> | undefined {
    const entry = this.entries.get(streamId);
    if (!entry) return undefined;
    // Map keeps insertion order: re-inserting marks the entry as most recently used.
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    // The cache holds whatever state the stream's decider folded; the caller names that type.
    return entry as CachedStream<State>;
  }

  put(streamId: string, entry: CachedStream): void {
    const current = this.entries.get(streamId);
    if (current && current.revision > entry.revision) return;
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }
}
