/**
 * The key pair access tokens are signed with. Three sources, in order: a PEM pair from the
 * environment (`JWT_PRIVATE_KEY` + `JWT_PUBLIC_KEY`), a private JWK file (`JWT_KEY_FILE`),
 * or a pair generated once and kept in `DATA_DIR/jwt-signing-key.json`, so tokens stay
 * valid across restarts without anyone having to make a key.
 *
 * Every source is normalised through a node `KeyObject` (which reads PKCS#8, PKCS#1, SEC1
 * and JWK alike and tells us the key's type), then imported into jose as `CryptoKey`s.
 * The algorithm always follows from the key's type, so a token can never be checked
 * with an algorithm its key was not made for.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  randomUUID,
  type JsonWebKey,
} from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import { ConfigError } from '../config/settings.js';

export const signingAlgorithms = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

/**
 * RS256 for a generated key: verification, not signing, is the CPU ceiling of this API
 * (every request verifies, only a login signs, and a login already spends a few hundred
 * ms on scrypt), and RS256 verifies fastest; it signs slower and its tokens are longer,
 * both fine at login rates. See docs/PERFORMANCE.md, "Why the code is as it is", "Access
 * tokens signed with RS256".
 */
export const defaultAlgorithm: SigningAlgorithm = 'RS256';

export const generatedKeyFileName = 'jwt-signing-key.json';

/** The public half as published in the JWKS. */
export type PublicJwk = JWK & { kid: string; alg: SigningAlgorithm; use: 'sig' };

export interface SigningKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  alg: SigningAlgorithm;
  kid: string;
  publicJwk: PublicJwk;
}

export interface KeySources {
  /** PEM text (PKCS#8, PKCS#1 or SEC1); `\n` escapes are accepted for one-line env values. */
  privateKeyPem?: string;
  /** PEM text (SPKI or PKCS#1); required together with `privateKeyPem`. */
  publicKeyPem?: string;
  /** Path of a private JWK (JSON), optionally with `kid` and `alg`. */
  jwkFile?: string;
  /** Where a generated key is kept when no key is given. */
  dataDir: string;
  /** The type of key to generate when none is given or kept; keys given are used as they are. */
  algorithm?: SigningAlgorithm;
  /** Told of a key file that users other than its owner can read (it is used all the same). */
  warn?: (message: string) => void;
}

/** Whether the signing key is given by the environment (which `keys rotate` cannot rotate) rather than kept in DATA_DIR. */
export function keysFromEnvironment(config: {
  jwtPrivateKey?: string;
  jwtPublicKey?: string;
  jwtKeyFile?: string;
}): boolean {
  return Boolean(config.jwtPrivateKey || config.jwtPublicKey || config.jwtKeyFile);
}

export async function loadSigningKeys(sources: KeySources): Promise<SigningKeys> {
  const { privateKeyPem, publicKeyPem, jwkFile } = sources;
  const pemGiven = Boolean(privateKeyPem || publicKeyPem);
  if (pemGiven && jwkFile) {
    throw new ConfigError('JWT_KEY_FILE and JWT_PRIVATE_KEY/JWT_PUBLIC_KEY are both set: set one of the two');
  }
  if (pemGiven) {
    if (!privateKeyPem || !publicKeyPem) {
      throw new ConfigError(
        `${privateKeyPem ? 'JWT_PUBLIC_KEY' : 'JWT_PRIVATE_KEY'} is missing: JWT_PRIVATE_KEY and JWT_PUBLIC_KEY are set together`,
      );
    }
    return fromPemPair(privateKeyPem, publicKeyPem);
  }
  if (jwkFile) {
    const keys = await fromJwkText(await readKeyFile(jwkFile, 'JWT_KEY_FILE'), `JWT_KEY_FILE (${jwkFile})`);
    await warnIfOthersCanRead(jwkFile, 'JWT_KEY_FILE', sources.warn);
    return keys;
  }
  const kept = await keptInDataDir(sources.dataDir, sources.algorithm ?? defaultAlgorithm);
  await warnIfOthersCanRead(join(sources.dataDir, generatedKeyFileName), 'the kept signing key', sources.warn);
  return kept;
}

/**
 * A private key file that its group or everyone can read is a key others may already have:
 * said loudly (not refused: the operator may have reasons, e.g. a group-readable secret
 * volume). Ownership and ACLs are not judged; the mode bits are what a reviewer checks first.
 */
export async function warnIfOthersCanRead(
  path: string,
  source: string,
  warn: ((message: string) => void) | undefined,
): Promise<void> {
  if (!warn || process.platform === 'win32') return;
  const mode = (await stat(path).catch(() => undefined))?.mode;
  if (mode === undefined || (mode & 0o077) === 0) return;
  warn(
    `${source} (${path}) is open to users other than its owner (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): it holds the private key access tokens are signed with; chmod 600 it`,
  );
}

// ---- PEM pair ----------------------------------------------------------------------

/** One-line environment values often carry the PEM's line breaks as literal `\n`. */
function unescapePem(pem: string): string {
  return pem.replace(/\\r\\n|\\n/g, '\n').trim();
}

async function fromPemPair(privateKeyPem: string, publicKeyPem: string): Promise<SigningKeys> {
  // Node's messages about a bad key name the decoder that failed, never the key's text.
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(unescapePem(privateKeyPem));
  } catch (error) {
    throw new ConfigError(`JWT_PRIVATE_KEY is not a readable PEM private key (${reason(error)})`);
  }
  const publicText = unescapePem(publicKeyPem);
  // createPublicKey would quietly derive the public half from a private key; a private key
  // in a variable called "public" is a leak waiting to happen, so refuse it.
  if (/PRIVATE KEY-----/.test(publicText)) {
    throw new ConfigError('JWT_PUBLIC_KEY holds a private key: give the public key (-----BEGIN PUBLIC KEY-----)');
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(publicText);
  } catch (error) {
    throw new ConfigError(`JWT_PUBLIC_KEY is not a readable PEM public key (${reason(error)})`);
  }
  const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!derived.equals(publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new ConfigError(
      'JWT_PRIVATE_KEY and JWT_PUBLIC_KEY are not a pair: JWT_PUBLIC_KEY is not the public half of JWT_PRIVATE_KEY',
    );
  }
  return complete(privateKey, {}, 'JWT_PRIVATE_KEY');
}

// ---- JWK file ----------------------------------------------------------------------

async function readKeyFile(path: string, variable: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${variable}: cannot read ${path} (${reason(error)})`);
  }
}

export async function fromJwkText(text: string, source: string): Promise<SigningKeys> {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new ConfigError(`${source} is not JSON: expected a private JWK`);
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new ConfigError(`${source} is not a JWK object`);
  const { d, kid, alg } = jwk as { d?: unknown; kid?: unknown; alg?: unknown };
  // Without `d` node would happily read a public JWK as a public key; we need to sign.
  if (typeof d !== 'string') throw new ConfigError(`${source} is not a private JWK (no "d")`);
  if (kid !== undefined && (typeof kid !== 'string' || kid === ''))
    throw new ConfigError(`${source}: "kid" must be a non-empty string`);
  if (alg !== undefined && typeof alg !== 'string') throw new ConfigError(`${source}: "alg" must be a string`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (error) {
    throw new ConfigError(`${source} is not a valid private JWK (${reason(error)})`);
  }
  return complete(privateKey, { kid, alg }, source);
}

// ---- generated once into DATA_DIR --------------------------------------------------

/**
 * Reads the kept key, or generates one. Several processes may start together on an empty
 * directory: each writes its key to a private temp file and `link`s it to the final name,
 * which (unlike `rename`) fails when the name exists. So exactly one key wins, the file
 * never appears half-written, and every process (winner or not) uses what is on disk.
 */
async function keptInDataDir(dataDir: string, algorithm: SigningAlgorithm): Promise<SigningKeys> {
  const path = join(dataDir, generatedKeyFileName);
  const source = `DATA_DIR (${path})`;
  const existing = await readIfPresent(path, source);
  if (existing !== undefined) return fromJwkText(existing, source);

  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(`DATA_DIR: cannot create ${dataDir} (${reason(error)})`);
  }
  const privateKey = await generate(algorithm);
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    alg: algorithm,
    kid: await calculateJwkThumbprint(publicJwkOf(privateKey)),
  };
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeDurably(temp, `${JSON.stringify(jwk, null, 2)}\n`);
    await link(temp, path);
    await syncDirectory(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(
        `DATA_DIR: cannot write ${path} (${reason(error)}); or give a key with JWT_KEY_FILE or JWT_PRIVATE_KEY/JWT_PUBLIC_KEY`,
      );
    }
    // Another process linked its key first: use that one.
  } finally {
    await rm(temp, { force: true });
  }
  return fromJwkText(await readKeyFile(path, 'DATA_DIR'), source);
}

export async function readIfPresent(path: string, source: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`${source}: cannot read the kept signing key (${reason(error)})`);
  }
}

export async function generate(algorithm: SigningAlgorithm): Promise<KeyObject> {
  const generatePair = promisify(generateKeyPair);
  switch (algorithm) {
    case 'RS256':
      return (await generatePair('rsa', { modulusLength: 2048, publicExponent: 0x10001 })).privateKey;
    case 'ES256':
      return (await generatePair('ec', { namedCurve: 'P-256' })).privateKey;
    case 'EdDSA':
      return (await generatePair('ed25519', {})).privateKey;
  }
}

/** Mode 0600 from the first byte (the key is a secret), flushed before it gets its name. */
export async function writeDurably(path: string, content: string): Promise<void> {
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(content, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
}

/** So the new name survives a power cut; some filesystems cannot sync a directory, which is fine. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Best effort (EINVAL on some filesystems).
  } finally {
    await handle.close();
  }
}

// ---- common ------------------------------------------------------------------------

/** The algorithm a key is made for; anything else is refused rather than guessed. */
function algorithmOf(key: KeyObject, source: string): SigningAlgorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') {
    if ((details.modulusLength ?? 0) < 2048)
      throw new ConfigError(`${source}: an RSA key of ${details.modulusLength} bits is too weak (2048 or more)`);
    return 'RS256';
  }
  if (type === 'ec' && details.namedCurve === 'prime256v1') return 'ES256';
  if (type === 'ed25519') return 'EdDSA';
  const what = type === 'ec' ? `an EC key on ${details.namedCurve}` : `a ${type} key`;
  throw new ConfigError(`${source} is ${what}: expected RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA)`);
}

export function publicJwkOf(privateKey: KeyObject): JWK {
  // Node's JsonWebKey and jose's JWK describe the same JSON; only the declared types differ.
  return createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
}

async function complete(
  privateKey: KeyObject,
  declared: { kid?: string; alg?: string },
  source: string,
): Promise<SigningKeys> {
  const alg = algorithmOf(privateKey, source);
  if (declared.alg !== undefined && declared.alg !== alg) {
    throw new ConfigError(`${source}: "alg" is ${declared.alg} but the key is made for ${alg}`);
  }
  const publicBase = publicJwkOf(privateKey);
  // RFC 7638 thumbprint: stable for a key, so restarts and replicas agree on the kid.
  const kid = declared.kid ?? (await calculateJwkThumbprint(publicBase));
  const publicJwk: PublicJwk = { ...publicBase, kid, alg, use: 'sig' };
  // importJWK answers a Uint8Array only for symmetric ("oct") keys, which algorithmOf refuses.
  return {
    privateKey: (await importJWK(privateKey.export({ format: 'jwk' }) as JWK, alg)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
    alg,
    kid,
    publicJwk,
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
