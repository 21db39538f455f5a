/** The identity projection: profiles as the API shows them, and the tokens signed out before expiry. */
import { identityProjection } from '../../projections/identity.js';
import { endedSessions, revokedTokens, users } from '../../projections/read-models/identity.js';
import { describeProjection, documents } from '../support/projection-spec.js';

const registered = {
  stream: 'user-u1',
  type: 'UserRegistered',
  data: {
    userId: 'u1',
    email: 'ann@example.test',
    passwordHash: 'hash-1',
    role: 'trader',
    firstName: 'Ann',
    lastName: 'Lee',
    phone: null,
    at: '2026-03-01T10:00:00.000Z',
  },
} as const;

describeProjection(identityProjection, (spec) => {
  it('a registered user has a profile with what they registered, never the password hash', () =>
    spec.given(registered).then(
      documents(users, [
        {
          id: 'u1',
          email: 'ann@example.test',
          role: 'trader',
          firstName: 'Ann',
          lastName: 'Lee',
          phone: null,
          createdAt: '2026-03-01T10:00:00.000Z',
          updatedAt: '2026-03-01T10:00:00.000Z',
        },
      ]),
    ));

  it('a profile update, a role change and a password change each move the profile on', () =>
    spec
      .given(
        registered,
        {
          stream: 'user-u1',
          type: 'UserProfileUpdated',
          data: { userId: 'u1', firstName: 'Anne', lastName: 'Lee-Ray', phone: '+100', at: '2026-03-02T10:00:00.000Z' },
        },
        {
          stream: 'user-u1',
          type: 'UserRoleChanged',
          data: { userId: 'u1', role: 'broker', at: '2026-03-03T10:00:00.000Z' },
        },
        {
          stream: 'user-u1',
          type: 'UserPasswordChanged',
          data: { userId: 'u1', passwordHash: 'hash-2', at: '2026-03-04T10:00:00.000Z' },
        },
      )
      .then(
        documents(users, [
          {
            id: 'u1',
            email: 'ann@example.test',
            role: 'broker',
            firstName: 'Anne',
            lastName: 'Lee-Ray',
            phone: '+100',
            createdAt: '2026-03-01T10:00:00.000Z',
            updatedAt: '2026-03-04T10:00:00.000Z',
          },
        ]),
        documents(endedSessions, [{ id: 'u1', sessions: 1 }]),
      ));

  it('a sign-out lists the token, with its owner and expiry', () =>
    spec
      .given(registered, {
        stream: 'user-u1',
        type: 'UserLoggedOut',
        data: {
          userId: 'u1',
          tokenId: 't1',
          tokenExpiresAt: '2026-03-01T11:00:00.000Z',
          at: '2026-03-01T10:30:00.000Z',
        },
      })
      .then(
        documents(users, [
          {
            id: 'u1',
            email: 'ann@example.test',
            role: 'trader',
            firstName: 'Ann',
            lastName: 'Lee',
            phone: null,
            createdAt: '2026-03-01T10:00:00.000Z',
            updatedAt: '2026-03-01T10:00:00.000Z',
          },
        ]),
        documents(revokedTokens, [{ id: 't1', userId: 'u1', expiresAt: '2026-03-01T11:00:00.000Z' }]),
      ));
});
