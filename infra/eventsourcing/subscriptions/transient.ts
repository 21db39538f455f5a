import { EventStoreUnavailable } from '../event-store/event-store.js';

/**
 * Storage and connection faults: the store is unreachable, busy, out of space, read-only or
 * failing its I/O for a while. None says anything about the event being handled, so a
 * runner waits them out for as long as they last (retries.ts) and never parks an event for
 * one: a process manager's step that failed on a full disk runs once the disk has room.
 */
const SQLITE_FAULTS: ReadonlySet<string> = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
  'SQLITE_NOMEM',
]);

/** The operating system's, for files and sockets alike. */
const SYSTEM_FAULTS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOSPC',
  'EIO',
  'EROFS',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'EBUSY',
]);

/**
 * MongoDB's server codes for a primary stepping down or shutting down, a node or network
 * unreachable, a time limit, a write conflict, and a disk out of space (14031).
 */
const MONGO_FAULT_CODES: ReadonlySet<number> = new Set([
  6, 7, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 14031,
]);

/** The labels MongoDB's driver puts on errors it would retry itself. */
const MONGO_FAULT_LABELS = ['RetryableWriteError', 'TransientTransactionError', 'NetworkError', 'ResetPool'];

const MONGO_FAULT_NAMES = /^Mongo(Network|ServerSelection|NotConnected|Topology|PoolCleared|WriteConcern)/;

/**
 * Failures worth waiting out (a storage or connection fault) as opposed to an event a
 * handler cannot process. The first are retried without limit; the second are parked.
 * A fault wrapped as the `cause` of another error counts as the fault.
 */
export function isTransient(error: unknown): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (isFault(e)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function isFault(error: unknown): boolean {
  if (error instanceof EventStoreUnavailable) return true;
  const { name, code, errorLabels } = error as { name?: unknown; code?: unknown; errorLabels?: unknown };
  if (typeof name === 'string' && MONGO_FAULT_NAMES.test(name)) return true;
  if (typeof name === 'string' && name.startsWith('Mongo') && typeof code === 'number' && MONGO_FAULT_CODES.has(code))
    return true;
  if (Array.isArray(errorLabels) && errorLabels.some((label) => MONGO_FAULT_LABELS.includes(label))) return true;
  if (typeof code !== 'string') return false;
  // Extended SQLite codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED…) are their primary code's kind.
  const primary = code.startsWith('SQLITE_') ? code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1') : code;
  return SQLITE_FAULTS.has(primary) || SYSTEM_FAULTS.has(code);
}

/** What kind of fault `error` is, for the log: its code or name. */
export function faultName(error: unknown): string {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  if (code !== undefined) return String(code);
  return typeof name === 'string' ? name : 'unknown';
}
