/**
 * A user: identity, credentials, role and profile. The password arrives already hashed
 * (hashing is slow I/O-like work done outside the domain); the rules here are about what
 * may change and when.
 */
import { BusinessRuleViolation, type Decider } from '../decider.js';
import { messages } from '../messages.js';
import { WindowMap } from '../window-map.js';
import type { Profile, Role, UserEvent } from './events.js';
import { userSnapshot } from './user-snapshot.js';
import { msOf } from '../time.js';

export interface UserState {
  registered: boolean;
  userId: string | null;
  email: string | null;
  passwordHash: string | null;
  role: Role | null;
  profile: Profile;
  createdAt: string | null;
  updatedAt: string | null;
  /** Token ids signed out and not yet expired (an expired token is refused anyway), with when they expire. */
  loggedOut: WindowMap<string, string>;
  /**
   * How many times every token of the user was ended at once (a password change, a sign-out
   * everywhere, the account's deletion): a token carries the number it was issued at, and
   * one issued at a lower number is refused.
   */
  sessions: number;
  /** The user deleted their account: their personal data is gone and no command applies. */
  forgotten: boolean;
}

export type UserCommand =
  | ({ type: 'RegisterUser'; userId: string; email: string; passwordHash: string; role: Role; at: string } & Profile)
  | ({ type: 'UpdateProfile'; at: string } & Profile)
  | { type: 'ChangePassword'; passwordHash: string; at: string }
  /**
   * The password just verified against `replaces`, hashed again with today's parameters.
   * Only that hash is replaced: a password changed meanwhile stands.
   */
  | { type: 'RehashPassword'; passwordHash: string; replaces: string; at: string }
  /** `by`: who changes it (see `actor`); absent for the start-up's own role changes of old. */
  | { type: 'ChangeRole'; role: Role; by?: string; at: string }
  | { type: 'LogOut'; tokenId: string; tokenExpiresAt: string; at: string }
  /** Ends every token of the user issued so far. */
  | { type: 'SignOutEverywhere'; at: string }
  /** Deletes the account (whether it may go, money and orders, is decided by the sender from other streams). */
  | { type: 'Forget'; at: string };

function initialState(): UserState {
  return {
    registered: false,
    userId: null,
    email: null,
    passwordHash: null,
    role: null,
    profile: { firstName: '', lastName: '', phone: null },
    createdAt: null,
    updatedAt: null,
    loggedOut: WindowMap.empty(),
    sessions: 0,
    forgotten: false,
  };
}

function evolve(state: UserState, event: UserEvent): UserState {
  const next = apply(state, event);
  const loggedOut = next.loggedOut.forgetBefore(msOf(event.data.at));
  return loggedOut === next.loggedOut ? next : { ...next, loggedOut };
}

function apply(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered': {
      const { userId, email, passwordHash, role, at, firstName, lastName, phone } = event.data;
      return {
        ...state,
        registered: true,
        userId,
        email,
        passwordHash,
        role,
        profile: { firstName, lastName, phone },
        createdAt: at,
        updatedAt: at,
      };
    }
    case 'UserProfileUpdated': {
      const { firstName, lastName, phone, at } = event.data;
      return { ...state, profile: { firstName, lastName, phone }, updatedAt: at };
    }
    case 'UserPasswordChanged':
      // Every token issued with the old password ends with it.
      return {
        ...state,
        passwordHash: event.data.passwordHash,
        updatedAt: event.data.at,
        sessions: state.sessions + 1,
      };
    case 'UserPasswordRehashed':
      // The same password, stored better: nothing the user changed (updatedAt stays).
      return { ...state, passwordHash: event.data.passwordHash };
    case 'UserRoleChanged':
      return { ...state, role: event.data.role, updatedAt: event.data.at };
    case 'UserLoggedOut':
      return {
        ...state,
        loggedOut: state.loggedOut.add(event.data.tokenId, event.data.tokenExpiresAt, msOf(event.data.tokenExpiresAt)),
        updatedAt: event.data.at,
      };
    case 'UserSignedOutEverywhere':
      return { ...state, sessions: state.sessions + 1 };
    case 'UserForgotten':
      return {
        ...initialState(),
        registered: true,
        userId: state.userId,
        role: state.role,
        createdAt: state.createdAt,
        updatedAt: event.data.at,
        sessions: state.sessions + 1,
        forgotten: true,
      };
  }
}

function decide(command: UserCommand, state: UserState): UserEvent[] {
  if (command.type === 'RegisterUser') {
    if (state.registered) throw new BusinessRuleViolation('user_already_registered', messages.userAlreadyRegistered);
    const { type: _type, ...data } = command;
    return [{ type: 'UserRegistered', data }];
  }
  if (!state.registered || state.forgotten) throw new BusinessRuleViolation('user_not_found', messages.notFound);
  const userId = state.userId!;
  switch (command.type) {
    case 'UpdateProfile': {
      const { firstName, lastName, phone, at } = command;
      const same =
        firstName === state.profile.firstName && lastName === state.profile.lastName && phone === state.profile.phone;
      return same ? [] : [{ type: 'UserProfileUpdated', data: { userId, firstName, lastName, phone, at } }];
    }
    case 'ChangePassword':
      return [{ type: 'UserPasswordChanged', data: { userId, passwordHash: command.passwordHash, at: command.at } }];
    case 'RehashPassword':
      return state.passwordHash === command.replaces
        ? [{ type: 'UserPasswordRehashed', data: { userId, passwordHash: command.passwordHash, at: command.at } }]
        : [];
    case 'ChangeRole':
      return command.role === state.role
        ? []
        : [
            {
              type: 'UserRoleChanged',
              data: { userId, role: command.role, ...(command.by !== undefined && { by: command.by }), at: command.at },
            },
          ];
    case 'LogOut':
      if (state.loggedOut.has(command.tokenId)) return [];
      return [
        {
          type: 'UserLoggedOut',
          data: { userId, tokenId: command.tokenId, tokenExpiresAt: command.tokenExpiresAt, at: command.at },
        },
      ];
    case 'SignOutEverywhere':
      return [{ type: 'UserSignedOutEverywhere', data: { userId, at: command.at } }];
    case 'Forget':
      return [{ type: 'UserForgotten', data: { userId, at: command.at } }];
  }
}

export const user: Decider<UserState, UserCommand, UserEvent> = {
  initialState,
  evolve,
  decide,
  snapshot: userSnapshot,
  weigh: (state) => 900 + 150 * state.loggedOut.size,
};

/** A user as the API shows it (`User` in the specification). */
export interface UserView {
  id: string;
  email: string;
  role: Role;
  firstName: string;
  lastName: string;
  phone: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toUserView(state: UserState): UserView {
  return {
    id: state.userId!,
    email: state.email!,
    role: state.role!,
    firstName: state.profile.firstName,
    lastName: state.profile.lastName,
    phone: state.profile.phone,
    createdAt: state.createdAt!,
    updatedAt: state.updatedAt!,
  };
}
