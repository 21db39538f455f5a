import { pino, type Logger } from 'pino';
import type { RunnerLog } from '../eventsourcing/subscriptions/runner.js';

export type { Logger } from 'pino';

/** JSON lines (one object per line, ready for any log shipper), on stdout unless told otherwise. */
export function createLogger(level: string, destination: 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino({ level, base: { service: 'marketplace' } }, pino.destination(destination === 'stdout' ? 1 : 2));
}

/** The runner's narrow logging needs, served by pino (message last, fields first). */
export function runnerLog(logger: Logger): RunnerLog {
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
