/**
 * The signing keys over time: the newest signs, the older ones still verify (and stay in
 * the JWKS) until the last token they can have signed has expired.
 *
 * **Kept in files, in `DATA_DIR`**, never in a database: a private key in the read store
 * would travel with every dump and replica of it, and be readable by whoever may read the
 * read models. The first key is `DATA_DIR/jwt-signing-key.json` (generated once, as
 * before rotation existed); `npm run cli -- keys rotate` adds `DATA_DIR/jwt-keys/<n>.json`
 * (`{ createdAt, key }`, the key a private JWK, files 0600 in a 0700 directory), numbered
 * so the newest is the highest whatever the clocks say, and made with `link` so two
 * rotations at once cannot take the same number. Every process that signs or verifies
 * must see the same `DATA_DIR` (the compose file's shared volume); a key given by the
 * environment (`JWT_PRIVATE_KEY`, `JWT_KEY_FILE`) is a ring of one that does not rotate.
 *
 * **How the processes agree without polling**: before signing (a login, rare and already
 * slow) and before serving the JWKS a process `stat`s the ring (the directory and the
 * first key's file) and reads it again when either changed, so once `keys rotate` returns,
 * every process signs with the new key. A token whose `kid` a process does not know makes
 * it look again the same way, so a token signed by a process that saw the new key first is
 * accepted everywhere. Verifying a known key touches no file.
 *
 * **When an old key goes**: its successor's `createdAt` is when it stopped signing, so
 * its last token expires at most `createdAt + token lifetime` later (plus
 * `CLOCK_SKEW_ALLOWANCE_MS` for clocks of other hosts). Until then it is live (listed and
 * accepted); from then on it is neither, and `keys rotate` deletes its file.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { ConfigError } from '../config/settings.js';
import {
  defaultAlgorithm,
  fromJwkText,
  generate,
  generatedKeyFileName,
  loadSigningKeys,
  publicJwkOf,
  readIfPresent,
  syncDirectory,
  warnIfOthersCanRead,
  writeDurably,
  type SigningAlgorithm,
  type SigningKeys,
} from './keys.js';

export const keyRingDirName = 'jwt-keys';

/** How far the clocks of the hosts that sign and verify may disagree. */
export const CLOCK_SKEW_ALLOWANCE_MS = 60_000;

export interface RingKey {
  keys: SigningKeys;
  /** When it started signing (ms since the epoch); 0 for the first key, which had no predecessor. */
  createdAt: number;
  /** Where it is kept; undefined for a key given by the environment. */
  file?: string;
}

export interface KeyRing {
  /** The keys as last read, oldest first (never empty). */
  keys(): readonly RingKey[];
  /** Reads the ring again if it changed on disk since (two `stat`s when it did not). */
  refresh(): Promise<void>;
}

/** The keys still live at `now`, newest first: the newest, and each older one until its last token has expired. */
export function liveKeys(ring: readonly RingKey[], now: number, lifetimeMs: number): RingKey[] {
  const live: RingKey[] = [];
  for (let i = ring.length - 1; i >= 0; i--) {
    const successor = ring[i + 1];
    if (!successor || successor.createdAt + lifetimeMs + CLOCK_SKEW_ALLOWANCE_MS > now) live.push(ring[i]!);
  }
  return live;
}

/** A ring of one key given by the environment: nothing to read again, nothing to rotate. */
export function fixedKeyRing(keys: SigningKeys): KeyRing {
  const ring = [{ keys, createdAt: 0 }];
  return { keys: () => ring, refresh: async () => undefined };
}

/**
 * The ring kept in `dataDir`; with no key there yet, the first is generated (as
 * `loadSigningKeys` always did, safe when several processes start together).
 */
export async function openKeyRing(
  dataDir: string,
  options: { algorithm?: SigningAlgorithm; warn?: (message: string) => void } = {},
): Promise<KeyRing> {
  let ring = await readKeyRing(dataDir);
  if (ring.length === 0) {
    await loadSigningKeys({ dataDir, algorithm: options.algorithm, warn: options.warn });
    ring = await readKeyRing(dataDir);
  } else {
    for (const key of ring) await warnIfOthersCanRead(key.file!, 'a kept signing key', options.warn);
  }
  let seen = await ringSignature(dataDir);
  let reading: Promise<void> | null = null;
  const refresh = async () => {
    const now = await ringSignature(dataDir);
    if (now === seen) return;
    const next = await readKeyRing(dataDir);
    // A ring emptied by hand keeps the keys already read rather than signing with none.
    if (next.length > 0) ring = next;
    seen = now;
  };
  return {
    keys: () => ring,
    refresh() {
      // Concurrent callers (a burst of unknown kids) share one look at the disk.
      reading ??= refresh().finally(() => {
        reading = null;
      });
      return reading;
    },
  };
}

/** Changes whenever a key is added to or removed from the ring. */
async function ringSignature(dataDir: string): Promise<string> {
  const [dir, first] = await Promise.all(
    [join(dataDir, keyRingDirName), join(dataDir, generatedKeyFileName)].map((path) =>
      stat(path).catch(() => undefined),
    ),
  );
  const part = (s: Awaited<ReturnType<typeof stat>> | undefined) => (s ? `${s.ino}:${s.mtimeMs}:${s.size}` : '-');
  return `${part(dir)}|${part(first)}`;
}

/** Every key kept in `dataDir`, oldest first. */
export async function readKeyRing(dataDir: string): Promise<RingKey[]> {
  const ring: RingKey[] = [];
  const firstPath = join(dataDir, generatedKeyFileName);
  const first = await readIfPresent(firstPath, `DATA_DIR (${firstPath})`);
  if (first !== undefined)
    ring.push({ keys: await fromJwkText(first, `DATA_DIR (${firstPath})`), createdAt: 0, file: firstPath });
  for (const name of await ringFileNames(dataDir)) {
    const path = join(dataDir, keyRingDirName, name);
    // Removed by a rotation's clean-up since the listing: it had expired anyway.
    const text = await readIfPresent(path, `DATA_DIR (${path})`);
    if (text !== undefined) ring.push(await ringKeyOf(text, path));
  }
  return ring;
}

const RING_FILE = /^(\d{6})\.json$/;

async function ringFileNames(dataDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(dataDir, keyRingDirName));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`DATA_DIR: cannot read ${join(dataDir, keyRingDirName)} (${(error as Error).message})`);
  }
  return names.filter((name) => RING_FILE.test(name)).sort();
}

async function ringKeyOf(text: string, path: string): Promise<RingKey> {
  const source = `DATA_DIR (${path})`;
  let parsed: { createdAt?: unknown; key?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new ConfigError(`${source} is not JSON: expected { createdAt, key }`);
  }
  const createdAt = typeof parsed.createdAt === 'string' ? Date.parse(parsed.createdAt) : Number.NaN;
  if (Number.isNaN(createdAt)) throw new ConfigError(`${source}: "createdAt" must be an ISO date`);
  return { keys: await fromJwkText(JSON.stringify(parsed.key), source), createdAt, file: path };
}

export interface Rotation {
  added: RingKey;
  /** The keys still live after the rotation besides the new one, with the time each goes. */
  retiring: Array<{ kid: string; until: Date }>;
  /** The kids of the keys whose files were deleted (every token they signed has expired). */
  deleted: string[];
}

/**
 * Adds a new key to the ring kept in `dataDir` (it signs from now on, in every process) and
 * deletes the files of keys no longer live. `lifetimeMs` is the access tokens' lifetime.
 */
export async function rotateKeyRing(
  dataDir: string,
  options: { lifetimeMs: number; algorithm?: SigningAlgorithm; now?: () => number },
): Promise<Rotation> {
  const now = options.now ?? Date.now;
  const before = await readKeyRing(dataDir);
  const algorithm = options.algorithm ?? before.at(-1)?.keys.alg ?? defaultAlgorithm;
  const added = await addKey(dataDir, algorithm, now());
  const ring = [...before, added];
  const live = new Set(liveKeys(ring, now(), options.lifetimeMs));
  const deleted: string[] = [];
  for (const key of ring) {
    if (live.has(key) || !key.file) continue;
    await rm(key.file, { force: true });
    deleted.push(key.keys.kid);
  }
  await syncDirectory(dataDir);
  const retiring = before
    .filter((key) => live.has(key))
    .map((key) => ({
      kid: key.keys.kid,
      until: new Date(ring[ring.indexOf(key) + 1]!.createdAt + options.lifetimeMs + CLOCK_SKEW_ALLOWANCE_MS),
    }));
  return { added, retiring, deleted };
}

/** Writes a new key as the next number of the ring, retrying with the next when another rotation took it. */
async function addKey(dataDir: string, algorithm: SigningAlgorithm, createdAt: number): Promise<RingKey> {
  const dir = join(dataDir, keyRingDirName);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privateKey = await generate(algorithm);
  const key = { ...privateKey.export({ format: 'jwk' }), alg: algorithm, kid: await thumbprintOf(privateKey) };
  const text = `${JSON.stringify({ createdAt: new Date(createdAt).toISOString(), key }, null, 2)}\n`;
  const temp = join(dir, `.${process.pid}.${randomUUID()}.tmp`);
  await writeDurably(temp, text);
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      // Read again on every attempt: a rotation that took the number has added its file.
      const last = (await ringFileNames(dataDir)).at(-1);
      const next = last === undefined ? 1 : Number(RING_FILE.exec(last)![1]) + 1;
      const path = join(dir, `${String(next).padStart(6, '0')}.json`);
      try {
        await link(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      await syncDirectory(dir);
      return ringKeyOf(text, path);
    }
    throw new Error(`could not add a key to ${dir}: every number tried was taken`);
  } finally {
    await rm(temp, { force: true });
  }
}

function thumbprintOf(privateKey: Parameters<typeof publicJwkOf>[0]): Promise<string> {
  return calculateJwkThumbprint(publicJwkOf(privateKey));
}
