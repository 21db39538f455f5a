/**
 * Deposits, withdrawals and opening accounts. Each operation carries its own id: the
 * account applies an id once, so a retried command (a replayed idempotency key, a
 * redelivered event) changes nothing more.
 */
import type { Cents } from '../domain/money.js';
import type { EventMetadata } from '../infra/eventsourcing/event-store/event-store.js';
import type { CommandEnvironment } from '../infra/eventsourcing/command-handling/handle-command.js';
import { accountCommands } from './commands.js';
import { rememberUntil, type RetentionSetting } from './retention.js';
import { nameBasedUuid } from '../infra/eventsourcing/name-based-id.js';

export interface BillingEnvironment extends CommandEnvironment, RetentionSetting {
  now(): Date;
}

/** Fixed namespace: a user's account id is derived from the user id, so opening it twice names the same account. */
const ACCOUNT_ID_NAMESPACE = '3f0e5a0c-6b1c-4a55-9d0e-2b8f3f6a9c11';

export function accountIdOf(userId: string): string {
  return nameBasedUuid(userId, ACCOUNT_ID_NAMESPACE);
}

export async function openAccount(env: BillingEnvironment, userId: string, metadata?: EventMetadata) {
  return accountCommands.handle(
    env,
    { type: 'OpenAccount', accountId: accountIdOf(userId), userId, at: env.now().toISOString() },
    { metadata },
  );
}

export interface MoneyMovement {
  userId: string;
  amount: Cents;
  operationId: string;
  /** The account revision the client saw (If-Match); absent: decided on the latest state. */
  expectedRevision?: number;
  /** Whether the same operation id can come again (a request with an idempotency key): then it is remembered for the retention. Default true. */
  retriable?: boolean;
}

function moveMoney(type: 'DepositMoney' | 'WithdrawMoney') {
  return (env: BillingEnvironment, movement: MoneyMovement, metadata?: EventMetadata) => {
    const now = env.now();
    const memory = { until: rememberUntil(env, now, movement.retriable ?? true) };
    const { userId, operationId, amount, expectedRevision } = movement;
    return accountCommands.handle(
      env,
      { type, userId, operationId, amount, memory, at: now.toISOString() },
      { expectedRevision, metadata },
    );
  };
}

export const depositMoney = moveMoney('DepositMoney');
export const withdrawMoney = moveMoney('WithdrawMoney');
