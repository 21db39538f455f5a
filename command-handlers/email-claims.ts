/**
 * Email addresses claimed on the write side (domain/identity/email-claim.ts). A claim's
 * stream is named by the address's claim key, a keyed hash (`EmailClaimKeys`), so no stream
 * name carries an address. Builds before claim keys named the stream by the address itself
 * (`legacyEmailStream`): those claims are still read, never written, and count as long as
 * their user is registered and not forgotten.
 */
import { BusinessRuleViolation } from '../domain/decider.js';
import { emailStream, legacyEmailStream, userStream } from '../domain/identity/events.js';
import { user, type UserState } from '../domain/identity/user.js';
import { messages } from '../domain/messages.js';
import type { EventMetadata } from '../infra/eventsourcing/event-store/event-store.js';
import {
  loadStream,
  StreamStateMismatch,
  type CommandEnvironment,
} from '../infra/eventsourcing/command-handling/handle-command.js';
import { emailClaimCommands } from './commands.js';

/** The claim key of an address: what names its claim stream. */
export interface EmailClaimKeys {
  of(email: string): string;
}

export interface ClaimEnvironment extends CommandEnvironment {
  now(): Date;
  claimKeys: EmailClaimKeys;
}

function taken(email: string): never {
  throw new BusinessRuleViolation('email_taken', messages.emailTaken(email.trim()));
}

/** The claim a stream holds now: its user and when the store recorded it; null when none or released. */
async function currentClaim(env: CommandEnvironment, stream: string): Promise<{ userId: string; at: Date } | null> {
  const read = await env.eventStore.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 });
  if (read.status !== 'found' || read.events.length === 0) return null;
  const last = read.events[0]!;
  return last.type === 'EmailReserved' ? { userId: String(last.data.userId), at: last.created } : null;
}

async function userState(env: CommandEnvironment, userId: string): Promise<UserState> {
  return (await loadStream(env, user, userStream(userId))).state;
}

const isActive = (state: UserState) => state.registered && !state.forgotten;

/**
 * Claims the address for a new user id. A claim whose user was never registered (the
 * process died between the two appends) is taken over once old enough, instead of blocking
 * the address: the registration goes on as that claim's user. A released claim, or one of
 * a forgotten user, is claimed again.
 */
export async function claimEmail(env: ClaimEnvironment, email: string, metadata?: EventMetadata): Promise<string> {
  const legacy = await currentClaim(env, legacyEmailStream(email));
  if (legacy && isActive(await userState(env, legacy.userId))) taken(email);
  const claimKey = env.claimKeys.of(email);
  const userId = env.newId();
  try {
    await emailClaimCommands.handle(
      env,
      { type: 'ClaimEmail', claimKey, email, userId, at: env.now().toISOString() },
      { metadata },
    );
    return userId;
  } catch (error) {
    if (!(error instanceof StreamStateMismatch)) throw error;
  }
  // Claimed before: by a user, by a registration that died before recording its user, or released.
  const claim = await currentClaim(env, emailStream(claimKey));
  const claimant = claim && (await userState(env, claim.userId));
  if (claim && claimant?.forgotten) {
    const release = {
      type: 'ReleaseClaim' as const,
      claimKey,
      email,
      userId: claim.userId,
      at: env.now().toISOString(),
    };
    await emailClaimCommands.handle(env, release, { metadata });
  }
  if (!claim || claimant?.forgotten) {
    const again = { type: 'ClaimReleased' as const, claimKey, email, userId, at: env.now().toISOString() };
    await emailClaimCommands.handle(env, again, { metadata });
    return userId;
  }
  const takeOver = {
    type: 'TakeOverClaim' as const,
    claimKey,
    email,
    claimant: claim.userId,
    registered: claimant!.registered,
    claimedAt: claim.at.toISOString(),
    at: env.now().toISOString(),
  };
  await emailClaimCommands.handle(env, takeOver, { metadata });
  return claim.userId;
}

/** Ends the user's claim of the address (the user is forgotten): the address may be registered again. */
export async function releaseEmail(env: ClaimEnvironment, email: string, userId: string, metadata?: EventMetadata) {
  const claimKey = env.claimKeys.of(email);
  try {
    await emailClaimCommands.handle(
      env,
      { type: 'ReleaseClaim', claimKey, email, userId, at: env.now().toISOString() },
      { metadata },
    );
  } catch (error) {
    // Claimed by an older build under the address itself: a forgotten user's legacy claim no longer counts.
    if (!(error instanceof StreamStateMismatch)) throw error;
  }
}

/** The registered, not forgotten, user behind an email address, from the write side (no read-model lag). */
export async function findUserByEmail(env: ClaimEnvironment, email: string): Promise<UserState | null> {
  const claim =
    (await currentClaim(env, emailStream(env.claimKeys.of(email)))) ??
    (await currentClaim(env, legacyEmailStream(email)));
  if (!claim) return null;
  const state = await userState(env, claim.userId);
  return isActive(state) ? state : null;
}
