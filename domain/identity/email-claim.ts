/**
 * An email address claimed for one user: addresses are unique, and that is decided on the
 * write side. Each normalised address has a stream of its own (`emailStream`, named by the
 * address's claim key, a keyed hash computed outside the domain), and a claim expects that
 * stream new, so two registrations of one address can never both claim it, whatever the
 * read models say. When its user is forgotten the claim is released, and the address may
 * be claimed again on the same stream (`ClaimReleased`).
 *
 * A claim whose user was never registered (the registering process died between claiming
 * the address and recording the user) is taken over once it is old enough that no
 * registration can still be completing it, rather than block the address for ever. Nothing
 * is appended then: the registration goes on as the claim's user. Whether that user was
 * registered, and when the claim was recorded, are facts of other streams and of the store
 * that the command brings.
 */
import { BusinessRuleViolation, type Decider } from '../decider.js';
import { messages } from '../messages.js';
import { msOf } from '../time.js';
import type { EmailClaimEvent } from './events.js';

export interface EmailClaimState {
  /** The user the address is claimed for; null while it is free. */
  claimant: string | null;
}

export type EmailClaimCommand =
  /** Claims the address for a new user. */
  | { type: 'ClaimEmail'; email: string; userId: string; at: string }
  /**
   * Takes the claim of `claimant` over for the registration asking now (`at`), as the sender
   * found it: whether that user is registered, and when the store recorded the claim.
   */
  | { type: 'TakeOverClaim'; email: string; claimant: string; registered: boolean; claimedAt: string; at: string }
  /** Claims an address whose previous claim was released. */
  | { type: 'ClaimReleased'; email: string; userId: string; at: string }
  /** Ends the claim of `userId` (a forgotten user); another user's claim stays. */
  | { type: 'ReleaseClaim'; email: string; userId: string; at: string };

/** A claim younger than this may belong to a registration still hashing its password. */
export const ABANDONED_CLAIM_MS = 60_000;

function taken(email: string): never {
  throw new BusinessRuleViolation('email_taken', messages.emailTaken(email.trim()));
}

export const emailClaim: Decider<EmailClaimState, EmailClaimCommand, EmailClaimEvent> = {
  initialState: () => ({ claimant: null }),
  evolve: (_state, event) => ({ claimant: event.type === 'EmailReserved' ? event.data.userId : null }),
  decide(command, state) {
    if (command.type === 'ClaimEmail' || command.type === 'ClaimReleased') {
      if (state.claimant !== null) taken(command.email);
      const { userId, at } = command;
      return [{ type: 'EmailReserved', data: { email: command.email.trim(), userId, at } }];
    }
    if (command.type === 'ReleaseClaim') {
      return state.claimant === command.userId
        ? [{ type: 'EmailReleased', data: { userId: command.userId, at: command.at } }]
        : [];
    }
    const abandoned =
      state.claimant === command.claimant &&
      !command.registered &&
      msOf(command.at) - msOf(command.claimedAt) > ABANDONED_CLAIM_MS;
    if (!abandoned) taken(command.email);
    return [];
  },
  // A user id and the object around it (what the stream-state cache counts it as).
  weigh: () => 200,
};
