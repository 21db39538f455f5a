/**
 * `npm run cli -- keys rotate|list`: the signing keys kept in DATA_DIR (infra/auth/key-ring.ts).
 * Run on a host that sees the servers' DATA_DIR; the servers need no restart.
 */
import { CLOCK_SKEW_ALLOWANCE_MS, liveKeys, readKeyRing, rotateKeyRing } from '../auth/key-ring.js';
import { keysFromEnvironment } from '../auth/keys.js';
import { ConfigError, type Config } from '../config/config.js';

export const KEYS_USAGE = `  keys rotate                     a new signing key signs from now on; the previous ones stay in
                                  the JWKS until their last token has expired
  keys list                       the signing keys kept in DATA_DIR and until when each verifies`;

/** Runs `keys <command>`; false when the command is not one of ours. */
export async function keysCommand(config: Config, command: string | undefined): Promise<boolean> {
  if (command !== 'rotate' && command !== 'list') return false;
  if (keysFromEnvironment(config)) {
    throw new ConfigError(
      'the signing key is given by the environment (JWT_PRIVATE_KEY/JWT_PUBLIC_KEY or JWT_KEY_FILE), so it is not rotated here: unset them to let the servers keep a key ring in DATA_DIR, or replace the key where it is configured (which signs everyone out)',
    );
  }
  const lifetimeMs = config.jwtLifetimeSeconds * 1000;
  if (command === 'rotate') {
    const rotation = await rotateKeyRing(config.dataDir, { lifetimeMs });
    const { kid, alg } = rotation.added.keys;
    console.log(`key ${kid} (${alg}) signs from now on, in every server process that uses ${config.dataDir}`);
    for (const old of rotation.retiring)
      console.log(`key ${old.kid} stays in the JWKS, and verifies its tokens, until ${old.until.toISOString()}`);
    for (const kid of rotation.deleted) console.log(`key ${kid} deleted: every token it signed has expired`);
    return true;
  }
  const ring = await readKeyRing(config.dataDir);
  const live = new Set(liveKeys(ring, Date.now(), lifetimeMs));
  ring.forEach((key, i) => {
    const successor = ring[i + 1];
    const state = !successor
      ? 'signs'
      : live.has(key)
        ? `verifies until ${new Date(successor.createdAt + lifetimeMs + CLOCK_SKEW_ALLOWANCE_MS).toISOString()}`
        : 'expired (deleted by the next rotation)';
    const since = key.createdAt > 0 ? new Date(key.createdAt).toISOString() : 'first key';
    console.log(`${key.keys.kid}  ${key.keys.alg}  ${since}  ${state}`);
  });
  if (ring.length === 0) console.log(`no signing key in ${config.dataDir} yet (the first server start makes one)`);
  return true;
}
