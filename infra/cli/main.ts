/**
 * The operator's command line: `npm run cli -- <command>`.
 *   projections status              each projection's checkpoint, lag, parked events, who runs it
 *   projections rebuild <name>      drop the view and replay it from the start
 *   projections rebuild --all       the same for every projection
 *   broker provision --email E --password P   create the broker, or reset its password
 *   users grant|revoke <email> admin|broker   change a user's role (see users.ts)
 *   parked list|retry|skip          events projections and process managers parked (parked-command.ts)
 *   check                           the event store's consistency (check-command.ts)
 *   config                          the configuration variables (the README's table)
 *   keys rotate | keys list         the signing keys kept in DATA_DIR (keys.ts)
 *   backup <dir> | restore <dir>    the embedded stores, copied while the server runs (backup.ts)
 */
import { provisionBroker } from '../../command-handlers/admin.js';
import { projections } from '../../projections/index.js';
import { ConfigError, configurationTable, loadConfig } from '../config/config.js';
import { createLogger } from '../log/log.js';
import { refuseSecondRunnerProcess } from '../mongodb/ferretdb-guard.js';
import { openSystem } from '../composition-root/system.js';
import { BACKUP_USAGE, backupCommand } from './backup.js';
import { KEYS_USAGE, keysCommand } from './keys.js';
import { CHECK_USAGE, runCheckCommand } from './check-command.js';
import { PARKED_USAGE, runParkedCommand } from './parked-command.js';
import { formatTable, projectionStatus, rebuild } from './projections.js';
import { runUsers, USERS_USAGE } from './users.js';
import { UsageError } from './usage-error.js';

const USAGE = `usage: npm run cli -- <command>

commands:
  projections status              checkpoint, lag (events), parked events and owner of each projection
  projections rebuild <name>      drop a projection's view and replay it from the start
  projections rebuild --all       rebuild every projection
  broker provision --email <email> --password <password>
                                  create the broker account, or give an existing account the
                                  broker role and this password
${USERS_USAGE}
${PARKED_USAGE}
${CHECK_USAGE}
  config                          the configuration variables as a Markdown table
${KEYS_USAGE}
${BACKUP_USAGE}
  help                            this text

projections: ${projections.map((h) => h.name).join(', ')}
configuration: the same environment variables as the server (see README.md)`;

export async function runCli(args: string[]): Promise<number> {
  const [group, command, ...rest] = args;
  if (!group || group === 'help' || group === '--help' || group === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (group === 'config' && !command) {
    console.log(configurationTable());
    return 0;
  }
  if (group === 'broker' && command === 'provision') return provision(rest);
  if (group === 'keys' && rest.length === 0 && (await keysCommand(loadConfig(), command))) return 0;
  if ((group === 'backup' || group === 'restore') && command && rest.length === 0)
    return backupCommand(loadConfig(), group, command);
  if (group === 'users') return runUsers(args.slice(1), USAGE);
  if (group === 'parked') return runParkedCommand(command, rest);
  if (group === 'check') return runCheckCommand(command === undefined ? [] : [command, ...rest]);
  if (group !== 'projections' || (command !== 'status' && command !== 'rebuild')) {
    throw new UsageError(`unknown command "${args.join(' ')}"`);
  }
  const targets = command === 'rebuild' ? rebuildTargets(rest) : [];
  const config = loadConfig();
  const system = await openSystem(config, createLogger(config.logLevel, 'stderr'), 'cli');
  try {
    if (command === 'status') {
      const { rows, parked } = await projectionStatus(system.handlers, system);
      console.log(formatTable(rows));
      if (parked.length > 0) console.log(`\nparked events:\n${parked.map((p) => `  ${p}`).join('\n')}`);
      return 0;
    }
    await refuseSecondRunnerProcess(system, 'projections rebuild');
    for (const name of targets) {
      const runner = system.runners.find((r) => r.handler.name === name)!;
      await rebuild(runner, system.eventStore);
    }
    return 0;
  } finally {
    await system.close();
  }
}

function rebuildTargets(rest: string[]): string[] {
  if (rest.length !== 1) throw new UsageError('projections rebuild takes one projection name or --all');
  const [target] = rest as [string];
  if (target === '--all') return projections.map((h) => h.name);
  if (!projections.some((h) => h.name === target)) {
    throw new UsageError(`unknown projection "${target}"; known: ${projections.map((h) => h.name).join(', ')}`);
  }
  return [target];
}

async function provision(rest: string[]): Promise<number> {
  const options = parseOptions(rest, ['email', 'password']);
  if (!options.email || !/^\S+@\S+\.\S+$/.test(options.email))
    throw new UsageError('broker provision needs --email <email address>');
  if (!options.password || options.password.length < 5 || options.password.length > 128) {
    throw new UsageError('broker provision needs --password <5 to 128 characters>');
  }
  const config = loadConfig();
  const system = await openSystem(config, createLogger(config.logLevel, 'stderr'), 'cli');
  try {
    const result = await provisionBroker(system.services, {
      email: options.email,
      password: options.password,
      resetPassword: true,
      by: 'cli',
    });
    const what = result.created
      ? 'created'
      : [
          result.roleChanged ? 'given the broker role' : 'already the broker',
          result.passwordReset ? 'password reset' : 'password unchanged',
        ].join(', ');
    console.log(`broker ${options.email} (${result.userId}): ${what}`);
    return 0;
  } finally {
    await system.close();
  }
}

/** `--name value` pairs; anything else is a usage error. */
function parseOptions(args: string[], names: string[]): Record<string, string | undefined> {
  const options: Record<string, string | undefined> = {};
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]?.replace(/^--/, '');
    if (!name || !args[i]!.startsWith('--') || !names.includes(name) || args[i + 1] === undefined) {
      throw new UsageError(`unexpected argument "${args[i]}"`);
    }
    options[name] = args[i + 1];
  }
  return options;
}

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
    else if (error instanceof ConfigError) console.error(`configuration error: ${error.message}`);
    else console.error(`failed: ${(error as Error).message}`);
    process.exit(error instanceof UsageError ? 64 : 1);
  },
);
