import { expect } from 'chai';
import { user } from '../../domain/identity/user.js';
import type { UserEvent } from '../../domain/identity/events.js';
import { specification } from '../support/decider-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const profile = { firstName: 'Ann', lastName: 'Lee', phone: null };
const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId: 'u1', email: 'ann@x.io', passwordHash: 'h1', role: 'trader', at, ...profile },
};
const { given } = specification(user);

describe('user (decider)', () => {
  it('registers a new user', () => {
    given([])
      .when({
        type: 'RegisterUser',
        userId: 'u1',
        email: 'ann@x.io',
        passwordHash: 'h1',
        role: 'trader',
        at,
        ...profile,
      })
      .then([registered]);
  });
  it('refuses to register the same user twice', () => {
    given([registered])
      .when({
        type: 'RegisterUser',
        userId: 'u1',
        email: 'ann@x.io',
        passwordHash: 'h1',
        role: 'trader',
        at,
        ...profile,
      })
      .thenRefused('user_already_registered');
  });
  it('updates the profile, and an identical update changes nothing', () => {
    given([registered])
      .when({ type: 'UpdateProfile', firstName: 'Anna', lastName: 'Lee', phone: '+1 555', at })
      .then([
        { type: 'UserProfileUpdated', data: { userId: 'u1', firstName: 'Anna', lastName: 'Lee', phone: '+1 555', at } },
      ]);
    given([registered])
      .when({ type: 'UpdateProfile', ...profile, at })
      .then([]);
  });
  it('refuses changes to a user that does not exist', () => {
    given([])
      .when({ type: 'UpdateProfile', ...profile, at })
      .thenRefused('user_not_found');
    given([]).when({ type: 'LogOut', tokenId: 't1', tokenExpiresAt: at, at }).thenRefused('user_not_found');
  });
  it('changes the role only when it differs', () => {
    given([registered])
      .when({ type: 'ChangeRole', role: 'broker', at })
      .then([{ type: 'UserRoleChanged', data: { userId: 'u1', role: 'broker', at } }]);
    given([registered]).when({ type: 'ChangeRole', role: 'trader', at }).then([]);
  });
  it('changes the password', () => {
    given([registered])
      .when({ type: 'ChangePassword', passwordHash: 'h2', at })
      .then([{ type: 'UserPasswordChanged', data: { userId: 'u1', passwordHash: 'h2', at } }]);
  });
  it('replaces the hash it verified with a stronger one of the same password, not a hash changed since', () => {
    const rehashed: UserEvent = { type: 'UserPasswordRehashed', data: { userId: 'u1', passwordHash: 'h1-strong', at } };
    given([registered])
      .when({ type: 'RehashPassword', passwordHash: 'h1-strong', replaces: 'h1', at })
      .then([rehashed]);
    // Changed by the user meanwhile (or rehashed by a concurrent sign-in): the newer hash stands.
    given([registered, { type: 'UserPasswordChanged', data: { userId: 'u1', passwordHash: 'h2', at } }])
      .when({ type: 'RehashPassword', passwordHash: 'h1-strong', replaces: 'h1', at })
      .then([]);
    given([registered, rehashed])
      .when({ type: 'RehashPassword', passwordHash: 'h1-stronger', replaces: 'h1', at })
      .then([]);
    given([]).when({ type: 'RehashPassword', passwordHash: 'x', replaces: 'h1', at }).thenRefused('user_not_found');
  });
  it('keeps the profile’s updatedAt on a rehash (nothing the user changed), and the new hash', () => {
    const later = '2026-11-22T10:00:00.000Z';
    const state = [
      registered,
      { type: 'UserPasswordRehashed', data: { userId: 'u1', passwordHash: 'h1-strong', at: later } } as UserEvent,
    ].reduce(user.evolve, user.initialState());
    expect(state.passwordHash).to.equal('h1-strong');
    expect(state.updatedAt).to.equal(at);
  });
  it('signs a token out once', () => {
    const out: UserEvent = {
      type: 'UserLoggedOut',
      data: { userId: 'u1', tokenId: 't1', tokenExpiresAt: '2026-11-22T10:00:00.000Z', at },
    };
    given([registered])
      .when({ type: 'LogOut', tokenId: 't1', tokenExpiresAt: '2026-11-22T10:00:00.000Z', at })
      .then([out]);
    given([registered, out])
      .when({ type: 'LogOut', tokenId: 't1', tokenExpiresAt: '2026-11-22T10:00:00.000Z', at })
      .then([]);
  });
});
