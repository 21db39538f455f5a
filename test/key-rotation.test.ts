/**
 * Rotating the signing keys (infra/auth/key-ring.ts, `npm run cli -- keys rotate`): the new
 * key signs at once in every process on the DATA_DIR, the old one verifies and stays in the
 * JWKS until its last token has expired, then neither. In one process with a moved clock
 * (two token services over one DATA_DIR), then with two real API processes and the CLI.
 */
import { expect } from 'chai';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { CLOCK_SKEW_ALLOWANCE_MS, keyRingDirName, openKeyRing, rotateKeyRing } from '../infra/auth/key-ring.js';
import { generatedKeyFileName, loadSigningKeys } from '../infra/auth/keys.js';
import { prepareDataDir } from '../infra/composition-root/data-dir.js';
import { createTokenService, InvalidToken, type TokenService } from '../infra/auth/tokens.js';
import { Client, positionOf, uniqueEmail } from './http/client.js';
import { cleanEnv, distDir, runNode, tempDir, type TempDir } from './support/process.js';
import { eventually } from './http/trading-client.js';
import { startRoleProcess, type RoleProcess } from './support/role-process.js';

const issuer = 'marketplace';
const audience = 'marketplace-api';
const lifetimeSeconds = 3600;
const lifetimeMs = lifetimeSeconds * 1000;
const subject = { userId: 'user-1', email: 'ada@example.com', role: 'trader' } as const;
const cliScript = join(distDir, 'infra', 'cli', 'main.js');

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

async function reason(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidToken);
    return (error as InvalidToken).reason;
  }
  throw new Error('expected the token to be refused');
}

describe('signing keys that rotate', function () {
  this.timeout(60_000);
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir('market-keys-');
  });
  afterEach(() => dir.remove());

  describe('in one process, two token services over one DATA_DIR, with a moved clock', () => {
    let clock: number;
    const service = async (): Promise<TokenService> =>
      createTokenService({
        keys: await openKeyRing(dir.path),
        issuer,
        audience,
        lifetimeSeconds,
        now: () => clock,
        cacheSize: 0,
      });

    beforeEach(() => {
      clock = Date.UTC(2026, 11, 7, 12, 0, 0);
    });

    it('signs with the new key at once everywhere, lists both, then only the new once the old one’s tokens have expired', async () => {
      const [a, b] = [await service(), await service()];
      const old = (await a.issue(subject)).accessToken;
      const oldKid = kidOf(old);
      expect((await b.jwks()).keys.map((k) => k.kid)).to.deep.equal([oldKid]);

      clock += 60_000;
      const rotation = await rotateKeyRing(dir.path, { lifetimeMs, now: () => clock });
      const newKid = rotation.added.keys.kid;
      expect(newKid).to.not.equal(oldKid);
      expect(rotation.retiring).to.deep.equal([
        { kid: oldKid, until: new Date(clock + lifetimeMs + CLOCK_SKEW_ALLOWANCE_MS) },
      ]);

      // Both services sign with the new key from now on, without being told.
      const fresh = (await b.issue(subject)).accessToken;
      expect(kidOf(fresh)).to.equal(newKid);
      expect(kidOf((await a.issue(subject)).accessToken)).to.equal(newKid);
      // Tokens of both keys verify in both; both JWKS list the new key first, then the old.
      for (const s of [a, b]) {
        expect((await s.verify(old)).userId).to.equal('user-1');
        expect((await s.verify(fresh)).userId).to.equal('user-1');
        expect((await s.jwks()).keys.map((k) => k.kid)).to.deep.equal([newKid, oldKid]);
      }

      // The old key's last token (signed just before the rotation) expires a lifetime later.
      clock += lifetimeMs + CLOCK_SKEW_ALLOWANCE_MS - 1;
      expect((await a.jwks()).keys.map((k) => k.kid)).to.deep.equal([newKid, oldKid]);
      clock += 2;
      for (const s of [a, b]) expect((await s.jwks()).keys.map((k) => k.kid)).to.deep.equal([newKid]);
      expect(await reason(a.verify(old))).to.equal('unknown kid');

      // The next rotation deletes the expired key's file; the key before the new one stays.
      const last = (await b.issue(subject)).accessToken;
      const next = await rotateKeyRing(dir.path, { lifetimeMs, now: () => clock });
      expect(next.deleted).to.deep.equal([oldKid]);
      expect(existsSync(join(dir.path, generatedKeyFileName))).to.equal(false);
      expect((await b.jwks()).keys.map((k) => k.kid)).to.deep.equal([next.added.keys.kid, newKid]);
      expect(kidOf(last)).to.equal(newKid);
      expect((await a.verify(last)).userId).to.equal('user-1');
    });

    it('keeps its files private, and two rotations at once both land', async () => {
      await service();
      const rotations = await Promise.all([1, 2, 3].map(() => rotateKeyRing(dir.path, { lifetimeMs })));
      const files = readdirSync(join(dir.path, keyRingDirName)).sort();
      expect(files).to.deep.equal(['000001.json', '000002.json', '000003.json']);
      expect(new Set(rotations.map((r) => r.added.keys.kid)).size).to.equal(3);
      expect(statSync(join(dir.path, keyRingDirName)).mode & 0o777).to.equal(0o700);
      for (const file of files) expect(statSync(join(dir.path, keyRingDirName, file)).mode & 0o777).to.equal(0o600);
      const s = await service();
      expect((await s.jwks()).keys).to.have.length(4);
      // One copied in by hand more open is made private at the next start, as the other key files are.
      const copied = join(dir.path, keyRingDirName, files[0]!);
      chmodSync(copied, 0o644);
      const said: string[] = [];
      const log = { info: (_: object, m: string) => said.push(m), warn: (_: object, m: string) => said.push(m) };
      prepareDataDir({ dataDir: dir.path, eventStore: 'embedded', readStore: 'embedded' }, log);
      expect(statSync(copied).mode & 0o777).to.equal(0o600);
      expect(said.join('\n')).to.include(`made ${copied} private`);
    });

    it('refuses a token of a key that is not in the ring, even after looking again', async () => {
      const s = await service();
      const foreign = await loadSigningKeys({ dataDir: join(dir.path, 'elsewhere') });
      const token = await new SignJWT({ ...subject })
        .setProtectedHeader({ alg: foreign.alg, kid: foreign.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject.userId)
        .setIssuedAt(Math.floor(clock / 1000))
        .setExpirationTime(Math.floor(clock / 1000) + 60)
        .setJti('j')
        .sign(foreign.privateKey);
      expect(await reason(s.verify(token))).to.equal('unknown kid');
    });
  });

  describe('two API processes and the CLI on one DATA_DIR', () => {
    let started: RoleProcess[] = [];
    afterEach(async () => {
      await Promise.all(started.map((p) => p.stop()));
      started = [];
    });

    const cli = (args: string[], env: Record<string, string> = {}) =>
      runNode(cliScript, args, cleanEnv({ DATA_DIR: dir.path, EMBEDDED_DURABILITY: 'normal', ...env }));
    const jwksKids = async (p: RoleProcess) =>
      ((await (await fetch(`${p.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map(
        (k) => k.kid,
      );

    it('agree on the keys: a rotation by the CLI signs at once in both, and tokens of both keys work in both', async () => {
      const broker = { BROKER_EMAIL: 'broker@keys.test', BROKER_PASSWORD: 'broker-secret' };
      const first = await startRoleProcess({ ROLE: 'all', DATA_DIR: dir.path, ...broker });
      started.push(first);
      const second = await startRoleProcess({ ROLE: 'api', DATA_DIR: dir.path, ...broker });
      started.push(second);
      const [one, two] = [new Client(first.baseUrl), new Client(second.baseUrl)];
      const email = uniqueEmail();
      const registered = await one.register({ email, password: 'secret-password', firstName: 'K', lastName: 'R' });
      expect(registered.status, registered.text).to.equal(201);
      const position = positionOf(registered);
      const before = (await one.login(email, 'secret-password')).body.accessToken as string;
      const oldKid = kidOf(before);
      expect(await jwksKids(second)).to.deep.equal([oldKid]);

      const rotated = await cli(['keys', 'rotate']);
      expect(rotated.code, rotated.stderr).to.equal(0);
      expect(rotated.stdout)
        .to.match(/signs from now on/)
        .and.include(`key ${oldKid} stays in the JWKS`);

      const after = (await two.login(email, 'secret-password')).body.accessToken as string;
      const newKid = kidOf(after);
      expect(newKid).to.not.equal(oldKid);
      expect(kidOf((await one.login(email, 'secret-password')).body.accessToken as string)).to.equal(newKid);
      for (const client of [one, two]) {
        // What is tested is the tokens, not read-your-writes: the api process is asked without a
        // position (it reads the shared read models), until the projector has written the user.
        for (const token of [before, after])
          await eventually(
            async () =>
              expect((await client.profile(token, client === one ? position : undefined)).email).to.equal(email),
            20_000,
          );
      }
      for (const p of [first, second]) expect(await jwksKids(p)).to.deep.equal([newKid, oldKid]);

      const listed = await cli(['keys', 'list']);
      expect(listed.code, listed.stderr).to.equal(0);
      expect(listed.stdout).to.match(new RegExp(`${newKid}\\s+RS256\\s+\\S+\\s+signs`));
      expect(listed.stdout).to.match(new RegExp(`${oldKid}\\s+RS256\\s+first key\\s+verifies until`));
    });

    it('refuses to rotate a key the environment gives, saying why', async () => {
      const refused = await cli(['keys', 'rotate'], { JWT_KEY_FILE: join(dir.path, 'key.json') });
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.include('the signing key is given by the environment');
      expect(existsSync(join(dir.path, keyRingDirName))).to.equal(false);
    });
  });
});
