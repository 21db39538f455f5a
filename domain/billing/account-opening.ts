/**
 * Every registered user gets a billing account, as a consequence of the registration event
 * (not of a second call by the client). Opening is idempotent: the account's id follows from
 * the user's, and an account open for that user changes nothing, so redelivering the event,
 * or replaying the workflow from the start, opens nothing twice.
 */
import type { UserRegistered } from '../identity/events.js';
import { stateless, type Workflow, type WorkflowStep } from '../workflow.js';
import type { AccountRequest } from './account.js';

/** The id of a user's account: always the same for the same user (a name-based id, given by the caller). */
export type AccountIdOf = (userId: string) => string;

/** Opens `userId`'s account (nothing when it is open already). */
export function openAccountOf(accountIdOf: AccountIdOf, userId: string, at: string): AccountRequest {
  return { type: 'OpenAccount', accountId: accountIdOf(userId), userId, at };
}

/**
 * A step on an account that is not open yet (a user who trades before the account-opening
 * workflow got to them): every user has an account, so it is opened then rather than stall
 * the process. Other commands' refusals stand.
 */
export function openingTheAccount(accountIdOf: AccountIdOf) {
  return (command: { type: string; userId?: string }, step: WorkflowStep): AccountRequest | null =>
    command.userId !== undefined && ACCOUNT_STEPS.has(command.type)
      ? openAccountOf(accountIdOf, command.userId, step.at)
      : null;
}

/** The account commands process managers send. */
const ACCOUNT_STEPS: ReadonlySet<string> = new Set<AccountRequest['type']>([
  'PayFromAccount',
  'ReceiveAccrual',
  'ReceiveCommission',
]);

export function accountOpening(accountIdOf: AccountIdOf): Workflow<UserRegistered, null, AccountRequest> {
  return {
    name: 'account-opening',
    inputs: ['UserRegistered'],
    instanceOf: (input) => input.data.userId,
    ...stateless,
    decide: (input, _state, step) => [openAccountOf(accountIdOf, input.data.userId, step.at)],
  };
}
