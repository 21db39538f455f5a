/**
 * The user directory: every user with their role and whether they are blocked, for the
 * administrators' list and search, and for the check that refuses a blocked user's tokens
 * (infra/http/blocked-users.ts).
 */
import type { AccessEvent } from '../domain/identity/admin-events.js';
import { ACCESS_STREAM_PREFIX } from '../domain/identity/admin-events.js';
import { normaliseEmail, USER_STREAM_PREFIX, type UserEvent } from '../domain/identity/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { userDirectory } from './read-models/user-directory.js';

export const userDirectoryProjection: EventHandler = {
  name: 'user-directory',
  filter: { streamPrefixes: [USER_STREAM_PREFIX, ACCESS_STREAM_PREFIX] },
  collections: [userDirectory],
  handle(recorded: RecordedEvent): WriteOp[] {
    // Events of `user-` and `access-` streams are UserEvents and AccessEvents by construction (domain/identity/).
    const event = { type: recorded.type, data: recorded.data } as unknown as UserEvent | AccessEvent;
    switch (event.type) {
      case 'UserRegistered': {
        const { userId, email, role, at } = event.data;
        return [userDirectory.insert(userId, { email: normaliseEmail(email), role, blocked: false, createdAt: at })];
      }
      case 'UserRoleChanged':
        return [userDirectory.update(event.data.userId, { set: { role: event.data.role } })];
      case 'UserBlocked':
        return [userDirectory.update(event.data.userId, { set: { blocked: true } })];
      case 'UserUnblocked':
        return [userDirectory.update(event.data.userId, { set: { blocked: false } })];
      // A forgotten user leaves the directory with their address (their tokens are refused anyway).
      case 'UserForgotten':
        return [userDirectory.delete(event.data.userId)];
      default:
        return [];
    }
  },
};
