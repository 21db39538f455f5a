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

describe('user (decider): sessions ended, forgetting', () => {
  const fold = (events: UserEvent[]) => events.reduce(user.evolve, user.initialState());
  const later = '2026-11-21T11:00:00.000Z';

  it('signs out everywhere, and counts every password change and sign-out everywhere as sessions ended', () => {
    given([registered])
      .when({ type: 'SignOutEverywhere', at: later })
      .then([{ type: 'UserSignedOutEverywhere', data: { userId: 'u1', at: later } }]);
    const changed: UserEvent = { type: 'UserPasswordChanged', data: { userId: 'u1', passwordHash: 'h2', at: later } };
    const everywhere: UserEvent = { type: 'UserSignedOutEverywhere', data: { userId: 'u1', at: later } };
    const rehashed: UserEvent = { type: 'UserPasswordRehashed', data: { userId: 'u1', passwordHash: 'h3', at: later } };
    expect(fold([registered]).sessions).to.equal(0);
    expect(fold([registered, changed, everywhere]).sessions).to.equal(2);
    expect(fold([registered, rehashed]).sessions, 'a rehash is the same password').to.equal(0);
  });

  it('forgets a user: their personal data leaves the state, and no command applies any more', () => {
    given([registered])
      .when({ type: 'Forget', at: later })
      .then([{ type: 'UserForgotten', data: { userId: 'u1', at: later } }]);
    const forgotten: UserEvent = { type: 'UserForgotten', data: { userId: 'u1', at: later } };
    const state = fold([registered, forgotten]);
    expect(state).to.include({ forgotten: true, email: null, passwordHash: null, sessions: 1, userId: 'u1' });
    expect(state.profile).to.deep.equal({ firstName: '', lastName: '', phone: null });
    for (const command of [
      { type: 'UpdateProfile' as const, ...profile, at },
      { type: 'ChangePassword' as const, passwordHash: 'h9', at },
      { type: 'SignOutEverywhere' as const, at },
      { type: 'Forget' as const, at },
    ])
      given([registered, forgotten]).when(command).thenRefused('user_not_found');
    given([registered, forgotten])
      .when({ type: 'RegisterUser', userId: 'u1', email: 'a@b.c', passwordHash: 'h', role: 'trader', at, ...profile })
      .thenRefused('user_already_registered');
  });

  it('keeps the sessions count and the forgetting in its snapshot', () => {
    const forgotten: UserEvent = { type: 'UserForgotten', data: { userId: 'u1', at: later } };
    const state = fold([registered, forgotten]);
    const codec = user.snapshot!;
    expect(codec.decode(JSON.parse(JSON.stringify(codec.encode(state))))).to.deep.equal(state);
  });
});
