/**
 * The server's committed-events cache (IndexCommitter: `_committedEvents`, a BoundedCache of
 * event id → stream and event number, bounded by ESConsts.CommitedEventsMemCacheLimit bytes).
 * Appends with `any`/`stream_exists` recognise a re-sent event only through it, so an id that
 * has been pushed out is written again: the window is bounded and best effort.
 */

/** ESConsts.CommitedEventsMemCacheLimit. */
export const COMMITTED_EVENTS_CACHE_BYTES = 8 * 1024 * 1024;

export interface CommittedEvent {
  streamId: string;
  revision: number;
}

/** The cache's size function: 16 (Guid) + 4 + a pointer + the stream name as UTF-16. */
function entrySize(entry: CommittedEvent): number {
  return 16 + 4 + 8 + 2 * entry.streamId.length;
}

export class CommittedIds {
  /** Insertion order is eviction order (a Map iterates in insertion order). */
  private readonly entries = new Map<string, CommittedEvent>();
  private bytes = 0;

  constructor(private readonly limitBytes: number = COMMITTED_EVENTS_CACHE_BYTES) {}

  get(id: string): CommittedEvent | undefined {
    return this.entries.get(id);
  }

  put(id: string, entry: CommittedEvent): void {
    const previous = this.entries.get(id);
    if (previous !== undefined) {
      this.entries.delete(id);
      this.bytes -= entrySize(previous);
    }
    this.entries.set(id, entry);
    this.bytes += entrySize(entry);
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.limitBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entrySize(value);
    }
  }
}
