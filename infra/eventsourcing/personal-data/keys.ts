/**
 * The personal-data key store port: one key per subject (a user), kept outside the event
 * store — beside the read models (`DATA_DIR/personal-keys.db`, or a MongoDB collection) — so
 * that deleting it forgets the subject's personal data in every event at once while the
 * event log stays append-only. A forgotten subject keeps a tombstone: no key, and the time it
 * was forgotten, so even personal data that older builds wrote in plaintext is redacted.
 */

/** What the store holds for a subject. */
export type KeyLookup = { kind: 'active'; key: Buffer } | { kind: 'forgotten' } | { kind: 'none' };

export interface PersonalDataKeys {
  /**
   * The subject's key; when it has none, `candidate` is stored (durably, before this
   * resolves) and returned. Two callers at once agree on one key: the first stored wins.
   * A forgotten subject gets no key again.
   */
  obtain(subject: string, candidate: Buffer): Promise<KeyLookup>;
  /** What the store holds for the subject, creating nothing. */
  find(subject: string): Promise<KeyLookup>;
  /** Destroys the subject's key for good and leaves its tombstone (again: nothing changes). */
  forget(subject: string, at: Date): Promise<void>;
  close(): Promise<void>;
}

export interface KeyCacheOptions {
  /** How long a lookup is believed without asking the store again (ms). A forget through this cache counts at once. */
  ttlMs?: number;
  /** Most subjects remembered; past it, the oldest are asked about again. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * The key store as the event store's decorator uses it: lookups remembered for a short
 * while (a replay reads many events of one user), a tombstone for good. A forget in this
 * process, or an erasure event read by it, counts at once; one by another process within
 * `ttlMs` (and at the latest when its erasure event is read here).
 */
export class CachedKeys {
  private readonly remembered = new Map<string, { lookup: KeyLookup; at: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    readonly store: PersonalDataKeys,
    options: KeyCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async obtain(subject: string, candidate: () => Buffer): Promise<KeyLookup> {
    const known = this.fresh(subject);
    if (known && known.kind !== 'none') return known;
    return this.remember(subject, await this.store.obtain(subject, candidate()));
  }

  async find(subject: string): Promise<KeyLookup> {
    return this.fresh(subject) ?? this.remember(subject, await this.store.find(subject));
  }

  async forget(subject: string, at: Date): Promise<void> {
    this.forgotten(subject);
    await this.store.forget(subject, at);
  }

  /** The subject is known to be forgotten (its erasure event was read): no key is used for it again here. */
  forgotten(subject: string): void {
    this.remember(subject, { kind: 'forgotten' });
  }

  private fresh(subject: string): KeyLookup | null {
    const entry = this.remembered.get(subject);
    if (!entry) return null;
    if (entry.lookup.kind === 'forgotten' || this.now() - entry.at < this.ttlMs) return entry.lookup;
    this.remembered.delete(subject);
    return null;
  }

  private remember(subject: string, lookup: KeyLookup): KeyLookup {
    this.remembered.delete(subject);
    this.remembered.set(subject, { lookup, at: this.now() });
    for (const oldest of this.remembered.keys()) {
      if (this.remembered.size <= this.maxEntries) break;
      this.remembered.delete(oldest);
    }
    return lookup;
  }
}
