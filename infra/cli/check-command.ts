/** `npm run cli -- check [--grace-seconds N]` (see check.ts). */
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log/log.js';
import { openSystem } from '../composition-root/system.js';
import { auditEventStore, formatFindings } from './check.js';
import { UsageError } from './usage-error.js';

export const CHECK_USAGE = `  check [--grace-seconds <s>]     consistency of the event store: money conserved, every deal
                                  completed or failed (deals younger than the grace, 60 s, may be
                                  under way), units in one portfolio, orders in one state;
                                  exit code 2 on a violation`;

/** Exit code 2 when a check found a violation. */
export async function runCheckCommand(rest: string[]): Promise<number> {
  const graceMs = graceOf(rest) * 1000;
  const config = loadConfig();
  const system = await openSystem(config, createLogger(config.logLevel, 'stderr'), 'cli');
  try {
    const results = await auditEventStore(system.eventStore, new Date(), graceMs);
    console.log(formatFindings(results));
    return results.every((r) => r.ok) ? 0 : 2;
  } finally {
    await system.close();
  }
}

function graceOf(rest: string[]): number {
  if (rest.length === 0) return 60;
  const [flag, value, ...more] = rest;
  const seconds = Number(value);
  if (flag !== '--grace-seconds' || more.length > 0 || !Number.isInteger(seconds) || seconds < 0) {
    throw new UsageError('check takes only --grace-seconds <whole seconds, 0 or more>');
  }
  return seconds;
}
