/**
 * A persistent map that only grows: keys are added, never changed or removed (the ids a
 * stream has seen). Every version shares one JavaScript Map whose entries remember when
 * they were added, and a version sees those added before it. Adding to the newest
 * version, the way a fold uses its state, costs one Map.set; adding to an older one
 * first copies what that version sees, so no version ever changes.
 *
 * Why not immutable.js here: its hash maps hash every string key on each access and copy
 * a path of nodes on each add, many times the cost, on the hottest states (the broker's
 * account, a busy market's closed orders) whose sets only ever grow (docs/PERFORMANCE.md,
 * "Why the code is as it is", "Grow-only maps instead of immutable.js").
 */
interface Entry<V> {
  value: V;
  /** How many entries came before this one: versions with a larger size see it. */
  at: number;
}

interface Shared<K, V> {
  entries: Map<K, Entry<V>>;
  /** The size of the newest version built on these entries. */
  size: number;
}

export class GrowOnlyMap<K, V> {
  private constructor(
    private readonly shared: Shared<K, V>,
    readonly size: number,
  ) {}

  static empty<K, V>(): GrowOnlyMap<K, V> {
    return new GrowOnlyMap<K, V>({ entries: new Map(), size: 0 }, 0);
  }

  get(key: K): V | undefined {
    const entry = this.shared.entries.get(key);
    return entry !== undefined && entry.at < this.size ? entry.value : undefined;
  }

  has(key: K): boolean {
    const entry = this.shared.entries.get(key);
    return entry !== undefined && entry.at < this.size;
  }

  /** This map with `key` added; this very map when it has the key already (a key keeps its first value). */
  add(key: K, value: V): GrowOnlyMap<K, V> {
    if (this.has(key)) return this;
    // Someone added to this version before: what it sees goes into entries of its own.
    const shared = this.shared.size === this.size ? this.shared : this.copyOfVisible();
    shared.entries.set(key, { value, at: this.size });
    shared.size = this.size + 1;
    return new GrowOnlyMap(shared, this.size + 1);
  }

  /** The entries this version sees, in the order they were added. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (const [key, entry] of this.shared.entries) if (entry.at < this.size) yield [key, entry.value];
  }

  private copyOfVisible(): Shared<K, V> {
    const entries = new Map<K, Entry<V>>();
    for (const [key, entry] of this.shared.entries) if (entry.at < this.size) entries.set(key, entry);
    return { entries, size: this.size };
  }
}
