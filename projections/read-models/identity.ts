/** The identity projection's collections: user profiles, and the access tokens signed out before expiry. */
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

export const users = collection<UserDoc>('users');

// By expiry: tokens past it are let go (`purgeExpiredSignOuts`), since they are refused anyway.
export const revokedTokens = collection<RevokedTokenDoc>('revoked_tokens', [{ equal: [], sort: ['expiresAt'] }]);
