import { expect } from 'chai';
import { ABANDONED_CLAIM_MS, emailClaim } from '../../domain/identity/email-claim.js';
import type { EmailReserved } from '../../domain/identity/events.js';
import { isoOf, msOf } from '../../domain/time.js';
import { specification } from '../support/decider-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const after = (ms: number) => isoOf(msOf(at) + ms);
const claimed = (userId: string): EmailReserved => ({
  type: 'EmailReserved',
  data: { email: 'Ann@Example.com', userId, at },
});
const { given } = specification(emailClaim);
/** A takeover asked `age` ms after the claim was recorded. */
const takeOver = (claimant: string, registered: boolean, age: number) => ({
  type: 'TakeOverClaim' as const,
  email: ' Ann@Example.com ',
  claimant,
  registered,
  claimedAt: at,
  at: after(age),
});

describe('email claim (decider)', () => {
  it('claims a free address for the user, as given but for surrounding spaces', () => {
    given([])
      .when({ type: 'ClaimEmail', email: ' Ann@Example.com ', userId: 'u1', at })
      .then([claimed('u1')]);
  });
  it('refuses an address claimed already, naming it', () => {
    given([claimed('u1')])
      .when({ type: 'ClaimEmail', email: 'ann@example.com ', userId: 'u2', at })
      .thenRefused('email_taken', 'user with email "ann@example.com" already exists');
  });
  it('takes over, appending nothing, the claim of a user never registered once it is old', () => {
    given([claimed('u1')])
      .when(takeOver('u1', false, ABANDONED_CLAIM_MS + 1))
      .then([]);
  });
  it('refuses to take over a claim that may still be completing, one whose user is registered, or another claim', () => {
    given([claimed('u1')])
      .when(takeOver('u1', false, ABANDONED_CLAIM_MS))
      .thenRefused('email_taken', 'user with email "Ann@Example.com" already exists');
    given([claimed('u1')])
      .when(takeOver('u1', true, 10 * ABANDONED_CLAIM_MS))
      .thenRefused('email_taken');
    given([claimed('u1')])
      .when(takeOver('u2', false, 10 * ABANDONED_CLAIM_MS))
      .thenRefused('email_taken');
  });
  it('remembers only whose the address is', () => {
    expect(emailClaim.evolve(emailClaim.initialState(), claimed('u1'))).to.deep.equal({ claimant: 'u1' });
  });
});

describe('email claim (decider): release', () => {
  const released = { type: 'EmailReleased' as const, data: { userId: 'u1', at } };
  it("releases the claim of its user (a forgotten one), and nobody else's", () => {
    given([claimed('u1')])
      .when({ type: 'ReleaseClaim', email: 'ann@example.com', userId: 'u1', at })
      .then([released]);
    given([claimed('u1')])
      .when({ type: 'ReleaseClaim', email: 'ann@example.com', userId: 'u2', at })
      .then([]);
  });
  it('claims a released address again, and refuses to while it is claimed', () => {
    given([claimed('u1'), released])
      .when({ type: 'ClaimReleased', email: ' Ann@Example.com ', userId: 'u2', at })
      .then([claimed('u2')]);
    given([claimed('u1')])
      .when({ type: 'ClaimReleased', email: 'Ann@Example.com', userId: 'u2', at })
      .thenRefused('email_taken');
    expect(emailClaim.evolve({ claimant: 'u1' }, released)).to.deep.equal({ claimant: null });
  });
});
