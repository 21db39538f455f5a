/**
 * `npm run cli -- parked list [name]`, `parked retry <id|--all>`,
 * `parked skip <id|--all> --reason "…"` (see parked.ts). Exit code 1 when a retry failed again.
 */
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log/log.js';
import { refuseSecondRunnerProcess } from '../mongodb/ferretdb-guard.js';
import { openSystem, type System } from '../composition-root/system.js';
import {
  formatParked,
  listParkedEvents,
  parkedTargets,
  retryProcessSteps,
  skipParked,
  type ParkedTools,
  type RetryOutcome,
} from './parked.js';
import { rebuild } from './projections.js';
import { UsageError } from './usage-error.js';

export const PARKED_USAGE = `  parked list [name]              the events projections and process managers parked, with the
                                  deal or order each process manager's holds up
  parked retry <id|--all>         handle a process manager's parked event again (unparked once it
                                  succeeds); a projection's is retried by rebuilding the projection
  parked skip <id> --reason <why> never handle it: the reason is kept as an event in the event store`;

export async function runParkedCommand(command: string | undefined, rest: string[]): Promise<number> {
  const action = parkedAction(command, rest);
  const config = loadConfig();
  const system = await openSystem(config, createLogger(config.logLevel, 'stderr'), 'cli');
  try {
    return await action(system);
  } finally {
    await system.close();
  }
}

/** What the command line asks for, checked before any store is opened. */
function parkedAction(command: string | undefined, rest: string[]): (system: System) => Promise<number> {
  if (command === 'list' && rest.length <= 1) {
    return async (system) => {
      console.log(formatParked(await listParkedEvents(toolsOf(system), rest[0])));
      return 0;
    };
  }
  if (command === 'retry' && rest.length === 1) return (system) => retry(system, rest[0]!);
  if (command === 'skip') {
    const [target, flag, reason, ...more] = rest;
    if (!target || flag !== '--reason' || !reason?.trim() || more.length > 0 || target === '--all') {
      throw new UsageError('parked skip takes one parked event id and --reason "<why>"');
    }
    return async (system) => {
      const tools = toolsOf(system);
      report(await skipParked(tools, await parkedTargets(tools, target), reason.trim()));
      return 0;
    };
  }
  throw new UsageError(`unknown command "parked ${[command, ...rest].join(' ')}"`);
}

async function retry(system: System, target: string): Promise<number> {
  const tools = toolsOf(system);
  const { outcomes, projections } = await retryProcessSteps(tools, await parkedTargets(tools, target));
  report(outcomes);
  if (projections.length > 0) await refuseSecondRunnerProcess(system, 'parked retry');
  for (const name of projections) {
    const runner = system.runners.find((r) => r.handler.name === name)!;
    await rebuild(runner, system.eventStore);
    const still = (await system.readStore.listParked(name)).length;
    console.log(`${name}: rebuilt to retry its parked events; ${still} parked again`);
    if (still > 0) outcomes.push({ id: name, ok: false, what: 'parked again' });
  }
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

function report(outcomes: RetryOutcome[]): void {
  for (const o of outcomes) console.log(`${o.id}: ${o.what}`);
}

function toolsOf(system: System): ParkedTools {
  const { eventStore, readStore, handlers, services } = system;
  return { eventStore, readStore, handlers, services };
}
