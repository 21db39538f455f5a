import { json, type SnapshotCodec } from '../snapshot.js';
import { WindowMap } from '../window-map.js';
import { roles } from './events.js';
import type { UserState } from './user.js';

export const userSnapshot: SnapshotCodec<UserState> = {
  // 2: the number of sessions ended and whether the user is forgotten.
  version: 2,
  encode: (state) => ({ ...state, loggedOut: state.loggedOut.toJSON() }),
  decode(value) {
    const o = json.object(value, 'user');
    const profile = json.object(o.profile, 'profile');
    return {
      registered: json.boolean(o.registered, 'registered'),
      userId: json.nullableString(o.userId, 'userId'),
      email: json.nullableString(o.email, 'email'),
      passwordHash: json.nullableString(o.passwordHash, 'passwordHash'),
      role: o.role === null ? null : json.oneOf(o.role, 'role', roles),
      profile: {
        firstName: json.string(profile.firstName, 'profile.firstName'),
        lastName: json.string(profile.lastName, 'profile.lastName'),
        phone: json.nullableString(profile.phone, 'profile.phone'),
      },
      createdAt: json.nullableString(o.createdAt, 'createdAt'),
      updatedAt: json.nullableString(o.updatedAt, 'updatedAt'),
      loggedOut: WindowMap.fromJSON(json.windowMap(o.loggedOut, 'loggedOut', json.string)),
      sessions: json.integer(o.sessions, 'sessions'),
      forgotten: json.boolean(o.forgotten, 'forgotten'),
    };
  },
};
