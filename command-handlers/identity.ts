/**
 * Registration, sign-in, profile and sign-out. Email uniqueness is decided on the write
 * side (email-claims.ts): a stream per normalised address, claimed when it is new, so two
 * registrations of one address can never both succeed, whatever the read models say.
 */
import { BusinessRuleViolation } from '../domain/decider.js';
import { type Profile, type Role, userStream } from '../domain/identity/events.js';
import { toUserView, user, type UserState, type UserView } from '../domain/identity/user.js';

import { messages } from '../domain/messages.js';
import { WrongExpectedVersion, type EventMetadata } from '../infra/eventsourcing/event-store/event-store.js';
import type { Position } from '../infra/eventsourcing/event-store/position.js';
import {
  loadStream,
  StreamStateMismatch,
  type CommandEnvironment,
} from '../infra/eventsourcing/command-handling/handle-command.js';
import { userCommands } from './commands.js';
import { claimEmail, findUserByEmail, type ClaimEnvironment } from './email-claims.js';

export { findUserByEmail } from './email-claims.js';
export type { EmailClaimKeys } from './email-claims.js';

export interface PasswordHashing {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  /** Whether a stored hash was made with other parameters than `hash` uses today (it still verifies). */
  needsRehash(stored: string): boolean;
}

export interface IdentityEnvironment extends ClaimEnvironment {
  passwords: PasswordHashing;
}

export interface Registration extends Profile {
  email: string;
  password: string;
  role?: Role;
}

/** A wrong email or a wrong password: one answer for both, so neither can be probed. */
export class InvalidCredentials extends Error {
  override readonly name = 'InvalidCredentials';
  constructor() {
    super(messages.wrongCredentials);
  }
}

export async function registerUser(
  env: IdentityEnvironment,
  registration: Registration,
  metadata?: EventMetadata,
): Promise<{ user: UserView; position: Position }> {
  const userId = await claimEmail(env, registration.email, metadata);
  const passwordHash = await env.passwords.hash(registration.password);
  const { email, firstName, lastName, phone, role = 'trader' } = registration;
  try {
    const result = await userCommands.handle(
      env,
      {
        type: 'RegisterUser',
        userId,
        email: email.trim(),
        passwordHash,
        role,
        firstName,
        lastName,
        phone,
        at: env.now().toISOString(),
      },
      { metadata },
    );
    return { user: toUserView(result.state), position: result.position! };
  } catch (error) {
    // Two requests finishing the same abandoned claim at once: the other one won.
    if (error instanceof WrongExpectedVersion || error instanceof StreamStateMismatch) {
      throw new BusinessRuleViolation('email_taken', messages.emailTaken(email.trim()));
    }
    throw error;
  }
}

/** The user, registered and not forgotten; else null. */
export async function findUser(env: CommandEnvironment, userId: string): Promise<UserState | null> {
  const { state } = await loadStream(env, user, userStream(userId));
  return state.registered && !state.forgotten ? state : null;
}

// Verified when the email is unknown, so a wrong email costs as long as a wrong password.
let decoyHash: Promise<string> | null = null;

export async function logIn(env: IdentityEnvironment, email: string, password: string): Promise<UserState> {
  const found = await findUserByEmail(env, email);
  if (!found) {
    decoyHash ??= env.passwords.hash('decoy password, never valid');
    await env.passwords.verify(password, await decoyHash);
    throw new InvalidCredentials();
  }
  if (!(await env.passwords.verify(password, found.passwordHash!))) throw new InvalidCredentials();
  return found;
}

/**
 * After a sign-in with `password`, while it is in hand: a stored hash made with weaker (or
 * other) parameters than today's is replaced by a hash of today's (`UserPasswordRehashed`,
 * through the user's command table). It replaces only the hash that was verified, so a
 * password changed meanwhile stands. Whether it rehashed.
 */
export async function upgradePasswordHash(
  env: IdentityEnvironment,
  signedIn: UserState,
  password: string,
  metadata?: EventMetadata,
): Promise<boolean> {
  const stored = signedIn.passwordHash!;
  if (!env.passwords.needsRehash(stored)) return false;
  const passwordHash = await env.passwords.hash(password);
  const result = await userCommands.handle(
    env,
    { type: 'RehashPassword', userId: signedIn.userId!, passwordHash, replaces: stored, at: env.now().toISOString() },
    { metadata },
  );
  return result.events.length > 0;
}

export async function updateProfile(
  env: IdentityEnvironment,
  userId: string,
  profile: Profile,
  metadata?: EventMetadata,
) {
  const result = await userCommands.handle(
    env,
    { type: 'UpdateProfile', ...profile, userId, at: env.now().toISOString() },
    { metadata },
  );
  return { user: toUserView(result.state), position: result.position };
}

export async function logOut(
  env: IdentityEnvironment,
  userId: string,
  tokenId: string,
  tokenExpiresAt: Date,
  metadata?: EventMetadata,
) {
  const result = await userCommands.handle(
    env,
    { type: 'LogOut', userId, tokenId, tokenExpiresAt: tokenExpiresAt.toISOString(), at: env.now().toISOString() },
    { metadata },
  );
  return { position: result.position };
}
