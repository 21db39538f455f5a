/** The identity projection's collections: user profiles, the access tokens signed out before expiry, and the sessions ended at once. */
import type { UserView } from '../../domain/identity/user.js';
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** A user's profile as the API shows it, by user id: the domain's `UserView`, said once. */
export type UserDoc = UserView;

/** An access token signed out before it expired, by token id. */
export type RevokedTokenDoc = {
  id: string;
  userId: string;
  expiresAt: string;
};

/**
 * How many times every token of a user was ended at once (password changes, sign-outs
 * everywhere, the account's deletion), by user id: a token issued at a lower count is refused.
 */
export type EndedSessionsDoc = {
  id: string;
  sessions: number;
};

export const users = collection<UserDoc>('users');

export const endedSessions = collection<EndedSessionsDoc>('ended_sessions');

// By expiry: tokens past it are let go (`purgeExpiredSignOuts`), since they are refused anyway.
export const revokedTokens = collection<RevokedTokenDoc>('revoked_tokens', [{ equal: [], sort: ['expiresAt'] }]);
