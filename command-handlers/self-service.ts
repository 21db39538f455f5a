/**
 * What a user does to their own account: change the password, sign out everywhere, and
 * delete the account. The first two end every token issued so far (the user's `sessions`
 * count goes up; a token issued at a lower count is refused). Deleting forgets the user:
 * `UserForgotten`, the address released, and the user's personal-data key destroyed, so
 * their email, names, phone and password hash can no longer be read from any event.
 */
import { accountStream } from '../domain/billing/events.js';
import { account } from '../domain/billing/account.js';
import { BusinessRuleViolation } from '../domain/decider.js';
import { customerOrdersStream } from '../domain/ordering/events.js';
import { customerOrders } from '../domain/ordering/customer-orders.js';
import type { UserState } from '../domain/identity/user.js';
import { messages } from '../domain/messages.js';
import type { EventMetadata } from '../infra/eventsourcing/event-store/event-store.js';
import type { Position } from '../infra/eventsourcing/event-store/position.js';
import { loadStream } from '../infra/eventsourcing/command-handling/handle-command.js';
import { userCommands } from './commands.js';
import { releaseEmail } from './email-claims.js';
import { findUser, type IdentityEnvironment } from './identity.js';

export interface SelfServiceEnvironment extends IdentityEnvironment {
  /** Whether the user has orders resting in a market (from the read models: a market's book is per item). */
  openOrders: { any(userId: string): Promise<boolean> };
  /** Destroys a user's personal-data key (the event store's decorator then redacts their data). */
  personalDataKeys: { forget(userId: string, at: Date): Promise<void> };
}

/** What a user's command left: the number of sessions ended so far (new tokens carry it) and the position. */
export interface SessionsEnded {
  sessions: number;
  position: Position | null;
}

/** The user, whose password must be `password`. */
async function withPassword(env: IdentityEnvironment, userId: string, password: string): Promise<UserState> {
  const found = await findUser(env, userId);
  if (!found) throw new BusinessRuleViolation('user_not_found', messages.notFound);
  if (!(await env.passwords.verify(password, found.passwordHash!)))
    throw new BusinessRuleViolation('wrong_password', messages.wrongPassword);
  return found;
}

export async function changePassword(
  env: IdentityEnvironment,
  userId: string,
  passwords: { oldPassword: string; newPassword: string },
  metadata?: EventMetadata,
): Promise<SessionsEnded> {
  await withPassword(env, userId, passwords.oldPassword);
  const passwordHash = await env.passwords.hash(passwords.newPassword);
  const result = await userCommands.handle(
    env,
    { type: 'ChangePassword', userId, passwordHash, at: env.now().toISOString() },
    { metadata },
  );
  return { sessions: result.state.sessions, position: result.position };
}

export async function signOutEverywhere(
  env: IdentityEnvironment,
  userId: string,
  metadata?: EventMetadata,
): Promise<SessionsEnded> {
  const result = await userCommands.handle(
    env,
    { type: 'SignOutEverywhere', userId, at: env.now().toISOString() },
    { metadata },
  );
  return { sessions: result.state.sessions, position: result.position };
}

/**
 * Deletes the account: refused while the user is the broker, has money, or has open orders
 * (plain orders pending, or orders resting in a market). Then `UserForgotten`, the address
 * released, the key destroyed. Should the process die after the event, the erasure handler
 * (infra/eventsourcing/personal-data/erasure.ts) destroys the key, and the next claim of the
 * address releases it.
 */
export async function forgetUser(
  env: SelfServiceEnvironment,
  userId: string,
  password: string,
  metadata?: EventMetadata,
): Promise<SessionsEnded> {
  const found = await withPassword(env, userId, password);
  await refuseWhileInUse(env, found);
  const at = env.now();
  const result = await userCommands.handle(env, { type: 'Forget', userId, at: at.toISOString() }, { metadata });
  await releaseEmail(env, found.email!, userId, metadata);
  await env.personalDataKeys.forget(userId, at);
  return { sessions: result.state.sessions, position: result.position };
}

async function refuseWhileInUse(env: SelfServiceEnvironment, found: UserState): Promise<void> {
  const userId = found.userId!;
  if (found.role === 'broker') throw new BusinessRuleViolation('broker_cannot_leave', messages.brokerCannotLeave);
  const money = await loadStream(env, account, accountStream(userId));
  if (money.state.balance !== 0) throw new BusinessRuleViolation('account_not_empty', messages.accountNotEmpty);
  const plain = await loadStream(env, customerOrders, customerOrdersStream(userId));
  if (plain.state.pending.size > 0 || (await env.openOrders.any(userId)))
    throw new BusinessRuleViolation('open_orders', messages.openOrders);
}
