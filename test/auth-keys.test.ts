import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, jwtVerify, SignJWT } from 'jose';
import { ConfigError } from '../infra/config/settings.js';
import { generatedKeyFileName, loadSigningKeys, type KeySources, type SigningKeys } from '../infra/auth/keys.js';

const pem = {
  private: (key: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1' = 'pkcs8') =>
    key.export({ type, format: 'pem' }).toString(),
  public: (key: KeyObject, type: 'spki' | 'pkcs1' = 'spki') => key.export({ type, format: 'pem' }).toString(),
};

async function refusal(sources: KeySources): Promise<ConfigError> {
  try {
    await loadSigningKeys(sources);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.fail('the keys were accepted');
}

/** The keys sign a token that their public key (and only the matching algorithm) verifies. */
async function expectWorkingPair(keys: SigningKeys): Promise<void> {
  const token = await new SignJWT({ ok: true })
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid })
    .sign(keys.privateKey);
  const { payload } = await jwtVerify(token, keys.publicKey, { algorithms: [keys.alg] });
  expect(payload.ok).to.equal(true);
}

const thumbprintOf = ({ kid: _kid, alg: _alg, use: _use, ...jwk }: SigningKeys['publicJwk']) =>
  calculateJwkThumbprint(jwk);

describe('signing keys', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auth-keys-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('generated once into DATA_DIR', () => {
    it('creates the data directory and a 0600 private JWK file, then reuses it', async () => {
      const dataDir = join(dir, 'nested', 'data');
      const first = await loadSigningKeys({ dataDir });
      const file = join(dataDir, generatedKeyFileName);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      const text = await readFile(file, 'utf8');
      const stored = JSON.parse(text) as Record<string, unknown>;
      expect(stored).to.include({ kty: 'RSA', alg: 'RS256', kid: first.kid });
      expect(stored.d).to.be.a('string');
      expect(await readdir(dataDir), 'no temp file left behind').to.deep.equal([generatedKeyFileName]);

      const second = await loadSigningKeys({ dataDir });
      expect(second.kid).to.equal(first.kid);
      expect(second.publicJwk).to.deep.equal(first.publicJwk);
      expect(await readFile(file, 'utf8'), 'the file is not rewritten').to.equal(text);
      await expectWorkingPair(second);
    });

    it('generates RS256 by default, ES256 or EdDSA on request, with the RFC 7638 thumbprint as kid', async () => {
      for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) {
        const keys = await loadSigningKeys({ dataDir: join(dir, algorithm), algorithm });
        expect(keys.alg).to.equal(algorithm);
        expect(keys.kid).to.equal(await thumbprintOf(keys.publicJwk));
        expect(keys.publicJwk).to.include({ alg: algorithm, use: 'sig', kid: keys.kid });
        expect(keys.publicJwk).to.not.have.property('d');
        await expectWorkingPair(keys);
      }
      expect((await loadSigningKeys({ dataDir: join(dir, 'default') })).alg).to.equal('RS256');
    });

    it('keeps using the kept key whatever algorithm is asked for later', async () => {
      const kept = await loadSigningKeys({ dataDir: dir, algorithm: 'ES256' });
      const later = await loadSigningKeys({ dataDir: dir, algorithm: 'RS256' });
      expect(later.alg).to.equal('ES256');
      expect(later.kid).to.equal(kept.kid);
    });

    it('gives concurrent callers on an empty directory the same key', async () => {
      const all = await Promise.all(Array.from({ length: 4 }, () => loadSigningKeys({ dataDir: dir })));
      expect(new Set(all.map((keys) => keys.kid)).size).to.equal(1);
      expect(await readdir(dir)).to.deep.equal([generatedKeyFileName]);
      const stored = JSON.parse(await readFile(join(dir, generatedKeyFileName), 'utf8')) as { kid: string };
      expect(stored.kid).to.equal(all[0]?.kid);
    });

    it('gives processes starting together on an empty directory the same key', async () => {
      const keysModule = new URL('../infra/auth/keys.js', import.meta.url).href;
      const script =
        'const { loadSigningKeys } = await import(process.argv[1]); console.log((await loadSigningKeys({ dataDir: process.argv[2] })).kid);';
      const run = () => promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, keysModule, dir]);
      const outputs = await Promise.all(Array.from({ length: 4 }, run));
      const kids = outputs.map(({ stdout }) => stdout.trim());
      expect(kids[0]).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(new Set(kids).size).to.equal(1);
      expect((await loadSigningKeys({ dataDir: dir })).kid).to.equal(kids[0]);
      expect(await readdir(dir)).to.deep.equal([generatedKeyFileName]);
    });

    it('refuses a kept file that is not a private JWK, naming DATA_DIR and the file', async () => {
      await writeFile(join(dir, generatedKeyFileName), '{"kty":"RSA"', { mode: 0o600 });
      const error = await refusal({ dataDir: dir });
      expect(error.message).to.include('DATA_DIR').and.include(join(dir, generatedKeyFileName));
    });

    it('refuses a DATA_DIR that is not a directory, naming it', async () => {
      const file = join(dir, 'a-file');
      await writeFile(file, '');
      const error = await refusal({ dataDir: join(file, 'data') });
      expect(error.message)
        .to.match(/^DATA_DIR/)
        .and.include(file);
    });

    it('refuses a data directory it cannot write, naming DATA_DIR', async function () {
      if (process.getuid?.() === 0) this.skip(); // root writes anywhere
      await chmod(dir, 0o500);
      try {
        const error = await refusal({ dataDir: dir });
        expect(error.message).to.include('DATA_DIR').and.include('JWT_KEY_FILE');
      } finally {
        await chmod(dir, 0o700);
      }
    });
  });

  describe('from JWT_PRIVATE_KEY and JWT_PUBLIC_KEY', () => {
    const pairs = {
      RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
      ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      EdDSA: () => generateKeyPairSync('ed25519'),
    };

    for (const [alg, make] of Object.entries(pairs)) {
      it(`reads a ${alg} pair, pinning the algorithm to the key's type`, async () => {
        const { privateKey, publicKey } = make();
        const keys = await loadSigningKeys({
          privateKeyPem: pem.private(privateKey),
          publicKeyPem: pem.public(publicKey),
          dataDir: dir,
        });
        expect(keys.alg).to.equal(alg);
        expect(keys.kid).to.equal(await thumbprintOf(keys.publicJwk));
        await expectWorkingPair(keys);
        expect(await readdir(dir), 'nothing generated').to.deep.equal([]);
      });
    }

    it('reads PKCS#1 RSA and SEC1 EC keys too', async () => {
      const rsa = pairs.RS256();
      expect(
        (
          await loadSigningKeys({
            privateKeyPem: pem.private(rsa.privateKey, 'pkcs1'),
            publicKeyPem: pem.public(rsa.publicKey, 'pkcs1'),
            dataDir: dir,
          })
        ).alg,
      ).to.equal('RS256');
      const ec = pairs.ES256();
      expect(
        (
          await loadSigningKeys({
            privateKeyPem: pem.private(ec.privateKey, 'sec1'),
            publicKeyPem: pem.public(ec.publicKey),
            dataDir: dir,
          })
        ).alg,
      ).to.equal('ES256');
    });

    it('accepts line breaks written as \\n (one-line environment values)', async () => {
      const { privateKey, publicKey } = pairs.ES256();
      const oneLine = (text: string) => text.trim().replace(/\n/g, '\\n');
      expect(oneLine(pem.private(privateKey))).to.not.include('\n');
      const keys = await loadSigningKeys({
        privateKeyPem: oneLine(pem.private(privateKey)),
        publicKeyPem: oneLine(pem.public(publicKey)),
        dataDir: dir,
      });
      await expectWorkingPair(keys);
      const crlf = (text: string) => text.replace(/\n/g, '\\r\\n');
      await expectWorkingPair(
        await loadSigningKeys({
          privateKeyPem: crlf(pem.private(privateKey)),
          publicKeyPem: crlf(pem.public(publicKey)),
          dataDir: dir,
        }),
      );
    });

    it('refuses a mismatched pair, naming both variables', async () => {
      const one = pairs.ES256();
      const other = pairs.ES256();
      const error = await refusal({
        privateKeyPem: pem.private(one.privateKey),
        publicKeyPem: pem.public(other.publicKey),
        dataDir: dir,
      });
      expect(error.message).to.include('JWT_PRIVATE_KEY').and.include('JWT_PUBLIC_KEY').and.include('not a pair');
      const mixed = await refusal({
        privateKeyPem: pem.private(one.privateKey),
        publicKeyPem: pem.public(pairs.RS256().publicKey),
        dataDir: dir,
      });
      expect(mixed.message).to.include('not a pair');
    });

    it('refuses garbage in JWT_PRIVATE_KEY without repeating it', async () => {
      const { publicKey } = pairs.ES256();
      const secret = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n-----END PRIVATE KEY-----';
      for (const privateKeyPem of [secret, 'hunter2-not-a-key']) {
        const error = await refusal({ privateKeyPem, publicKeyPem: pem.public(publicKey), dataDir: dir });
        expect(error.message).to.match(/^JWT_PRIVATE_KEY is not a readable PEM private key/);
        expect(error.message).to.not.include('c2VjcmV0').and.not.include('hunter2');
      }
    });

    it('refuses garbage in JWT_PUBLIC_KEY, and a private key given as the public one', async () => {
      const { privateKey } = pairs.ES256();
      const garbage = await refusal({
        privateKeyPem: pem.private(privateKey),
        publicKeyPem: 'not a key',
        dataDir: dir,
      });
      expect(garbage.message).to.match(/^JWT_PUBLIC_KEY is not a readable PEM public key/);
      const leaked = await refusal({
        privateKeyPem: pem.private(privateKey),
        publicKeyPem: pem.private(privateKey),
        dataDir: dir,
      });
      expect(leaked.message).to.match(/^JWT_PUBLIC_KEY holds a private key/);
    });

    it('needs both variables, and not JWT_KEY_FILE as well', async () => {
      const { privateKey, publicKey } = pairs.ES256();
      expect((await refusal({ privateKeyPem: pem.private(privateKey), dataDir: dir })).message).to.match(
        /^JWT_PUBLIC_KEY is missing/,
      );
      expect((await refusal({ publicKeyPem: pem.public(publicKey), dataDir: dir })).message).to.match(
        /^JWT_PRIVATE_KEY is missing/,
      );
      const both = await refusal({
        privateKeyPem: pem.private(privateKey),
        publicKeyPem: pem.public(publicKey),
        jwkFile: join(dir, 'key.json'),
        dataDir: dir,
      });
      expect(both.message).to.include('JWT_KEY_FILE').and.include('JWT_PRIVATE_KEY');
    });

    it('refuses RSA keys under 2048 bits and key types it cannot pin an algorithm to', async () => {
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const tooWeak = await refusal({
        privateKeyPem: pem.private(weak.privateKey),
        publicKeyPem: pem.public(weak.publicKey),
        dataDir: dir,
      });
      expect(tooWeak.message).to.include('JWT_PRIVATE_KEY').and.include('1024 bits');
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const unsupported = await refusal({
        privateKeyPem: pem.private(p384.privateKey),
        publicKeyPem: pem.public(p384.publicKey),
        dataDir: dir,
      });
      expect(unsupported.message).to.include('JWT_PRIVATE_KEY').and.include('secp384r1');
    });
  });

  describe('from JWT_KEY_FILE', () => {
    async function jwkFile(jwk: object): Promise<string> {
      const path = join(dir, 'signing.jwk.json');
      await writeFile(path, JSON.stringify(jwk), { mode: 0o600 });
      return path;
    }

    it("uses the file's kid and alg", async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const path = await jwkFile({ ...privateKey.export({ format: 'jwk' }), kid: '2026-11-key', alg: 'ES256' });
      const keys = await loadSigningKeys({ jwkFile: path, dataDir: dir });
      expect(keys).to.include({ alg: 'ES256', kid: '2026-11-key' });
      expect(keys.publicJwk).to.include({ kid: '2026-11-key', alg: 'ES256', use: 'sig', kty: 'EC', crv: 'P-256' });
      expect(keys.publicJwk).to.not.have.property('d');
      await expectWorkingPair(keys);
    });

    it('derives alg from the key and kid from its thumbprint when the file has neither', async () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const keys = await loadSigningKeys({
        jwkFile: await jwkFile(privateKey.export({ format: 'jwk' })),
        dataDir: dir,
      });
      expect(keys.alg).to.equal('EdDSA');
      expect(keys.kid).to.equal(await thumbprintOf(keys.publicJwk));
      await expectWorkingPair(keys);
    });

    it('refuses, naming JWT_KEY_FILE: a missing file, non-JSON, a public JWK, a wrong alg', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const missing = await refusal({ jwkFile: join(dir, 'absent.json'), dataDir: dir });
      expect(missing.message).to.include('JWT_KEY_FILE').and.include('absent.json');

      await mkdir(join(dir, 'other'));
      const cases: Array<[string, string | object]> = [
        ['not JSON', 'BEGIN PRIVATE KEY'],
        ['not a JWK object', [1, 2]],
        ['no "d"', publicKey.export({ format: 'jwk' })],
        ['made for ES256', { ...privateKey.export({ format: 'jwk' }), alg: 'RS256' }],
        ['"kid" must be a non-empty string', { ...privateKey.export({ format: 'jwk' }), kid: 7 }],
        ['not a valid private JWK', { kty: 'EC', crv: 'P-256', d: 'AAAA', x: 'AAAA', y: 'AAAA' }],
      ];
      for (const [expected, content] of cases) {
        const path = join(dir, 'other', 'key.json');
        await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
        const error = await refusal({ jwkFile: path, dataDir: dir });
        expect(error.message, expected).to.include('JWT_KEY_FILE').and.include(expected);
      }
    });
  });
});
