import { expect } from 'chai';
import { randomBytes, scryptSync } from 'node:crypto';
import {
  currentParameters,
  hashPassword,
  needsRehash,
  scryptHashing,
  scryptPasswords,
  verifyPassword,
} from '../infra/auth/passwords.js';

const password = 'correct horse battery staple';

/** A stored string in our format made with other parameters (as an older release would have). */
function storedWith(N: number, r: number, p: number, secret = password): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret.normalize('NFKC'), salt, 32, { N, r, p, maxmem: 256 * N * r });
  return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

describe('passwords', () => {
  let stored: string;

  before(async () => {
    stored = await hashPassword(password);
  });

  it('stores scrypt$N$r$p$salt$hash with the current parameters, 16-byte salt and 32-byte hash (base64url)', () => {
    const { N, r, p } = currentParameters;
    expect(stored).to.match(new RegExp(`^scrypt\\$${N}\\$${r}\\$${p}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`));
    expect(stored).to.not.include(password);
  });

  it('verifies the right password and refuses others', async () => {
    expect(await verifyPassword(password, stored)).to.equal(true);
    for (const wrong of [
      '',
      'correct horse battery stapl',
      'Correct horse battery staple',
      `${password} `,
      `\0${password}`,
    ]) {
      expect(await verifyPassword(wrong, stored), JSON.stringify(wrong)).to.equal(false);
    }
  });

  it('salts: two hashes of one password differ and both verify', async () => {
    const again = await hashPassword(password);
    expect(again).to.not.equal(stored);
    expect(again.split('$')[4]).to.not.equal(stored.split('$')[4]);
    expect(await verifyPassword(password, again)).to.equal(true);
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const composed = 'caf\u00e9 d\u00e9j\u00e0 vu';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).to.not.equal(composed);
    expect(await verifyPassword(decomposed, await hashPassword(composed))).to.equal(true);
  });

  it('answers false, without throwing, for a tampered or foreign stored string', async () => {
    const [scheme, N, r, p, salt = '', hash = ''] = stored.split('$');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const tampered = [
      [scheme, N, r, p, salt, flip(hash, 5)],
      [scheme, N, r, p, flip(salt, 3), hash],
      [scheme, Number(N) * 2, r, p, salt, hash],
      [scheme, N, Number(r) + 1, p, salt, hash],
      [scheme, N, r, Number(p) + 1, salt, hash],
      [scheme, N, r, p, salt, hash.slice(0, -2)],
      [scheme, N, r, p, salt, hash.slice(0, 32)], // a shorter hash is a prefix of the real one
      [scheme, N, r, p, salt.slice(0, 16), hash],
      [scheme, N, r, p, salt, `${hash}==`],
      [scheme, N, r, p, salt, hash.replace(/.$/, '!')],
      [scheme, 16383, r, p, salt, hash], // not a power of two
      [scheme, 2 ** 30, r, p, salt, hash], // would need 128 GiB
      [scheme, N, 999, p, salt, hash],
      [scheme, N, r, 999, salt, hash],
      [scheme, 2, r, p, salt, hash], // too cheap to be ours
      [scheme, N, r, p, salt],
      [scheme, N, r, p, salt, hash, 'extra'],
      ['bcrypt', N, r, p, salt, hash],
    ].map((parts) => parts.join('$'));
    for (const bad of [...tampered, '', 'plain-text-password', password, `${stored}\n`, ` ${stored}`]) {
      expect(await verifyPassword(password, bad), bad).to.equal(false);
    }
    expect(await verifyPassword(password, undefined as unknown as string)).to.equal(false);
  });

  it('verifies a hash made with other parameters, read from the stored string', async () => {
    const older = storedWith(2 ** 10, 8, 1);
    expect(await verifyPassword(password, older)).to.equal(true);
    expect(await verifyPassword('wrong', older)).to.equal(false);
  });

  describe('needsRehash', () => {
    it('is false for a hash made now', () => {
      expect(needsRehash(stored)).to.equal(false);
    });

    it('is true for other parameters (weaker or stronger) and for unreadable strings', () => {
      const { N, r, p } = currentParameters;
      expect(needsRehash(storedWith(N / 2, r, p))).to.equal(true);
      expect(needsRehash(storedWith(2 ** 10, r, p + 1))).to.equal(true);
      expect(needsRehash(storedWith(2 ** 10, 4, p))).to.equal(true);
      expect(needsRehash('')).to.equal(true);
      expect(needsRehash('md5$whatever')).to.equal(true);
    });
  });

  it('offers the { hash, verify, needsRehash } shape the identity commands take, with today’s parameters', async () => {
    const { N, r, p } = currentParameters;
    const made = await scryptPasswords.hash(password);
    expect(made.startsWith(`scrypt$${N}$${r}$${p}$`)).to.equal(true);
    expect(await scryptPasswords.verify(password, made)).to.equal(true);
    expect(scryptPasswords.needsRehash(made)).to.equal(false);
  });

  it("hashes with one of OWASP's scrypt parameter sets, the one that keeps memory at 16 MiB: N=2^14, r=8, p=5", () => {
    expect(currentParameters).to.deep.equal({ N: 2 ** 14, r: 8, p: 5 });
    expect(128 * currentParameters.N * currentParameters.r).to.equal(16 * 1024 * 1024);
  });

  it('verifies a hash of the parameters before (N=2^14, r=8, p=1) and asks for it to be upgraded', async () => {
    const before = storedWith(2 ** 14, 8, 1);
    expect(await verifyPassword(password, before)).to.equal(true);
    expect(await verifyPassword('wrong', before)).to.equal(false);
    expect(needsRehash(before)).to.equal(true);
  });

  it('scryptHashing: new hashes with its own parameters, any stored hash verified, others flagged for a rehash', async () => {
    const cheap = scryptHashing({ N: 2 ** 10, r: 8, p: 1 });
    const made = await cheap.hash(password);
    expect(made.startsWith('scrypt$1024$8$1$')).to.equal(true);
    expect(cheap.needsRehash(made)).to.equal(false);
    expect(cheap.needsRehash(stored)).to.equal(true);
    expect(await cheap.verify(password, stored), 'a hash of other parameters').to.equal(true);
    expect(await scryptPasswords.verify(password, made)).to.equal(true);
    expect(scryptPasswords.needsRehash(made)).to.equal(true);
  });
});
