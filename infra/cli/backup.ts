/**
 * `npm run cli -- backup <dir>` and `npm run cli -- restore <dir>`: the embedded stores of
 * DATA_DIR, copied while the server runs, and put back into an empty data directory.
 *
 * **A consistent backup**: each database is copied as of one commit by SQLite's online
 * backup (infra/sqlite/backup.ts), and the read side first: `read.db` (the read models,
 * their checkpoints, parked events), then `idempotency.db` (kept answers, claims), then
 * `events.db`, then `personal-keys.db` (a user's key is stored before any event sealed with it,
 * so every event copied finds its key). Whatever a read model or a kept answer shows was appended before it was
 * copied, so the events copied afterwards hold it: the read models' checkpoints are never
 * ahead of the events, and a restored server's projections catch up with what was appended
 * between the two copies. The signing keys (jwt-signing-key.json, jwt-keys/) go with them,
 * so tokens stay valid, and the email-claim secret, without which the claim streams of the
 * addresses already taken would not be found again. `backup.json`, written last, lists every file with its size and
 * SHA-256: a directory without it is not a finished backup.
 *
 * **A restore** checks every file against `backup.json`, copies them into a directory
 * beside DATA_DIR (0700, files 0600) and renames it into place, so DATA_DIR is either
 * absent/empty or whole; it refuses a DATA_DIR that holds anything.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, readFile, rename, rmdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { keyRingDirName } from '../auth/key-ring.js';
import { generatedKeyFileName, syncDirectory, writeDurably } from '../auth/keys.js';
import { CLAIM_SECRET_FILE } from '../personal-data/claim-keys.js';
import { ConfigError, type Config } from '../config/config.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../composition-root/data-dir.js';
import { backupDatabase, forgetLeases, lastEventPosition } from '../sqlite/backup.js';

export const BACKUP_USAGE = `  backup <dir>                    a consistent copy of the embedded stores and signing keys,
                                  taken while the server runs, into a new or empty <dir>
  restore <dir>                   a backup into DATA_DIR, which must be absent or empty`;

export const MANIFEST = 'backup.json';

/** In copying order: the read side before the events. */
const DATABASES = ['read.db', 'idempotency.db', 'events.db', 'personal-keys.db'] as const;

/** What a backup may hold: nothing else is ever restored (no path leaves DATA_DIR). */
const BACKED_UP_FILE =
  /^(read\.db|idempotency\.db|events\.db|personal-keys\.db|email-claim\.secret|jwt-signing-key\.json|jwt-keys\/\d{6}\.json)$/;

export interface Manifest {
  format: 'marketplace-backup';
  version: 1;
  createdAt: string;
  /** The position of the last event copied. */
  eventsUpTo: number;
  files: Array<{ name: string; bytes: number; sha256: string }>;
}

export async function backupCommand(config: Config, command: 'backup' | 'restore', dir: string): Promise<number> {
  if (config.eventStore !== 'embedded' || config.readStore !== 'embedded') {
    throw new ConfigError(
      `${command} copies the embedded stores (EVENT_STORE=embedded, READ_STORE=embedded); EventStoreDB and MongoDB are backed up with their own tools (README, "Backups")`,
    );
  }
  if (command === 'backup') {
    const manifest = await backUp(config.dataDir, dir);
    console.log(
      `backed up ${config.dataDir} into ${dir}: ${manifest.files.map((f) => f.name).join(', ')}; events up to position ${manifest.eventsUpTo}`,
    );
  } else {
    const manifest = await restore(dir, config.dataDir);
    console.log(
      `restored ${dir} (taken ${manifest.createdAt}, events up to position ${manifest.eventsUpTo}) into ${config.dataDir}`,
    );
  }
  return 0;
}

/** Copies DATA_DIR's stores and keys into `target` (created 0700; it must be absent or empty). */
export async function backUp(dataDir: string, target: string): Promise<Manifest> {
  if (!existsSync(join(dataDir, 'events.db')) || !existsSync(join(dataDir, 'read.db')))
    throw new ConfigError(`DATA_DIR (${dataDir}) holds no embedded stores to back up (events.db, read.db)`);
  await emptyDirectory(target, 'the backup directory');
  const names: string[] = [];
  for (const database of DATABASES) {
    if (!existsSync(join(dataDir, database))) continue;
    await backupDatabase(join(dataDir, database), join(target, database));
    names.push(database);
  }
  forgetLeases(join(target, 'read.db'));
  names.push(...(await copyKeys(dataDir, target)));
  const manifest: Manifest = {
    format: 'marketplace-backup',
    version: 1,
    createdAt: new Date().toISOString(),
    eventsUpTo: lastEventPosition(join(target, 'events.db')),
    files: await Promise.all(names.map(async (name) => ({ name, ...(await fingerprint(join(target, name))) }))),
  };
  await writeDurably(join(target, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await syncDirectory(target);
  return manifest;
}

/** The signing keys kept in DATA_DIR, copied 0600; their names. */
async function copyKeys(from: string, to: string): Promise<string[]> {
  const ring = (await readdir(join(from, keyRingDirName)).catch(() => [])).map((n) => `${keyRingDirName}/${n}`);
  const names = [generatedKeyFileName, CLAIM_SECRET_FILE, ...ring].filter((name) => BACKED_UP_FILE.test(name));
  const copied: string[] = [];
  for (const name of names) {
    if (!existsSync(join(from, name))) continue;
    await copyPrivately(join(from, name), join(to, name));
    copied.push(name);
  }
  return copied;
}

/** Puts the backup in `source` into `dataDir`, which must be absent or empty. */
export async function restore(source: string, dataDir: string): Promise<Manifest> {
  const manifest = await readManifest(source);
  for (const file of manifest.files) {
    const found = await fingerprint(join(source, file.name)).catch(() => undefined);
    if (!found || found.bytes !== file.bytes || found.sha256 !== file.sha256)
      throw new ConfigError(`${join(source, file.name)} is missing or not the file backed up (size or SHA-256 differ)`);
  }
  const existed = existsSync(dataDir);
  if (existed && (await readdir(dataDir)).length > 0)
    throw new ConfigError(`DATA_DIR (${dataDir}) is not empty: restore only into an absent or empty directory`);
  const staging = `${resolve(dataDir)}.restoring-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  try {
    for (const file of manifest.files) await copyPrivately(join(source, file.name), join(staging, file.name));
    await syncDirectory(staging);
    if (existed) await rmdir(dataDir);
    await rename(staging, dataDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  await chmod(dataDir, PRIVATE_DIRECTORY_MODE);
  await syncDirectory(dirname(resolve(dataDir)));
  return manifest;
}

async function readManifest(source: string): Promise<Manifest> {
  const path = join(source, MANIFEST);
  let manifest: Partial<Manifest>;
  try {
    manifest = JSON.parse(await readFile(path, 'utf8')) as Partial<Manifest>;
  } catch (error) {
    throw new ConfigError(`${path} cannot be read (${(error as Error).message}): not a finished backup`);
  }
  const files = Array.isArray(manifest.files) ? manifest.files : [];
  if (manifest.format !== 'marketplace-backup' || manifest.version !== 1 || files.length === 0)
    throw new ConfigError(`${path} is not a backup this build can restore (format marketplace-backup, version 1)`);
  const stray = files.find((f) => typeof f?.name !== 'string' || !BACKED_UP_FILE.test(f.name));
  if (stray) throw new ConfigError(`${path} names a file a backup never holds: ${JSON.stringify(stray?.name)}`);
  if (!files.some((f) => f.name === 'events.db') || !files.some((f) => f.name === 'read.db'))
    throw new ConfigError(`${path} lacks events.db or read.db`);
  return manifest as Manifest;
}

/** Creates `dir` 0700, or accepts it when it exists and is empty. */
async function emptyDirectory(dir: string, what: string): Promise<void> {
  if (existsSync(dir)) {
    if (!(await stat(dir)).isDirectory() || (await readdir(dir)).length > 0)
      throw new ConfigError(`${what} (${dir}) is not empty: give a new or empty directory`);
    return;
  }
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
}

/** A copy readable by its owner only (its directory 0700), flushed to disk. */
async function copyPrivately(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  await copyFile(from, to);
  await chmod(to, PRIVATE_FILE_MODE);
  const handle = await open(to, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fingerprint(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
