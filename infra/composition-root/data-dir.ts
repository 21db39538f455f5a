/**
 * `DATA_DIR` holds the event log, the read models and the kept answers (users' emails,
 * names, balances, password hashes) and may hold the generated signing key: only the
 * account the server runs as may open any of it. The directory is created 0700 and each
 * file of the embedded stores 0600, whatever the process's umask:
 *
 * - a database file is created empty (a valid, empty SQLite database) with mode 0600 before
 *   SQLite opens it, and SQLite gives its `-wal`, `-shm` and `-journal` files the mode of
 *   the database file;
 * - a file left more open by an earlier build (SQLite's default is 0644 less the umask) is
 *   closed down to 0600 at start-up, with a line saying so;
 * - a directory that already existed is the operator's: one its group or others can enter is
 *   reported (a warning), not changed.
 */
import { CLAIM_SECRET_FILE } from '../personal-data/claim-keys.js';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { keyRingDirName } from '../auth/key-ring.js';
import { generatedKeyFileName } from '../auth/keys.js';
import { ConfigError, type Config } from '../config/config.js';

export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Where the data directory's changes and doubts are told (pino's signature). */
export interface DataDirLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The files of the embedded stores this configuration uses (besides the signing key, written by infra/auth/keys.ts, and the email-claim secret, by infra/personal-data/claim-keys.ts). */
export function embeddedDatabaseFiles(config: Pick<Config, 'eventStore' | 'readStore'>): string[] {
  return [
    ...(config.eventStore === 'embedded' ? ['events.db'] : []),
    ...(config.readStore === 'embedded' ? ['read.db', 'idempotency.db', 'personal-keys.db'] : []),
  ];
}

/** What SQLite keeps beside a database file. */
const COMPANIONS = ['-wal', '-shm', '-journal'];

/** Creates the data directory and the embedded stores' files private to this user; reports what it cannot make so. */
export function prepareDataDir(config: Pick<Config, 'dataDir' | 'eventStore' | 'readStore'>, log: DataDirLog): void {
  const { dataDir } = config;
  const databases = embeddedDatabaseFiles(config);
  const existed = existsSync(dataDir);
  // Without an embedded store the directory only matters for a generated key (made by keys.ts, 0700 too).
  if (!existed && databases.length === 0) return;
  if (!existed) {
    try {
      mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    } catch (error) {
      throw new ConfigError(`DATA_DIR: cannot create ${dataDir} (${(error as Error).message})`);
    }
  }
  const stats = statSync(dataDir);
  if (!stats.isDirectory()) throw new ConfigError(`DATA_DIR (${dataDir}) is not a directory`);
  if (process.platform === 'win32') return;
  const mode = stats.mode & 0o777;
  if (existed && (mode & 0o077) !== 0) {
    log.warn(
      { dataDir, mode: octal(mode) },
      `DATA_DIR (${dataDir}) is open to users other than its owner (mode ${octal(mode)}): it holds every user's data; chmod 700 it`,
    );
  }
  for (const database of databases) {
    const file = join(dataDir, database);
    // Created before SQLite opens it, so that it, and the WAL files SQLite derives from it, are private.
    if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
    for (const name of [database, ...COMPANIONS.map((suffix) => database + suffix)])
      makePrivate(join(dataDir, name), log);
  }
  makePrivate(join(dataDir, generatedKeyFileName), log);
  // The keys `keys rotate` added (written 0600; one copied in by hand may not be).
  const ring = join(dataDir, keyRingDirName);
  const rotated = existsSync(ring) ? readdirSync(ring) : [];
  for (const name of rotated) makePrivate(join(ring, name), log);
  makePrivate(join(dataDir, CLAIM_SECRET_FILE), log);
}

/** Takes group's and others' permissions off a file of ours (when it exists and has any). */
function makePrivate(file: string, log: DataDirLog): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return;
  }
  if ((mode & 0o077) === 0) return;
  // The owner keeps what it had; group and others lose everything.
  const tightened = mode & 0o700;
  try {
    chmodSync(file, tightened);
    log.info(
      { file, was: octal(mode), mode: octal(tightened) },
      `made ${file} private to its owner (mode ${octal(tightened)}, was ${octal(mode)})`,
    );
  } catch (error) {
    log.warn(
      { file, mode: octal(mode), err: error },
      `${file} is open to users other than its owner (mode ${octal(mode)}) and could not be made private; chmod 600 it`,
    );
  }
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
