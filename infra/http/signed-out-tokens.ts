import { REVOKED_TOKENS } from '../../projections/identity.js';
import type { ReadStore } from '../read-store/read-store.js';
import type { SignedOutTokens } from './auth.js';

/**
 * Tokens signed out before they expire. This process's own sign-outs count at once; the
 * read model brings in those of other processes. Expired entries are forgotten (the token
 * is refused for its `exp` anyway).
 */
export class SignedOutTokenList implements SignedOutTokens {
  private readonly local = new Map<string, number>();

  constructor(
    private readonly readStore: ReadStore,
    private readonly now: () => number = Date.now,
  ) {}

  remember(tokenId: string, expiresAt: Date): void {
    this.local.set(tokenId, expiresAt.getTime());
    if (this.local.size > 10_000) this.forgetExpired();
  }

  async isSignedOut(tokenId: string): Promise<boolean> {
    if (this.local.has(tokenId)) return true;
    return (await this.readStore.get(REVOKED_TOKENS, tokenId)) !== null;
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [id, expiresAt] of this.local) if (expiresAt <= now) this.local.delete(id);
  }
}
