/**
 * An immutable set of ids that grows one id at a time, cheaply: adding copies at most a
 * short list of recent ids, and only every 64 adds merges them into a new frozen set.
 * Folding a stream of n operations therefore costs about n²/64 copies instead of n², so
 * an account can remember every operation id it ever applied.
 */
const RECENT_LIMIT = 64;

export class IdSet {
  private constructor(
    private readonly older: ReadonlySet<string>,
    private readonly recent: readonly string[],
  ) {}

  static readonly empty = new IdSet(new Set(), []);

  has(id: string): boolean {
    return this.recent.includes(id) || this.older.has(id);
  }

  add(id: string): IdSet {
    if (this.has(id)) return this;
    if (this.recent.length < RECENT_LIMIT) return new IdSet(this.older, [...this.recent, id]);
    const merged = new Set(this.older);
    for (const r of this.recent) merged.add(r);
    merged.add(id);
    return new IdSet(merged, []);
  }

  get size(): number {
    return this.older.size + this.recent.length;
  }
}
