/**
 * The operator's command line: `npm run cli -- <command>`.
 *   projections status              each projection's checkpoint, lag, parked events, who runs it
 *   projections rebuild <name>      drop the view and replay it from the start
 *   projections rebuild --all       the same for every projection
 *   config                          the configuration variables (the README's table)
 */
import { allHandlers } from '../../projections/index.js';
import { ConfigError, configurationTable, loadConfig } from '../config/config.js';
import { createLogger } from '../log.js';
import { openSystem } from '../system.js';
import { formatTable, projectionStatus, rebuild } from './projections.js';

const USAGE = `usage: npm run cli -- <command>

commands:
  projections status              checkpoint, lag (events), parked events and owner of each projection
  projections rebuild <name>      drop a projection's view and replay it from the start
  projections rebuild --all       rebuild every projection
  config                          the configuration variables as a Markdown table
  help                            this text

projections: ${allHandlers.map((h) => h.name).join(', ')}
configuration: the same environment variables as the server (see README.md)`;

class UsageError extends Error {}

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
  if (group !== 'projections' || (command !== 'status' && command !== 'rebuild')) {
    throw new UsageError(`unknown command "${args.join(' ')}"`);
  }
  const targets = command === 'rebuild' ? rebuildTargets(rest) : [];
  const config = loadConfig();
  const system = await openSystem(config, createLogger(config.logLevel, 'stderr'), 'cli');
  try {
    if (command === 'status') {
      const { rows, parked } = await projectionStatus(allHandlers, system);
      console.log(formatTable(rows));
      if (parked.length > 0) console.log(`\nparked events:\n${parked.map((p) => `  ${p}`).join('\n')}`);
      return 0;
    }
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
  if (target === '--all') return allHandlers.map((h) => h.name);
  if (!allHandlers.some((h) => h.name === target)) {
    throw new UsageError(`unknown projection "${target}"; known: ${allHandlers.map((h) => h.name).join(', ')}`);
  }
  return [target];
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
