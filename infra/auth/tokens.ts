/**
 * Access tokens: JWTs signed with the configured key pair (see keys.ts), checked for
 * signature, `alg`, `kid`, `typ`, `iss`, `aud` and `exp`, then for the shape of our claims.
 * `verify` says nothing about revocation: it returns `jti` and `exp` and the caller checks
 * them against the signed-out tokens on every request.
 */
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { roles, type Role } from '../../domain/identity/events.js';
import { fixedKeyRing, liveKeys, type KeyRing } from './key-ring.js';
import type { PublicJwk, SigningKeys } from './keys.js';
import { VerifiedTokenCache, type CacheStats } from './token-cache.js';

/** Whom a token is issued to. */
export interface Subject {
  userId: string;
  email: string;
  role: Role;
  /**
   * How many times the user's tokens had all been ended when this one was issued (claim
   * `sessions`; absent: 0). A token issued at a lower count than the user's is refused
   * (a password change, a sign-out everywhere, a deleted account).
   */
  sessions?: number;
}

export interface AccessClaims extends Subject {
  sessions: number;
  /** Token id, for revocation. */
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  /** Seconds since the epoch; the token is refused from this second on. */
  exp: number;
}

export type InvalidTokenReason =
  | 'malformed'
  | 'unsupported alg'
  | 'unknown kid'
  | 'bad signature'
  | 'expired'
  | 'wrong issuer'
  | 'wrong audience'
  | 'invalid claims';

/** Any token we refuse; the HTTP layer answers 401. `reason` is short and safe to show. */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken';
  constructor(readonly reason: InvalidTokenReason) {
    super(`Invalid access token: ${reason}`);
  }
}

export interface TokenServiceOptions {
  /** One key, or a ring of them (key-ring.ts): the newest signs, every live one verifies. */
  keys: SigningKeys | KeyRing;
  issuer: string;
  audience: string;
  lifetimeSeconds: number;
  /** Milliseconds since the epoch, like `Date.now` (tests move the clock). */
  now?: () => number;
  /** Most verified tokens remembered; 0 turns the cache off. */
  cacheSize?: number;
}

export interface TokenService {
  issue(subject: Subject): Promise<{ accessToken: string; claims: AccessClaims }>;
  /** The token's claims, or an `InvalidToken`. */
  verify(token: string): Promise<AccessClaims>;
  /** The document served at `/.well-known/jwks.json`: every live key, newest first (a copy). */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** For metrics: `hits` are signature checks saved. */
  cacheStats(): CacheStats;
}

export const defaultCacheSize = 10_000;

/** Ours are ~400–700 B; anything much longer is not ours and not worth decoding. */
const maxTokenLength = 8 * 1024;
/** Three base64url parts; an empty signature is let through to be refused for its `alg: none`. */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function createTokenService(options: TokenServiceOptions): TokenService {
  const { keys, issuer, audience, lifetimeSeconds, now = Date.now, cacheSize = defaultCacheSize } = options;
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0)
    throw new RangeError(`lifetimeSeconds must be a positive whole number, got ${lifetimeSeconds}`);
  if (!issuer || !audience) throw new RangeError('issuer and audience must not be empty');
  const cache = new VerifiedTokenCache<AccessClaims>(cacheSize);
  const ring = 'privateKey' in keys ? fixedKeyRing(keys) : keys;
  const live = () => liveKeys(ring.keys(), now(), lifetimeSeconds * 1000).map((key) => key.keys);
  const seconds = () => Math.floor(now() / 1000);

  return {
    async issue({ userId, email, role, sessions = 0 }) {
      if (!isSubject({ userId, email, role }) || !isSessionCount(sessions))
        throw new TypeError(
          `issue: userId and email must be non-empty strings, role one of ${roles.join(', ')}, sessions a whole number`,
        );
      // A rotation made by another process signs from the moment it is on disk.
      await ring.refresh();
      const keys = ring.keys().at(-1)!.keys;
      const iat = seconds();
      const claims: AccessClaims = {
        userId,
        email,
        role,
        sessions,
        jti: randomUUID(),
        iat,
        exp: iat + lifetimeSeconds,
      };
      const accessToken = await new SignJWT({ userId, email, role, ...(sessions > 0 ? { sessions } : {}) })
        .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(userId)
        .setIssuedAt(claims.iat)
        .setExpirationTime(claims.exp)
        .setJti(claims.jti)
        .sign(keys.privateKey);
      return { accessToken, claims };
    },

    async verify(token) {
      if (typeof token !== 'string' || token.length > maxTokenLength) throw new InvalidToken('malformed');
      const cached = cache.get(token, seconds());
      if (cached) return cached;
      const claims = accessClaims(await verifiedPayload(token, { live, ring, issuer, audience, now }));
      if (!claims) throw new InvalidToken('invalid claims');
      // Frozen: the same object is handed to every later caller of this token.
      cache.set(token, Object.freeze(claims), claims.exp);
      return claims;
    },

    async jwks() {
      await ring.refresh();
      return { keys: live().map((key) => ({ ...key.publicJwk })) };
    },
    cacheStats: () => cache.stats(),
  };
}

/** The payload of a token signed with a live key, for this issuer and audience, unexpired; else an `InvalidToken` saying why not. */
async function verifiedPayload(
  token: string,
  options: Pick<TokenServiceOptions, 'issuer' | 'audience'> & {
    live: () => SigningKeys[];
    ring: KeyRing;
    now: () => number;
  },
): Promise<JWTPayload> {
  const { live, ring, issuer, audience, now } = options;
  if (!compactJws.test(token)) throw new InvalidToken('malformed');

  // jose would refuse these too (the algorithm is pinned below); checking the header
  // first gives a precise reason and skips the signature work for foreign tokens.
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new InvalidToken('malformed');
  }
  const keys = await keyOf(header, live, ring);

  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      // Pinned to the key's own algorithm: no `none`, no HS256 keyed with the public key.
      algorithms: [keys.alg],
      issuer,
      audience,
      typ: 'JWT',
      currentDate: new Date(now()),
      requiredClaims: ['sub', 'jti', 'iat', 'exp'],
    });
    return payload;
  } catch (error) {
    throw new InvalidToken(reasonOf(error));
  }
}

/**
 * The live key the header names. A kid this process does not know may be a key another
 * process has just rotated in: the ring is looked at again (on disk only if it changed).
 */
async function keyOf(
  header: ReturnType<typeof decodeProtectedHeader>,
  live: () => SigningKeys[],
  ring: KeyRing,
): Promise<SigningKeys> {
  const ours = (key: SigningKeys) => key.kid === header.kid && key.alg === header.alg;
  let found = live().find(ours);
  if (!found && typeof header.kid === 'string' && live().some((key) => key.alg === header.alg)) {
    await ring.refresh();
    found = live().find(ours);
  }
  if (found) return found;
  // The precise reason: a kid we know with another alg (`none`, HS256…) is an algorithm we refuse.
  const known = live().find((key) => key.kid === header.kid);
  if (known || !live().some((key) => key.alg === header.alg)) throw new InvalidToken('unsupported alg');
  throw new InvalidToken('unknown kid');
}

function reasonOf(error: unknown): InvalidTokenReason {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'wrong issuer';
    if (error.claim === 'aud') return 'wrong audience';
    return 'invalid claims';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'unsupported alg';
  if (error instanceof errors.JOSEError) return 'malformed';
  // Not about the token (e.g. a broken key): a bug, which must not pass for a 401.
  throw error;
}

function isSubject(value: { userId: unknown; email: unknown; role: unknown }): value is Subject {
  const { userId, email, role } = value;
  return (
    typeof userId === 'string' &&
    userId !== '' &&
    typeof email === 'string' &&
    email !== '' &&
    (roles as readonly unknown[]).includes(role)
  );
}

function isSessionCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Our claims from a verified payload, or null when they do not have the shape we issue. */
function accessClaims(payload: JWTPayload): AccessClaims | null {
  const { sub, jti, iat, exp, sessions = 0 } = payload;
  const subject = { userId: payload.userId, email: payload.email, role: payload.role };
  if (!isSubject(subject) || sub !== subject.userId || !isSessionCount(sessions)) return null;
  if (typeof jti !== 'string' || jti === '' || typeof iat !== 'number' || typeof exp !== 'number') return null;
  return { ...subject, sessions, jti, iat, exp };
}
