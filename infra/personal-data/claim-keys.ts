/**
 * Claim keys: what names an email address's claim stream (`email-<claim key>`), a keyed
 * hash of the normalised address (HMAC-SHA256), so no stream name carries an address and
 * nobody without the secret can tell from the log which addresses are registered.
 *
 * The secret comes from `EMAIL_CLAIM_SECRET` (which every process of a deployment must then
 * share), or else from `DATA_DIR/email-claim.secret`, generated on first start like the
 * signing key: several processes starting together on an empty directory agree on one
 * (each links its own file to the name; the first link wins). Changing the secret loses
 * every claim made with the old one: keep it with the data.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmailClaimKeys } from '../../command-handlers/identity.js';
import { normaliseEmail } from '../../domain/identity/events.js';
import { ConfigError } from '../config/settings.js';

export const CLAIM_SECRET_FILE = 'email-claim.secret';
const SECRET_BYTES = 32;
/** The claim key's scheme: a new one (another hash) would be `h2-`. */
const SCHEME = 'h1-';

export function emailClaimKeys(secret: Buffer): EmailClaimKeys {
  if (secret.length < 16) throw new ConfigError('EMAIL_CLAIM_SECRET: expected at least 16 bytes');
  return {
    of: (email) => SCHEME + createHmac('sha256', secret).update(normaliseEmail(email), 'utf8').digest('hex'),
  };
}

/** The configured secret (base64 or hex text), or the one kept in the data directory (made when missing). */
export async function loadClaimSecret(configured: string | undefined, dataDir: string): Promise<Buffer> {
  if (configured !== undefined) {
    const secret = /^[0-9a-f]+$/i.test(configured) ? Buffer.from(configured, 'hex') : Buffer.from(configured, 'base64');
    if (secret.length < 16) throw new ConfigError('EMAIL_CLAIM_SECRET: expected at least 16 bytes (hex or base64)');
    return secret;
  }
  const path = join(dataDir, CLAIM_SECRET_FILE);
  const kept = await readSecret(path);
  if (kept) return kept;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(`${randomBytes(SECRET_BYTES).toString('hex')}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await link(temp, path);
  } catch (error) {
    // Another process linked its secret first: that one is used.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`DATA_DIR: cannot write ${path} (${(error as Error).message}); or set EMAIL_CLAIM_SECRET`);
    }
  } finally {
    await rm(temp, { force: true });
  }
  const written = await readSecret(path);
  if (!written) throw new ConfigError(`DATA_DIR: ${path} holds no secret`);
  return written;
}

async function readSecret(path: string): Promise<Buffer | null> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text === '' ? null : Buffer.from(text, 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(`DATA_DIR: cannot read ${path} (${(error as Error).message})`);
  }
}
