/**
 * User profiles as the API shows them, and the access tokens signed out before expiry.
 */
import type { UserEvent } from '../domain/identity/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import type { ReadStore, WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';

export const USERS = 'users';
export const REVOKED_TOKENS = 'revoked_tokens';

export const identityProjection: EventHandler = {
  name: 'identity',
  filter: { streamPrefixes: ['user-'] },
  collections: [
    { name: USERS, indexes: [] },
    // By expiry: tokens past it are let go (`purgeExpiredSignOuts`), since they are refused anyway.
    { name: REVOKED_TOKENS, indexes: [{ equal: [], sort: ['expiresAt'] }] },
  ],
  handle(recorded: RecordedEvent): WriteOp[] {
    // Events of `user-` streams are UserEvents by construction (domain/identity/events.ts).
    const event = { type: recorded.type, data: recorded.data } as unknown as UserEvent;
    switch (event.type) {
      case 'UserRegistered': {
        const { userId, email, role, firstName, lastName, phone, at } = event.data;
        return [
          {
            op: 'insert',
            collection: USERS,
            id: userId,
            doc: { email, role, firstName, lastName, phone, createdAt: at, updatedAt: at },
          },
        ];
      }
      case 'UserProfileUpdated': {
        const { userId, firstName, lastName, phone, at } = event.data;
        return [{ op: 'update', collection: USERS, id: userId, set: { firstName, lastName, phone, updatedAt: at } }];
      }
      case 'UserRoleChanged':
        return [
          {
            op: 'update',
            collection: USERS,
            id: event.data.userId,
            set: { role: event.data.role, updatedAt: event.data.at },
          },
        ];
      case 'UserPasswordChanged':
        return [{ op: 'update', collection: USERS, id: event.data.userId, set: { updatedAt: event.data.at } }];
      case 'UserLoggedOut':
        return [
          {
            op: 'insert',
            collection: REVOKED_TOKENS,
            id: event.data.tokenId,
            doc: { userId: event.data.userId, expiresAt: event.data.tokenExpiresAt },
          },
        ];
      default:
        return [];
    }
  },
};

/**
 * Lets go of the signed-out tokens that have expired since (a token past its `exp` is
 * refused anyway), so the collection holds about one token lifetime of sign-outs. A replay
 * may bring expired ones back; the next purge takes them again.
 */
export function purgeExpiredSignOuts(readStore: Pick<ReadStore, 'deleteBefore'>, now: Date): Promise<number> {
  return readStore.deleteBefore(REVOKED_TOKENS, 'expiresAt', now.toISOString());
}
