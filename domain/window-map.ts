import { GrowOnlyMap } from './grow-only-map.js';

/**
 * A persistent map that forgets. Each entry is added with a mark — a time, or a place in
 * the log — and `forgetBefore(floor)` lets go of entries once the floor has passed them.
 * This is what keeps an aggregate's memory of "ids already applied" bounded by what can
 * still arrive (a retried request within its retention, a redelivered event after the
 * process manager's checkpoint) instead of growing with the stream's whole history.
 *
 * Entries live in two generations, each a `GrowOnlyMap` (one `Map.set` per add). The older
 * generation is dropped whole once the floor has passed the highest mark in it, and the
 * newer one takes its place. So an entry is never forgotten before the floor passes its
 * mark, and at most about two floor-intervals' worth of entries are held.
 *
 * Everything here follows from the calls made on it, so folding the same events always
 * gives the same map: what a snapshot stores (`toJSON`) and restores (`fromJSON`).
 */
interface Generation<K, V> {
  readonly entries: GrowOnlyMap<K, V>;
  /** The highest mark added to this generation; -Infinity when it is empty. */
  readonly highest: number;
}

export type WindowMapJson<K, V> = {
  older: Array<[K, V]>;
  olderHighest: number | null;
  newer: Array<[K, V]>;
  newerHighest: number | null;
};

const EMPTY_HIGHEST = Number.NEGATIVE_INFINITY;

export class WindowMap<K, V> {
  private constructor(
    private readonly older: Generation<K, V>,
    private readonly newer: Generation<K, V>,
  ) {}

  static empty<K, V>(): WindowMap<K, V> {
    const none: Generation<K, V> = { entries: GrowOnlyMap.empty(), highest: EMPTY_HIGHEST };
    return new WindowMap(none, none);
  }

  get(key: K): V | undefined {
    return this.newer.entries.get(key) ?? this.older.entries.get(key);
  }

  has(key: K): boolean {
    return this.newer.entries.has(key) || this.older.entries.has(key);
  }

  get size(): number {
    return this.older.entries.size + this.newer.entries.size;
  }

  /** This map with `key` added under `mark`; this very map when the key is held already (the first value stays). */
  add(key: K, value: V, mark: number): WindowMap<K, V> {
    if (this.has(key)) return this;
    const newer = { entries: this.newer.entries.add(key, value), highest: Math.max(this.newer.highest, mark) };
    return new WindowMap(this.older, newer);
  }

  /** Lets go of the older generation once every mark in it is below `floor`. */
  forgetBefore(floor: number): WindowMap<K, V> {
    const olderEmpty = this.older.entries.size === 0;
    if (!olderEmpty && this.older.highest >= floor) return this;
    if (olderEmpty && this.newer.entries.size === 0) return this;
    // The newer generation becomes the older one; a fresh one collects what comes next.
    return new WindowMap(this.newer, { entries: GrowOnlyMap.empty(), highest: EMPTY_HIGHEST });
  }

  /** Entries as they are held, oldest generation first: what a snapshot stores. */
  toJSON(): WindowMapJson<K, V> {
    const marks = (g: Generation<K, V>) => (g.entries.size === 0 ? null : g.highest);
    return {
      older: [...this.older.entries],
      olderHighest: marks(this.older),
      newer: [...this.newer.entries],
      newerHighest: marks(this.newer),
    };
  }

  static fromJSON<K, V>(json: WindowMapJson<K, V>): WindowMap<K, V> {
    const generation = (entries: Array<[K, V]>, highest: number | null): Generation<K, V> => ({
      entries: entries.reduce((map, [key, value]) => map.add(key, value), GrowOnlyMap.empty<K, V>()),
      highest: highest ?? EMPTY_HIGHEST,
    });
    return new WindowMap(generation(json.older, json.olderHighest), generation(json.newer, json.newerHighest));
  }
}
