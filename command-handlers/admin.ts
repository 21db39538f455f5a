/**
 * What administrators and the operator do to users: grant and revoke the admin role, appoint
 * the one broker (domain/identity/broker-appointment.ts), block and unblock a user
 * (domain/identity/blocking.ts). Every change names who made it (`by`: the admin's user id, or
 * `cli` / `configuration`).
 */
import { BusinessRuleViolation } from '../domain/decider.js';
import { brokerStream, type Actor, type UserBlocked } from '../domain/identity/admin-events.js';
import { brokerOffice } from '../domain/identity/broker-appointment.js';
import type { Role } from '../domain/identity/events.js';
import type { UserState } from '../domain/identity/user.js';
import { messages } from '../domain/messages.js';
import type { EventMetadata } from '../infra/eventsourcing/event-store/event-store.js';
import type { Position } from '../infra/eventsourcing/event-store/position.js';
import type { CommandRouter } from '../infra/eventsourcing/command-handling/command-router.js';
import { loadStream, type CommandEnvironment } from '../infra/eventsourcing/command-handling/handle-command.js';
import { accessCommands, brokerOfficeCommands, userCommands } from './commands.js';
import type { ClaimEnvironment } from './email-claims.js';
import { findUser, findUserByEmail, registerUser, type IdentityEnvironment } from './identity.js';
import type { Profile } from '../domain/identity/events.js';

/** Finding a user by email needs the claim keys (the email-claim streams are named by a keyed hash). */
export type AdminEnvironment = ClaimEnvironment;

export type GrantableRole = Extract<Role, 'admin' | 'broker'>;

/** How long a process takes the broker in office it last read as current (ms): an appointment reaches its deals within it. */
export const BROKER_RECHECK_MS = 1_000;
const brokerReadAt = new WeakMap<object, number>();

/** The broker in office (null before the first appointment), read again from the store at most every BROKER_RECHECK_MS. */
export async function currentBrokerId(env: CommandEnvironment): Promise<string | null> {
  const readAt = brokerReadAt.get(env.cache);
  const fresh = readAt === undefined || Date.now() - readAt >= BROKER_RECHECK_MS;
  const { state } = await loadStream(env, brokerOffice, brokerStream(), fresh ? 'fresh' : 'cached');
  if (fresh) brokerReadAt.set(env.cache, Date.now());
  return state.brokerId;
}

const OPENING_DEALS: ReadonlySet<string> = new Set(['PlacePurchaseOrder', 'PlaceSellOrder', 'FailDeal']);

/** A market command that may open a deal, given the broker in office as the deal's broker (see market.ts `dealOpened`). */
export async function withBrokerInOffice<C extends { type: string }>(env: CommandEnvironment, command: C): Promise<C> {
  if (!OPENING_DEALS.has(command.type)) return command;
  const brokerId = await currentBrokerId(env);
  return brokerId === null ? command : { ...command, brokerId };
}

/**
 * A router that gives every command that may open a deal the broker in office. Any other
 * command goes to its table at once, so commands sent one after the other still queue in order.
 */
export function withBrokersInOffice<C extends { type: string }>(router: CommandRouter<C>): CommandRouter<C> {
  return {
    types: router.types,
    send(env, command, options) {
      if (!OPENING_DEALS.has(command.type)) return router.send(env, command, options);
      return withBrokerInOffice(env, command).then((stamped) => router.send(env, stamped, options));
    },
  };
}

/**
 * Appoints `userId` the broker: the appointment is decided in the one stream of appointments,
 * then the roles follow — theirs becomes `broker`, the retired broker's `trader`. Done again
 * (after a crash between the steps, or at every start-up), it changes only what did not follow.
 */
export async function appointBroker(
  env: AdminEnvironment,
  userId: string,
  by: Actor,
  metadata?: EventMetadata,
): Promise<{ appointed: boolean; retired: string | null }> {
  const appointee = await existingUser(env, userId);
  if (appointee.role === 'admin')
    throw new BusinessRuleViolation('admin_cannot_be_broker', messages.adminCannotBeBroker);
  const at = () => env.now().toISOString();
  const result = await brokerOfficeCommands.handle(env, { type: 'AppointBroker', userId, by, at: at() }, { metadata });
  await userCommands.handle(env, { type: 'ChangeRole', userId, role: 'broker', by, at: at() }, { metadata });
  const retired = result.state.previousBrokerId;
  const previous = retired === null || retired === userId ? null : await findUser(env, retired);
  if (previous?.role === 'broker') {
    await userCommands.handle(
      env,
      { type: 'ChangeRole', userId: retired!, role: 'trader', by, at: at() },
      { metadata },
    );
  }
  return { appointed: result.events.length > 0, retired: result.events.length > 0 ? retired : null };
}

/** Gives the user with this email the role: `admin`, or `broker` (an appointment, retiring the broker before). Whether it changed anything. */
export async function grantRole(env: AdminEnvironment, email: string, role: GrantableRole, by: Actor) {
  const target = await userByEmail(env, email);
  if (role === 'broker') return (await appointBroker(env, target.userId!, by)).appointed;
  if (target.role === 'broker') throw new BusinessRuleViolation('broker_cannot_be_admin', messages.brokerCannotBeAdmin);
  return changeRole(env, target, 'admin', by);
}

/**
 * Takes the role back: the user is a trader again. The broker in office keeps the role until
 * another is appointed (there is always exactly one); a broker retired otherwise (before
 * appointments were recorded) can have it taken back. Whether it changed anything.
 */
export async function revokeRole(env: AdminEnvironment, email: string, role: GrantableRole, by: Actor) {
  const target = await userByEmail(env, email);
  if (target.role !== role) return false;
  if (role === 'broker' && (await currentBrokerId(env)) === target.userId)
    throw new BusinessRuleViolation('broker_in_office', messages.brokerInOffice);
  return changeRole(env, target, 'trader', by);
}

async function changeRole(env: AdminEnvironment, target: UserState, role: Role, by: Actor): Promise<boolean> {
  const command = { type: 'ChangeRole' as const, userId: target.userId!, role, by, at: env.now().toISOString() };
  return (await userCommands.handle(env, command)).events.length > 0;
}

/** Blocks a user: their tokens are refused from now on, and the `openOrders` found pending are canceled (a process manager). */
export async function blockUser(
  env: AdminEnvironment,
  request: { userId: string; by: Actor; openOrders: UserBlocked['data']['openOrders'] },
  metadata?: EventMetadata,
): Promise<{ position: Position | null }> {
  if (request.userId === request.by) throw new BusinessRuleViolation('cannot_block_self', messages.cannotBlockYourself);
  await existingUser(env, request.userId);
  const command = { type: 'BlockUser' as const, ...request, at: env.now().toISOString() };
  return { position: (await accessCommands.handle(env, command, { metadata })).position };
}

export async function unblockUser(
  env: AdminEnvironment,
  request: { userId: string; by: Actor },
  metadata?: EventMetadata,
): Promise<{ position: Position | null }> {
  await existingUser(env, request.userId);
  const command = { type: 'UnblockUser' as const, ...request, at: env.now().toISOString() };
  return { position: (await accessCommands.handle(env, command, { metadata })).position };
}

async function existingUser(env: CommandEnvironment, userId: string): Promise<UserState> {
  const found = await findUser(env, userId);
  if (!found) throw new BusinessRuleViolation('user_not_found', messages.notFound);
  return found;
}

async function userByEmail(env: ClaimEnvironment, email: string): Promise<UserState> {
  const found = await findUserByEmail(env, email);
  if (!found) throw new BusinessRuleViolation('user_not_found', messages.notFound);
  return found;
}

/**
 * The broker account from configuration (`BROKER_EMAIL` at start-up, `by: 'configuration'`)
 * or the CLI (`broker provision`, `by: 'cli'`): created when absent, then appointed the broker
 * (retiring the one before, so a changed BROKER_EMAIL leaves one broker); its password is
 * replaced only when asked (the CLI's reset).
 */
export async function provisionBroker(
  env: IdentityEnvironment,
  credentials: { email: string; password: string; resetPassword: boolean; by?: Actor },
  profile: Profile = { firstName: 'Marketplace', lastName: 'Broker', phone: null },
): Promise<{ userId: string; created: boolean; passwordReset: boolean; roleChanged: boolean }> {
  const by = credentials.by ?? 'configuration';
  const existing = await findUserByEmail(env, credentials.email);
  if (!existing) {
    const { user: created } = await registerUser(env, {
      email: credentials.email,
      password: credentials.password,
      role: 'broker',
      ...profile,
    });
    await appointBroker(env, created.id, by);
    return { userId: created.id, created: true, passwordReset: false, roleChanged: false };
  }
  const userId = existing.userId!;
  const { appointed } = await appointBroker(env, userId, by);
  let passwordReset = false;
  if (credentials.resetPassword && !(await env.passwords.verify(credentials.password, existing.passwordHash!))) {
    const passwordHash = await env.passwords.hash(credentials.password);
    await userCommands.handle(env, { type: 'ChangePassword', userId, passwordHash, at: env.now().toISOString() });
    passwordReset = true;
  }
  return { userId, created: false, passwordReset, roleChanged: appointed || existing.role !== 'broker' };
}
