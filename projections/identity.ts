/**
 * User profiles as the API shows them, and the access tokens signed out before expiry.
 */
import type { UserEvent } from '../domain/identity/events.js';
import type { RecordedEvent } from '../infra/event-store/event-store.js';
import type { WriteOp } from '../infra/read-store/read-store.js';
import type { EventHandler } from './projection.js';

export const USERS = 'users';
export const REVOKED_TOKENS = 'revoked_tokens';

export const identityProjection: EventHandler = {
  name: 'identity',
  filter: { streamPrefixes: ['user-'] },
  collections: [
    { name: USERS, indexes: [] },
    { name: REVOKED_TOKENS, indexes: [] },
  ],
  handle(recorded: RecordedEvent): WriteOp[] {
    // Events of `user-` streams are UserEvents by construction (domain/identity/events.ts).
    const event = { type: recorded.type, data: recorded.data } as unknown as UserEvent;
    switch (event.type) {
      case 'UserRegistered': {
        const { userId, email, role, firstName, lastName, phone, at } = event.data;
        return [{ op: 'insert', collection: USERS, id: userId, doc: { email, role, firstName, lastName, phone, createdAt: at, updatedAt: at } }];
      }
      case 'UserProfileUpdated': {
        const { userId, firstName, lastName, phone, at } = event.data;
        return [{ op: 'update', collection: USERS, id: userId, set: { firstName, lastName, phone, updatedAt: at } }];
      }
      case 'UserRoleChanged':
        return [{ op: 'update', collection: USERS, id: event.data.userId, set: { role: event.data.role, updatedAt: event.data.at } }];
      case 'UserPasswordChanged':
        return [{ op: 'update', collection: USERS, id: event.data.userId, set: { updatedAt: event.data.at } }];
      case 'UserLoggedOut':
        return [{ op: 'insert', collection: REVOKED_TOKENS, id: event.data.tokenId, doc: { userId: event.data.userId, expiresAt: event.data.tokenExpiresAt } }];
      default:
        return [];
    }
  },
};
