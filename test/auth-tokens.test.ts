import { expect } from 'chai';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  CompactSign,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  SignJWT,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';
import { loadSigningKeys, signingAlgorithms, type SigningAlgorithm, type SigningKeys } from '../infra/auth/keys.js';
import {
  createTokenService,
  defaultCacheSize,
  InvalidToken,
  type InvalidTokenReason,
  type TokenService,
  type TokenServiceOptions,
} from '../infra/auth/tokens.js';

const issuer = 'marketplace';
const audience = 'marketplace-api';
const lifetimeSeconds = 3600;
const start = Date.UTC(2026, 10, 21, 12, 0, 0);
const subject = { userId: 'user-1', email: 'ada@example.com', role: 'trader' } as const;

function nodeKeyPair(alg: SigningAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return generateKeyPairSync('ed25519');
}

/** Signing keys of one type, given as a PEM pair (the way production configures them). */
async function keysOf(alg: SigningAlgorithm): Promise<SigningKeys & { pair: ReturnType<typeof nodeKeyPair> }> {
  const pair = nodeKeyPair(alg);
  const keys = await loadSigningKeys({
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    dataDir: '/nonexistent/never-used',
  });
  return { ...keys, pair };
}

const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWS put together by hand, for tokens jose would refuse to produce. */
function handmade(header: object, payload: object, sign: (input: string) => Buffer): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign(input).toString('base64url')}`;
}

async function refusal(attempt: Promise<unknown>): Promise<InvalidToken> {
  try {
    await attempt;
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidToken);
    return error as InvalidToken;
  }
  return expect.fail('the token was accepted');
}

async function expectRefused(service: TokenService, token: string, reason: InvalidTokenReason): Promise<void> {
  const error = await refusal(service.verify(token));
  expect(error.reason, String(token).slice(0, 80)).to.equal(reason);
  expect(error.message).to.equal(`Invalid access token: ${reason}`);
}

describe('access tokens', () => {
  let rsa: Awaited<ReturnType<typeof keysOf>>;
  let ec: Awaited<ReturnType<typeof keysOf>>;
  let clock: number;
  let service: TokenService;

  const serviceFor = (keys: SigningKeys, overrides: Partial<TokenServiceOptions> = {}) =>
    createTokenService({ keys, issuer, audience, lifetimeSeconds, now: () => clock, ...overrides });

  /** Our claims, signed with our key, with any header and payload changes. */
  const signedWith = (keys: SigningKeys, payload: JWTPayload, header: Partial<JWTHeaderParameters> = {}) =>
    new SignJWT({
      ...subject,
      sub: subject.userId,
      iss: issuer,
      aud: audience,
      jti: 'jti-1',
      iat: start / 1000,
      exp: start / 1000 + 60,
      ...payload,
    })
      .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: 'JWT', ...header })
      .sign(keys.privateKey);

  before(async () => {
    [rsa, ec] = await Promise.all([keysOf('RS256'), keysOf('ES256')]);
  });

  beforeEach(() => {
    clock = start;
    service = serviceFor(rsa);
  });

  describe('issue and verify', () => {
    it('round-trips every claim, with alg, kid and typ in the header', async () => {
      const { accessToken, claims } = await service.issue(subject);
      const iat = start / 1000;
      // A token issued before any of its user's sessions were ended carries no `sessions` claim: it reads as 0.
      expect(claims).to.deep.equal({ ...subject, sessions: 0, jti: claims.jti, iat, exp: iat + lifetimeSeconds });
      expect(claims.jti).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(decodeProtectedHeader(accessToken)).to.deep.equal({ alg: 'RS256', kid: rsa.kid, typ: 'JWT' });
      expect(decodeJwt(accessToken)).to.deep.equal({
        ...subject,
        sub: subject.userId,
        iss: issuer,
        aud: audience,
        jti: claims.jti,
        iat,
        exp: iat + lifetimeSeconds,
      });
      expect(await service.verify(accessToken)).to.deep.equal(claims);
    });

    it("carries the user's count of ended sessions, and refuses a token whose count is not a whole number", async () => {
      const { accessToken, claims } = await service.issue({ ...subject, sessions: 3 });
      expect(decodeJwt(accessToken).sessions).to.equal(3);
      expect(await service.verify(accessToken)).to.deep.equal(claims);
      expect(claims.sessions).to.equal(3);
      await service.issue({ ...subject, sessions: -1 }).then(
        () => expect.fail('a negative count was issued'),
        (error: unknown) => expect(error).to.be.instanceOf(TypeError),
      );
    });

    it('gives every token its own jti', async () => {
      const [a, b] = await Promise.all([service.issue(subject), service.issue(subject)]);
      expect(a.claims.jti).to.not.equal(b.claims.jti);
    });

    for (const alg of signingAlgorithms) {
      it(`signs and verifies with ${alg} keys, verifiable by plain jose from the JWKS`, async () => {
        const keys = alg === 'RS256' ? rsa : alg === 'ES256' ? ec : await keysOf(alg);
        const tokens = serviceFor(keys);
        const { accessToken, claims } = await tokens.issue({ ...subject, role: 'broker' });
        expect(decodeProtectedHeader(accessToken).alg).to.equal(alg);
        expect(await tokens.verify(accessToken)).to.deep.equal(claims);
        const { payload, protectedHeader } = await jwtVerify(accessToken, createLocalJWKSet(await tokens.jwks()), {
          issuer,
          audience,
          currentDate: new Date(clock),
        });
        expect(payload.userId).to.equal(subject.userId);
        expect(protectedHeader.kid).to.equal(keys.kid);
      });
    }

    it('refuses to issue for a role outside trader, broker, admin', async () => {
      const bad = { ...subject, role: 'root' } as unknown as typeof subject;
      let caught: unknown;
      await service.issue(bad).catch((error: unknown) => (caught = error));
      expect(caught).to.be.instanceOf(TypeError);
    });
  });

  describe('JWKS', () => {
    it('publishes only the public key, with kid, alg and use', async () => {
      const { keys } = await service.jwks();
      expect(keys).to.have.length(1);
      const [jwk] = keys;
      expect(jwk).to.include({ kty: 'RSA', kid: rsa.kid, alg: 'RS256', use: 'sig' });
      expect(jwk).to.have.all.keys('kty', 'n', 'e', 'kid', 'alg', 'use');
    });

    it('cannot be changed by a caller: each gets a copy', async () => {
      ((await service.jwks()).keys[0] as { kid: string }).kid = 'mine';
      expect((await service.jwks()).keys[0]?.kid).to.equal(rsa.kid);
    });
  });

  describe('refuses', () => {
    it('an expired token, from the second of its exp on', async () => {
      const uncached = serviceFor(rsa, { cacheSize: 0 });
      const { accessToken } = await uncached.issue(subject);
      clock = start + (lifetimeSeconds - 1) * 1000;
      await uncached.verify(accessToken);
      clock = start + lifetimeSeconds * 1000;
      await expectRefused(uncached, accessToken, 'expired');
    });

    it('a token of another issuer or for another audience', async () => {
      const { accessToken } = await service.issue(subject);
      await expectRefused(serviceFor(rsa, { issuer: 'someone-else' }), accessToken, 'wrong issuer');
      await expectRefused(serviceFor(rsa, { audience: 'another-api' }), accessToken, 'wrong audience');
    });

    it('a token whose payload was changed after signing', async () => {
      const { accessToken } = await service.issue(subject);
      const [header, , signature] = accessToken.split('.');
      const promoted = b64url({ ...decodeJwt(accessToken), role: 'admin' });
      await expectRefused(service, `${header}.${promoted}.${signature}`, 'bad signature');
    });

    it('a token signed by another key of the same type, even with our kid', async () => {
      const stranger = await keysOf('RS256');
      const forged = await signedWith(stranger, {}, { kid: rsa.kid });
      await expectRefused(service, forged, 'bad signature');
    });

    it('an unsigned token (alg none)', async () => {
      const unsigned = handmade({ alg: 'none', kid: rsa.kid, typ: 'JWT' }, decodeJwt(await signedWith(rsa, {})), () =>
        Buffer.alloc(0),
      );
      expect(unsigned.endsWith('.')).to.equal(true);
      await expectRefused(service, unsigned, 'unsupported alg');
      const noneUpper = handmade({ alg: 'NONE', kid: rsa.kid }, decodeJwt(await signedWith(rsa, {})), () =>
        Buffer.alloc(0),
      );
      await expectRefused(service, noneUpper, 'unsupported alg');
    });

    it('an HS256 token keyed with our public key (algorithm confusion)', async () => {
      const payload = decodeJwt(await signedWith(rsa, { role: 'admin' }));
      const publicForms = [
        rsa.pair.publicKey.export({ type: 'spki', format: 'pem' }),
        rsa.pair.publicKey.export({ type: 'pkcs1', format: 'pem' }),
        rsa.pair.publicKey.export({ type: 'spki', format: 'der' }),
        JSON.stringify((await service.jwks()).keys[0]),
      ];
      for (const secret of publicForms) {
        const forged = handmade({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' }, payload, (input) =>
          createHmac('sha256', secret).update(input).digest(),
        );
        await expectRefused(service, forged, 'unsupported alg');
      }
    });

    it('an RS256 token when our key is EC, and an ES256 token when it is RSA', async () => {
      const ecService = serviceFor(ec);
      await expectRefused(ecService, await signedWith(rsa, {}, { kid: ec.kid }), 'unsupported alg');
      await expectRefused(service, await signedWith(ec, {}, { kid: rsa.kid }), 'unsupported alg');
      // The header telling the truth about the key it claims does not help either.
      const eddsa = await keysOf('EdDSA');
      await expectRefused(ecService, await signedWith(eddsa, {}, { kid: ec.kid }), 'unsupported alg');
    });

    it('a token with an unknown kid or none', async () => {
      await expectRefused(service, await signedWith(rsa, {}, { kid: 'rotated-away' }), 'unknown kid');
      const noKid = await new SignJWT({
        ...subject,
        sub: subject.userId,
        jti: 'j',
        iat: start / 1000,
        exp: start / 1000 + 60,
      })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(audience)
        .sign(rsa.privateKey);
      await expectRefused(service, noKid, 'unknown kid');
    });

    it('malformed strings', async () => {
      const header = b64url({ alg: 'RS256', kid: rsa.kid });
      const malformed = [
        '',
        'abc',
        'a.b',
        'a.b.c.d',
        '...',
        '!!!.###.$$$',
        'eyJ.eyJ.c2ln',
        `${b64url('not json')}.${b64url({})}.c2ln`,
        `${b64url('"a string"')}.${b64url({})}.c2ln`,
        `${header}.${b64url({})}.sig with spaces`,
        `${header}.${b64url({})}.c2ln\n`,
        `${'a'.repeat(100_000)}.b.c`,
        `${header}.${'A'.repeat(1024 * 1024)}.c2ln`,
        undefined as unknown as string,
        42 as unknown as string,
      ];
      for (const token of malformed) await expectRefused(service, token, 'malformed');
    });

    it('a signed payload that is not a JSON claims set', async () => {
      const signed = await new CompactSign(new TextEncoder().encode('not a claims set'))
        .setProtectedHeader({ alg: 'RS256', kid: rsa.kid, typ: 'JWT' })
        .sign(rsa.privateKey);
      await expectRefused(service, signed, 'malformed');
    });

    it('a token of ours made too long to be one', async () => {
      await expectRefused(service, await signedWith(rsa, { padding: 'x'.repeat(10_000) }), 'malformed');
    });

    it('claims not of the shape we issue', async () => {
      const shapes: JWTPayload[] = [
        { role: 'superuser' },
        { role: undefined },
        { userId: 42 },
        { userId: '', sub: '' },
        { sub: 'someone-else' },
        { email: ['ada@example.com'] },
        { email: undefined },
        { jti: undefined },
        { iat: undefined },
        { exp: undefined },
      ];
      for (const shape of shapes) await expectRefused(service, await signedWith(rsa, shape), 'invalid claims');
      await expectRefused(service, await signedWith(rsa, {}, { typ: 'at+jwt' }), 'invalid claims');
    });
  });

  describe('verified-token cache', () => {
    it('serves a token it verified before without checking it again, frozen', async () => {
      const { accessToken, claims } = await service.issue(subject);
      const first = await service.verify(accessToken);
      const second = await service.verify(accessToken);
      expect(second).to.deep.equal(claims);
      expect(second).to.equal(first);
      expect(Object.isFrozen(second)).to.equal(true);
      expect(service.cacheStats()).to.deep.equal({ size: 1, hits: 1, misses: 1 });
    });

    it('keeps a token until its exp and no longer', async () => {
      const { accessToken } = await service.issue(subject);
      await service.verify(accessToken);
      clock = start + (lifetimeSeconds - 1) * 1000;
      await service.verify(accessToken);
      expect(service.cacheStats()).to.include({ hits: 1, misses: 1 });
      clock = start + lifetimeSeconds * 1000;
      await expectRefused(service, accessToken, 'expired');
      expect(service.cacheStats()).to.deep.equal({ size: 0, hits: 1, misses: 2 });
    });

    it('holds at most cacheSize tokens, dropping the least recently used', async () => {
      const small = serviceFor(rsa, { cacheSize: 2 });
      const [a, b, c] = (await Promise.all([small.issue(subject), small.issue(subject), small.issue(subject)])).map(
        (t) => t.accessToken,
      ) as [string, string, string];
      await small.verify(a);
      await small.verify(b);
      await small.verify(a); // hit: a is now the most recent
      await small.verify(c); // evicts b
      expect(small.cacheStats()).to.deep.equal({ size: 2, hits: 1, misses: 3 });
      await small.verify(a); // still cached
      await small.verify(c); // still cached
      expect(small.cacheStats()).to.deep.equal({ size: 2, hits: 3, misses: 3 });
      await small.verify(b); // verified again, evicting a
      expect(small.cacheStats()).to.deep.equal({ size: 2, hits: 3, misses: 4 });
      await small.verify(a);
      expect(small.cacheStats()).to.include({ misses: 5 });
    });

    it('never keeps a refused token', async () => {
      const forged = await signedWith(await keysOf('RS256'), {}, { kid: rsa.kid });
      await expectRefused(service, forged, 'bad signature');
      await expectRefused(service, forged, 'bad signature');
      expect(service.cacheStats()).to.deep.equal({ size: 0, hits: 0, misses: 2 });
    });

    it('is off with cacheSize 0', async () => {
      const uncached = serviceFor(rsa, { cacheSize: 0 });
      const { accessToken } = await uncached.issue(subject);
      await uncached.verify(accessToken);
      await uncached.verify(accessToken);
      expect(uncached.cacheStats()).to.deep.equal({ size: 0, hits: 0, misses: 2 });
    });

    it('defaults to 10,000 entries', () => {
      expect(defaultCacheSize).to.equal(10_000);
    });
  });

  it('refuses nonsensical options', () => {
    expect(() => serviceFor(rsa, { lifetimeSeconds: 0 })).to.throw(RangeError);
    expect(() => serviceFor(rsa, { lifetimeSeconds: 1.5 })).to.throw(RangeError);
    expect(() => serviceFor(rsa, { issuer: '' })).to.throw(RangeError);
    expect(() => serviceFor(rsa, { cacheSize: -1 })).to.throw(RangeError);
  });
});
