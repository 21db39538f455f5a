import { endedSessions, revokedTokens } from '../../projections/read-models/identity.js';
import type { AccessClaims } from '../auth/tokens.js';
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
 * A user's sessions ended at once (a password change, a sign-out everywhere, a deleted
 * account) refuse every token issued before at a lower `sessions` count: this process's own
 * at once, other processes' from the read model (`ended_sessions`) in the same way.
 *
 * A busy client sends the same token many times a second, and each lookup is a read-store
 * query on the request's path: a token found not signed out is believed so for `recheckMs`.
 */
export class SignedOutTokenList implements SignedOutTokens {
  private readonly local = new Map<string, number>();
  /** User id → the sessions count this process ended them at (kept for the process's life: one number per user who did). */
  private readonly localSessions = new Map<string, number>();
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

  /** Every token of the user issued at a count below `sessions` is refused from now on, in this process at once. */
  rememberSessionsEnded(userId: string, sessions: number): void {
    if ((this.localSessions.get(userId) ?? 0) < sessions) this.localSessions.set(userId, sessions);
  }

  /** How many of this process's own sign-outs are held (the unexpired ones, and a few behind a longer-lived one). */
  get remembered(): number {
    return this.local.size;
  }

  async isSignedOut(token: Pick<AccessClaims, 'jti' | 'userId' | 'sessions'>): Promise<boolean> {
    const { jti: tokenId, userId, sessions } = token;
    if (this.local.has(tokenId) || sessions < (this.localSessions.get(userId) ?? 0)) return true;
    const now = this.now();
    const checkedAt = this.notListedAt.get(tokenId);
    if (checkedAt !== undefined && now - checkedAt < this.recheckMs) return false;
    this.notListedAt.delete(tokenId);
    const [revoked, ended] = await Promise.all([
      revokedTokens.get(this.readStore, tokenId),
      endedSessions.get(this.readStore, userId),
    ]);
    if (revoked !== null || sessions < (ended?.sessions ?? 0)) return true;
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
