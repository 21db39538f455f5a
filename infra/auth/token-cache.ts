/**
 * Tokens whose signature was already checked, so a client sending the same token again
 * skips the signature check (the CPU ceiling of the API). Keyed by the whole token text:
 * only a byte-identical token can hit, and only tokens that verified are ever stored.
 * Bounded (least recently used goes first) and each entry dies at its token's `exp`.
 * Revocation is not cached here: callers check it on every request.
 */
export interface CacheStats {
  size: number;
  hits: number;
  misses: number;
}

interface Entry<V> {
  value: V;
  /** Seconds since the epoch; the entry is valid while now < expiresAt (as jose checks `exp`). */
  expiresAt: number;
}

export class VerifiedTokenCache<V> {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently
  // used entry first, so eviction is O(1) without a linked list of our own.
  private readonly entries = new Map<string, Entry<V>>();
  private hits = 0;
  private misses = 0;

  constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0)
      throw new RangeError(`cache size must be a whole number ≥ 0, got ${maxEntries}`);
  }

  get(token: string, nowSeconds: number): V | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined || entry.expiresAt <= nowSeconds) {
      if (entry !== undefined) this.entries.delete(token);
      this.misses++;
      return undefined;
    }
    this.entries.delete(token);
    this.entries.set(token, entry);
    this.hits++;
    return entry.value;
  }

  set(token: string, value: V, expiresAt: number): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(token);
    this.entries.set(token, { value, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  stats(): CacheStats {
    return { size: this.entries.size, hits: this.hits, misses: this.misses };
  }
}
