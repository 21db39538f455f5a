import { revokedTokens } from '../../projections/read-models/identity.js';
import type { ReadStore } from '../eventsourcing/read-store/read-store.js';
import type { SignedOutTokens } from './auth.js';

export interface SignedOutTokenListOptions {
  /**
   * How long a token the read model did not list is taken as not signed out without asking
   * again (ms); 0 asks on every request. Only sign-outs made through another process wait
   * for it: this process's own count at once.
   */
  recheckMs: number;
  now?: () => number;
}

/** Bounds the memory of tokens recently found not signed out; past it, the oldest are asked about again. */
const MAX_REMEMBERED = 100_000;

/**
 * Tokens signed out before they expire. This process's own sign-outs count at once; the
 * read model brings in those of other processes. Expired entries are forgotten (the token
 * is refused for its `exp` anyway): tokens share one lifetime, so they expire about in the
 * order they were signed out, and each sign-out lets go of the expired ones at the front.
 *
 * A busy client sends the same token many times a second, and each lookup is a read-store
 * query on the request's path: a token found not signed out is believed so for `recheckMs`.
 */
export class SignedOutTokenList implements SignedOutTokens {
  private readonly local = new Map<string, number>();
  /** Token id → when the read model last did not list it; oldest first (re-inserted on every check). */
  private readonly notListedAt = new Map<string, number>();
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(
    private readonly readStore: Pick<ReadStore, 'get'>,
    options: SignedOutTokenListOptions,
  ) {
    this.recheckMs = options.recheckMs;
    this.now = options.now ?? Date.now;
  }

  remember(tokenId: string, expiresAt: Date): void {
    this.local.set(tokenId, expiresAt.getTime());
    this.forgetExpired();
  }

  /** How many of this process's own sign-outs are held (the unexpired ones, and a few behind a longer-lived one). */
  get remembered(): number {
    return this.local.size;
  }

  async isSignedOut(tokenId: string): Promise<boolean> {
    if (this.local.has(tokenId)) return true;
    const now = this.now();
    const checkedAt = this.notListedAt.get(tokenId);
    if (checkedAt !== undefined && now - checkedAt < this.recheckMs) return false;
    this.notListedAt.delete(tokenId);
    if ((await revokedTokens.get(this.readStore, tokenId)) !== null) return true;
    if (this.recheckMs > 0) this.rememberNotListed(tokenId, now);
    return false;
  }

  private rememberNotListed(tokenId: string, now: number): void {
    this.notListedAt.set(tokenId, now);
    for (const [id, at] of this.notListedAt) {
      if (now - at < this.recheckMs && this.notListedAt.size <= MAX_REMEMBERED) break;
      this.notListedAt.delete(id);
    }
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [id, expiresAt] of this.local) {
      if (expiresAt > now) return;
      this.local.delete(id);
    }
  }
}
