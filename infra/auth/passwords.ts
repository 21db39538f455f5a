/**
 * Password hashing with scrypt (memory-hard, in node itself). The stored string carries
 * its own parameters, `scrypt$N$r$p$salt$hash` (salt and hash base64url), so the cost can
 * be raised later: old hashes still verify, and `needsRehash` tells the login to store a
 * new one while it has the password in hand.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

interface Parameters {
  N: number;
  r: number;
  p: number;
}

/**
 * N = 2^14, r = 8 (16 MiB): the largest N whose hash stays within the 50–100 ms budget on
 * the reference machine, where each login competes with token verification for the same
 * two cores (docs/PERFORMANCE.md, "Why the code is as it is", "Password hashing"). Raise
 * N here as hardware allows; `needsRehash` then upgrades users as they sign in.
 */
export const currentParameters: Readonly<Parameters> = Object.freeze({ N: 2 ** 14, r: 8, p: 1 });
const saltBytes = 16;
const hashBytes = 32;

/**
 * Refuse stored strings that would make us spend unbounded memory or time (a corrupted
 * or planted row must not take the server down): N from 2^10, p up to 16, up to 256 MiB
 * and N·r·p up to 2^22 (32 times today's cost).
 */
const maxMemory = 256 * 1024 * 1024;
const maxWork = 2 ** 22;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltBytes);
  const hash = await derive(password, salt, hashBytes, currentParameters);
  const { N, r, p } = currentParameters;
  return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** False for a wrong password and for a stored string we cannot read: both mean "no". */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, hashBytes, parsed);
  return timingSafeEqual(candidate, parsed.hash);
}

/** True when `stored` was made with other parameters than a new hash would be (or is unreadable). */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  if (!parsed) return true;
  const { N, r, p } = currentParameters;
  return parsed.N !== N || parsed.r !== r || parsed.p !== p;
}

/** The shape `command-handlers/identity.ts` expects of its password hashing. */
export const scryptPasswords = { hash: hashPassword, verify: verifyPassword };

function derive(password: string, salt: Buffer, length: number, { N, r, p }: Parameters): Promise<Buffer> {
  // NFKC: the same password typed on another keyboard or OS can arrive as other code
  // points (composed vs decomposed accents); NIST SP 800-63B asks for this normalisation.
  // (scrypt keys HMAC with the password, which pads short keys with zero bytes, so "pw"
  // and "pw\0" hash alike; a password policy refusing control characters covers that.)
  const normalised = password.normalize('NFKC');
  // scrypt needs 128·r·(N + 2 + p) bytes; node's default cap (32 MiB) is too tight for
  // raised parameters. Twice 128·N·r covers it, as parse keeps p ≤ 16 and N ≥ 2^10.
  const options: ScryptOptions = { N, r, p, maxmem: 2 * 128 * N * r };
  return new Promise((resolve, reject) => {
    scrypt(normalised, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const storedPattern = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/;

function parse(stored: unknown): (Parameters & { salt: Buffer; hash: Buffer }) | null {
  if (typeof stored !== 'string') return null;
  const match = storedPattern.exec(stored);
  if (!match) return null;
  const [, n = '', r = '', p = '', saltText = '', hashText = ''] = match;
  const parameters = { N: Number(n), r: Number(r), p: Number(p) };
  const isPowerOfTwo = (parameters.N & (parameters.N - 1)) === 0;
  if (!isPowerOfTwo || parameters.N < 2 ** 10 || parameters.r < 1 || parameters.p < 1 || parameters.p > 16) return null;
  if (128 * parameters.N * parameters.r > maxMemory || parameters.N * parameters.r * parameters.p > maxWork)
    return null;
  const salt = Buffer.from(saltText, 'base64url');
  const hash = Buffer.from(hashText, 'base64url');
  // Re-encoding must give back the text: node's decoder skips characters it does not
  // know and ignores stray bits, and a tampered string should read as unreadable.
  if (salt.toString('base64url') !== saltText || hash.toString('base64url') !== hashText) return null;
  // scrypt's output is a prefix of any longer output, so a shortened hash would still match:
  // only the full length counts.
  if (salt.length < saltBytes || hash.length !== hashBytes) return null;
  return { ...parameters, salt, hash };
}
