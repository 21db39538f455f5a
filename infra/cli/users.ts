/**
 * `npm run cli -- users grant <email> admin|broker` and `users revoke <email> admin|broker`:
 * the operator's role changes, recorded with `by: 'cli'`. Granting `broker` appoints the one
 * broker and retires the one before (command-handlers/admin.ts `appointBroker`).
 */
import { grantRole, revokeRole, type GrantableRole } from '../../command-handlers/admin.js';
import { loadConfig } from '../config/config.js';
import { openSystem } from '../composition-root/system.js';
import { createLogger } from '../log/log.js';

export const USERS_USAGE = `  users grant <email> admin|broker
                                  give the user the role; granting broker appoints them the one
                                  broker and makes the broker before a trader
  users revoke <email> admin|broker
                                  make the user a trader again (the broker in office stays until
                                  another is appointed)`;

/** Why the arguments cannot be run; null when they can. */
function usageError(args: string[]): string | null {
  const [command, email, role, ...rest] = args;
  if (command !== 'grant' && command !== 'revoke') return `unknown command "users ${args.join(' ')}"`;
  if (!email || !/^\S+@\S+\.\S+$/.test(email)) return `users ${command} needs <email address>`;
  if (role !== 'admin' && role !== 'broker') return `users ${command} needs a role: admin or broker`;
  if (rest.length > 0) return `unexpected argument "${rest[0]}"`;
  return null;
}

/** Runs `users grant|revoke <email> <role>` (the arguments after `users`); a usage error prints `usage` and exits 64. */
export async function runUsers(args: string[], usage: string): Promise<number> {
  const error = usageError(args);
  if (error !== null) {
    console.error(`${error}\n\n${usage}`);
    return 64;
  }
  const [command, email, role] = args as ['grant' | 'revoke', string, GrantableRole];
  const config = loadConfig();
  const system = await openSystem(config, createLogger(config.logLevel, 'stderr'), 'cli');
  try {
    const change = command === 'grant' ? grantRole : revokeRole;
    const changed = await change(system.services, email, role, 'cli');
    const what =
      command === 'grant' ? `given the ${role} role` : `no longer ${role === 'admin' ? 'an admin' : 'the broker'}`;
    console.log(`${email}: ${changed ? what : 'unchanged'}`);
    return 0;
  } finally {
    await system.close();
  }
}
