/**
 * Stream tickets: what lets a browser's `EventSource` (which cannot send an `Authorization`
 * header) open the live stream without putting a long-lived token in a URL. A signed-in
 * client asks for one (`POST /api/v1/notifications/stream-tickets`) and gives it as
 * `?ticket=`; it opens one stream, within `TICKET_LIFETIME_MS`, once.
 *
 * A ticket is 32 random bytes, kept with its user beside the idempotency answers (the
 * `IdempotencyRecords` port: a SQLite file every process of a host shares, or a MongoDB
 * collection every API process shares), and used up by a claim there (first insert wins),
 * so any API process can take it, and no two can.
 */
import { randomBytes } from 'node:crypto';
import type { IdempotencyRecords } from '../../idempotency/records.js';

export const TICKET_LIFETIME_MS = 60_000;
/** The scope the tickets are kept under (not a user's: a ticket is looked up before anyone is known). */
const SCOPE = 'stream-ticket';
const FINGERPRINT = 'stream-ticket';

export interface StreamTickets {
  issue(userId: string): Promise<{ ticket: string; expiresAt: Date }>;
  /** The user the ticket was issued to, once; null when it is unknown, expired or used. */
  redeem(ticket: string): Promise<string | null>;
}

export function streamTickets(records: IdempotencyRecords, now: () => number = Date.now): StreamTickets {
  // Two uses in this process within one millisecond would claim with the same time: one waits its turn here.
  const redeeming = new Set<string>();
  return {
    async issue(userId) {
      const ticket = randomBytes(32).toString('base64url');
      const at = now();
      const body = JSON.stringify({ userId, expiresAt: at + TICKET_LIFETIME_MS });
      await records.keep(SCOPE, ticket, { fingerprint: FINGERPRINT, status: 201, body, headers: {}, at });
      return { ticket, expiresAt: new Date(at + TICKET_LIFETIME_MS) };
    },
    async redeem(ticket) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(ticket) || redeeming.has(ticket)) return null;
      redeeming.add(ticket);
      try {
        return await use(ticket);
      } finally {
        redeeming.delete(ticket);
      }
    },
  };

  async function use(ticket: string): Promise<string | null> {
    const kept = await records.find(SCOPE, ticket);
    if (!kept || kept.fingerprint !== FINGERPRINT || kept.body === null) return null;
    const { userId, expiresAt } = JSON.parse(kept.body) as { userId: string; expiresAt: number };
    const at = now();
    if (at >= expiresAt) return null;
    // The first claim is the use; any later one finds the earlier time.
    const firstUse = await records.claim(SCOPE, ticket, at);
    return firstUse === at ? userId : null;
  }
}
