/**
 * User profiles as the API shows them, the access tokens signed out before expiry, and how
 * many times each user's tokens were all ended. A forgotten user's profile is deleted.
 */
import type { UserEvent } from '../domain/identity/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import type { ReadStore, WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { endedSessions, revokedTokens, users } from './read-models/identity.js';

export const identityProjection: EventHandler = {
  name: 'identity',
  filter: { streamPrefixes: ['user-'] },
  collections: [users, revokedTokens, endedSessions],
  handle(recorded: RecordedEvent): WriteOp[] {
    // Events of `user-` streams are UserEvents by construction (domain/identity/events.ts).
    const event = { type: recorded.type, data: recorded.data } as unknown as UserEvent;
    switch (event.type) {
      case 'UserRegistered': {
        const { userId, email, role, firstName, lastName, phone, at } = event.data;
        return [users.insert(userId, { email, role, firstName, lastName, phone, createdAt: at, updatedAt: at })];
      }
      case 'UserProfileUpdated': {
        const { userId, firstName, lastName, phone, at } = event.data;
        return [users.update(userId, { set: { firstName, lastName, phone, updatedAt: at } })];
      }
      case 'UserRoleChanged':
        return [users.update(event.data.userId, { set: { role: event.data.role, updatedAt: event.data.at } })];
      case 'UserPasswordChanged':
        return [users.update(event.data.userId, { set: { updatedAt: event.data.at } }), endSessions(event.data.userId)];
      case 'UserSignedOutEverywhere':
        return [endSessions(event.data.userId)];
      case 'UserForgotten':
        return [users.delete(event.data.userId), endSessions(event.data.userId)];
      case 'UserLoggedOut':
        return [
          revokedTokens.insert(event.data.tokenId, {
            userId: event.data.userId,
            expiresAt: event.data.tokenExpiresAt,
          }),
        ];
      default:
        return [];
    }
  },
};

/** Every token of the user issued so far is refused (counted as the user decider counts `sessions`). */
function endSessions(userId: string): WriteOp {
  return endedSessions.upsert(userId, { inc: { sessions: 1 } });
}

/**
 * Lets go of the signed-out tokens that have expired since (a token past its `exp` is
 * refused anyway), so the collection holds about one token lifetime of sign-outs. A replay
 * may bring expired ones back; the next purge takes them again.
 */
export function purgeExpiredSignOuts(readStore: Pick<ReadStore, 'deleteBefore'>, now: Date): Promise<number> {
  return readStore.deleteBefore(revokedTokens.name, 'expiresAt', now.toISOString());
}
