/**
 * The users administrators blocked: their tokens are refused on every request. This process's
 * own blocks and unblocks count at once; the read model (the user directory) brings in those of
 * other processes. The blocked users are few, so the whole set is held and read again from the
 * read model at most every `recheckMs` (one query a period, not one a request).
 */
import { blockedUserIds } from '../../read-api/user-directory.js';
import type { ReadStore } from '../eventsourcing/read-store/read-store.js';

export interface BlockedUserCheck {
  isBlocked(userId: string): Promise<boolean>;
}

/** How long this process's own change outweighs a read model that does not show it yet. */
const LOCAL_MS = 60_000;

export class BlockedUsers implements BlockedUserCheck {
  private blocked = new Set<string>();
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;
  /**
   * This process's own changes, which the read model may not show yet: each stands until the
   * read model agrees, or for LOCAL_MS at most (another process may have changed it back since).
   */
  private readonly local = new Map<string, { blocked: boolean; at: number }>();
  private readonly now: () => number;

  constructor(
    private readonly readStore: ReadStore,
    private readonly options: { recheckMs: number; now?: () => number },
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A block or unblock made through this process: counted at once. */
  remember(userId: string, blocked: boolean): void {
    this.local.set(userId, { blocked, at: this.now() });
  }

  async isBlocked(userId: string): Promise<boolean> {
    if (this.now() - this.readAt >= this.options.recheckMs) await this.reread();
    const listed = this.blocked.has(userId);
    const own = this.local.get(userId);
    if (own === undefined) return listed;
    if (own.blocked === listed || this.now() - own.at > LOCAL_MS) this.local.delete(userId);
    return own.blocked;
  }

  private reread(): Promise<void> {
    this.reading ??= (async () => {
      const startedAt = this.now();
      try {
        this.blocked = await blockedUserIds(this.readStore);
        this.readAt = startedAt;
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }
}
