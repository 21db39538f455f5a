/**
 * Password hashing with scrypt (memory-hard, in node itself). The stored string carries
 * its own parameters, `scrypt$N$r$p$salt$hash` (salt and hash base64url), so the cost can
 * be raised later: old hashes still verify, and `needsRehash` tells the sign-in to store a
 * new one while it has the password in hand (command-handlers/identity.ts,
 * `upgradePasswordHash`: a `UserPasswordRehashed` event).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
}

/**
 * One of the parameter sets OWASP's Password Storage Cheat Sheet gives as equivalent
 * (N=2^17 r=8 p=1, N=2^16 p=2, N=2^15 p=3, N=2^14 p=5, N=2^13 p=10): the one that keeps
 * memory bounded at 16 MiB a hash (128·N·r; node computes the p lanes one after another in
 * the same block), with p bringing the work up to the others'. Hashes made with the
 * 2^14/8/1 this replaced still verify, and are upgraded at sign-in (docs/PERFORMANCE.md,
 * "Why the code is as it is", "Password hashing", has what each costs here).
 */
export const currentParameters: Readonly<ScryptParameters> = Object.freeze({ N: 2 ** 14, r: 8, p: 5 });
const saltBytes = 16;
const hashBytes = 32;

/**
 * Refuse stored strings that would make us spend unbounded memory or time (a corrupted
 * or planted row must not take the server down): N from 2^10, p up to 16, up to 256 MiB
 * and N·r·p up to 2^22 (6.4 times today's cost).
 */
const maxMemory = 256 * 1024 * 1024;
const maxWork = 2 ** 22;

/** Hashing with one set of parameters: what a new hash is made with and what `needsRehash` compares to. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a stored string we cannot read: both mean "no". */
  verify(password: string, stored: string): Promise<boolean>;
  /** True when `stored` was made with other parameters than a new hash would be (or is unreadable). */
  needsRehash(stored: string): boolean;
}

/**
 * scrypt with `parameters` for new hashes; any stored hash verifies with its own. The server
 * uses `scryptPasswords` (today's parameters); tests that register hundreds of users may use
 * cheaper ones, on the same code.
 */
export function scryptHashing(parameters: Readonly<ScryptParameters>): PasswordHasher {
  const { N, r, p } = parameters;
  return {
    async hash(password) {
      const salt = randomBytes(saltBytes);
      const hash = await derive(password, salt, hashBytes, parameters);
      return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
    },
    async verify(password, stored) {
      const parsed = parse(stored);
      if (!parsed) return false;
      const candidate = await derive(password, parsed.salt, hashBytes, parsed);
      return timingSafeEqual(candidate, parsed.hash);
    },
    needsRehash(stored) {
      const parsed = parse(stored);
      if (!parsed) return true;
      return parsed.N !== N || parsed.r !== r || parsed.p !== p;
    },
  };
}

/** Today's parameters: what the server hashes passwords with. */
export const scryptPasswords: PasswordHasher = scryptHashing(currentParameters);

export const hashPassword = (password: string): Promise<string> => scryptPasswords.hash(password);
export const verifyPassword = (password: string, stored: string): Promise<boolean> =>
  scryptPasswords.verify(password, stored);
export const needsRehash = (stored: string): boolean => scryptPasswords.needsRehash(stored);

function derive(password: string, salt: Buffer, length: number, { N, r, p }: ScryptParameters): Promise<Buffer> {
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

function parse(stored: unknown): (ScryptParameters & { salt: Buffer; hash: Buffer }) | null {
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
