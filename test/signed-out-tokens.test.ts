/** Which tokens are signed out: this process's own logouts at once, other processes' through the read model. */
import { expect } from 'chai';
import { REVOKED_TOKENS } from '../projections/identity.js';
import { SignedOutTokenList } from '../infra/http/signed-out-tokens.js';

/** The read model of signed-out tokens, as another process's logout would fill it; counts the queries. */
function revokedTokensModel() {
  const listed = new Set<string>();
  const model = {
    queries: 0,
    list: (tokenId: string) => listed.add(tokenId),
    async get(collection: string, id: string) {
      expect(collection).to.equal(REVOKED_TOKENS);
      model.queries += 1;
      return listed.has(id) ? { id } : null;
    },
  };
  return model;
}

describe('signed-out tokens', () => {
  it('refuses a token signed out through this process at once, even one just found not signed out', async () => {
    const model = revokedTokensModel();
    const list = new SignedOutTokenList(model, { recheckMs: 60_000, now: () => 0 });
    expect(await list.isSignedOut('t1')).to.equal(false);
    list.remember('t1', new Date(3_600_000));
    expect(await list.isSignedOut('t1')).to.equal(true);
  });

  it('believes a token not signed out for recheckMs, then asks the read model again', async () => {
    const model = revokedTokensModel();
    let now = 1_000;
    const list = new SignedOutTokenList(model, { recheckMs: 1000, now: () => now });
    expect(await list.isSignedOut('t1')).to.equal(false);
    model.list('t1'); // signed out through another process
    now += 999;
    expect(await list.isSignedOut('t1')).to.equal(false);
    expect(model.queries).to.equal(1);
    now += 1;
    expect(await list.isSignedOut('t1')).to.equal(true);
    expect(await list.isSignedOut('t1')).to.equal(true);
    expect(model.queries).to.equal(3);
  });

  it('asks on every request with recheckMs 0', async () => {
    const model = revokedTokensModel();
    const list = new SignedOutTokenList(model, { recheckMs: 0, now: () => 5 });
    expect(await list.isSignedOut('t1')).to.equal(false);
    model.list('t1');
    expect(await list.isSignedOut('t1')).to.equal(true);
    expect(model.queries).to.equal(2);
  });

  it('keeps its memory of checked tokens to those checked within recheckMs', async () => {
    const model = revokedTokensModel();
    let now = 0;
    const list = new SignedOutTokenList(model, { recheckMs: 100, now: () => now });
    for (let i = 0; i < 50; i++) await list.isSignedOut(`old-${i}`);
    now = 200;
    await list.isSignedOut('new');
    expect((list as unknown as { notListedAt: Map<string, number> }).notListedAt.size).to.equal(1);
  });
});
