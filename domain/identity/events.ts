import type { DomainEvent } from '../decider.js';

export type Role = 'trader' | 'broker' | 'admin';
export const roles: readonly Role[] = ['trader', 'broker', 'admin'];

export interface Profile {
  firstName: string;
  lastName: string;
  phone: string | null;
}

export type UserRegistered = DomainEvent<'UserRegistered', { userId: string; email: string; passwordHash: string; role: Role; at: string } & Profile>;
export type UserProfileUpdated = DomainEvent<'UserProfileUpdated', { userId: string; at: string } & Profile>;
export type UserPasswordChanged = DomainEvent<'UserPasswordChanged', { userId: string; passwordHash: string; at: string }>;
export type UserRoleChanged = DomainEvent<'UserRoleChanged', { userId: string; role: Role; at: string }>;
/** A signed-out access token: refused from now until it would have expired anyway. */
export type UserLoggedOut = DomainEvent<'UserLoggedOut', { userId: string; tokenId: string; tokenExpiresAt: string; at: string }>;

export type UserEvent = UserRegistered | UserProfileUpdated | UserPasswordChanged | UserRoleChanged | UserLoggedOut;

/** Claims an email address for one user; the stream is per normalised address, so only one claim can exist. */
export type EmailReserved = DomainEvent<'EmailReserved', { email: string; userId: string; at: string }>;

export const userEventTypes = ['UserRegistered', 'UserProfileUpdated', 'UserPasswordChanged', 'UserRoleChanged', 'UserLoggedOut'] as const satisfies ReadonlyArray<UserEvent['type']>;

export const userStream = (userId: string) => `user-${userId}`;
export const USER_STREAM_PREFIX = 'user-';

/** Emails are unique case-insensitively (and regardless of surrounding spaces). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const emailStream = (email: string) => `email-${normaliseEmail(email)}`;
