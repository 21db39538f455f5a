/** The events of a user and of an email claim, declared once (see domain/event-schema.ts). */
import * as z from 'zod';
import { EventType, id, instant, type EventOf } from '../event-schema.js';
import { actor } from './admin-events.js';

export const role = z.enum(['trader', 'broker', 'admin']).meta({
  description:
    'What a user may do: every self-registered user is a trader; one broker lists items and earns commissions.',
});
export type Role = z.infer<typeof role>;
export const roles: readonly Role[] = role.options;

const profileFields = {
  firstName: z.string(),
  lastName: z.string(),
  phone: z.string().nullable(),
};
export const profile = z.strictObject(profileFields);
export type Profile = z.infer<typeof profile>;

const passwordHash = z.string().meta({ description: 'a slow salted hash, never the password' });

export const userRegistered = EventType.first(
  'UserRegistered',
  z.strictObject({ userId: id, email: z.string(), passwordHash, role, at: instant, ...profileFields }),
);
export const userProfileUpdated = EventType.first(
  'UserProfileUpdated',
  z.strictObject({ userId: id, at: instant, ...profileFields }),
);
export const userPasswordChanged = EventType.first(
  'UserPasswordChanged',
  z.strictObject({ userId: id, passwordHash, at: instant }),
);
export const userPasswordRehashed = EventType.first(
  'UserPasswordRehashed',
  z.strictObject({ userId: id, passwordHash, at: instant }).meta({
    description:
      'The same password, hashed again with stronger parameters while the user signed in (the old hash was made with weaker ones). Not a change by the user: the profile’s `updatedAt` stays.',
  }),
);
export const userRoleChanged = EventType.first(
  'UserRoleChanged',
  // `by`: absent in events recorded before administrators could change roles.
  z.strictObject({ userId: id, role, by: actor.optional(), at: instant }),
);
export const userLoggedOut = EventType.first(
  'UserLoggedOut',
  z
    .strictObject({ userId: id, tokenId: id, tokenExpiresAt: instant, at: instant })
    .meta({ description: 'A signed-out access token: refused from now until it would have expired anyway.' }),
);
export const userSignedOutEverywhere = EventType.first(
  'UserSignedOutEverywhere',
  z.strictObject({ userId: id, at: instant }).meta({
    description:
      'Every access token of the user issued before is refused from now on (the user asked to be signed out everywhere).',
  }),
);
export const userForgotten = EventType.first(
  'UserForgotten',
  z.strictObject({ userId: id, at: instant }).meta({
    description:
      'The user deleted their account: their personal-data key is destroyed, so their email, names, phone and password hash can no longer be read from any event; every token of theirs is refused.',
  }),
);
export const emailReserved = EventType.first(
  'EmailReserved',
  z.strictObject({ email: z.string(), userId: id, at: instant }).meta({
    description:
      'Claims an email address for one user; the stream is per normalised address, so only one claim can exist.',
  }),
);

export type UserRegistered = EventOf<typeof userRegistered>;
export type UserProfileUpdated = EventOf<typeof userProfileUpdated>;
export type UserPasswordChanged = EventOf<typeof userPasswordChanged>;
export type UserPasswordRehashed = EventOf<typeof userPasswordRehashed>;
export type UserRoleChanged = EventOf<typeof userRoleChanged>;
export type UserLoggedOut = EventOf<typeof userLoggedOut>;
export type EmailReserved = EventOf<typeof emailReserved>;

export const emailReleased = EventType.first(
  'EmailReleased',
  z.strictObject({ userId: id, at: instant }).meta({
    description: 'The claim of a forgotten user ends: the address may be registered again.',
  }),
);

export type UserSignedOutEverywhere = EventOf<typeof userSignedOutEverywhere>;
export type UserForgotten = EventOf<typeof userForgotten>;
export type EmailReleased = EventOf<typeof emailReleased>;
export type EmailClaimEvent = EmailReserved | EmailReleased;

export type UserEvent =
  | UserRegistered
  | UserProfileUpdated
  | UserPasswordChanged
  | UserPasswordRehashed
  | UserRoleChanged
  | UserLoggedOut
  | UserSignedOutEverywhere
  | UserForgotten;

/** Every event of a user stream. */
export const userEvents = [
  userRegistered,
  userProfileUpdated,
  userPasswordChanged,
  userPasswordRehashed,
  userRoleChanged,
  userLoggedOut,
  userSignedOutEverywhere,
  userForgotten,
] as const;
export const userEventTypes = userEvents.map((e) => e.type) satisfies ReadonlyArray<UserEvent['type']>;
/** The events of an email stream: its claim, and the release of a forgotten user's claim. */
export const emailEvents = [emailReserved, emailReleased] as const;

export const userStream = (userId: string) => `user-${userId}`;
export const USER_STREAM_PREFIX = 'user-';

/** Emails are unique case-insensitively (and regardless of surrounding spaces). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The claim stream of an address, named by its claim key: a keyed hash of the normalised
 * address (computed outside the domain, with a secret of the deployment), so no stream name
 * carries an address.
 */
export const emailStream = (claimKey: string) => `email-${claimKey}`;
export const EMAIL_STREAM_PREFIX = 'email-';
/** Where builds before claim keys claimed an address: its stream is named by the address itself (still read, never written). */
export const legacyEmailStream = (email: string) => `email-${normaliseEmail(email)}`;
