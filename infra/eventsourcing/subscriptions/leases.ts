/**
 * One active instance per projection. A runner holds a lease on its projection's name and
 * renews it; a rebuild asks the holder to hand it over and waits, so two processes never
 * write the same view at once. A holder that dies simply lets its lease expire.
 */
export interface LeaseStore {
  /**
   * Takes the lease if it is free, expired or already `owner`'s — unless someone else asked
   * for a handover that has not expired. Returns whether `owner` holds it now.
   */
  acquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Asks the current holder to let `requester` have the lease next (valid for `ttlMs`). */
  requestHandover(name: string, requester: string, ttlMs: number): Promise<void>;
  /** Frees the lease if `owner` holds it. */
  release(name: string, owner: string): Promise<void>;
  /** Who holds which lease, for status displays. */
  list(): Promise<LeaseRecord[]>;
  close(): Promise<void>;
}

export interface LeaseRecord {
  name: string;
  holder: string | null;
  expiresAt: Date | null;
  handoverTo: string | null;
}
