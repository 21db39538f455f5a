/** Which tokens are signed out: this process's own logouts at once, other processes' through the read model. */
import { expect } from 'chai';
import { identityProjection, purgeExpiredSignOuts } from '../projections/identity.js';
import { endedSessions, revokedTokens, users } from '../projections/read-models/identity.js';
import type { Doc } from '../infra/eventsourcing/read-store/read-store.js';
import { SignedOutTokenList } from '../infra/http/signed-out-tokens.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';

/** A token of user u1 issued before any of their sessions were ended. */
const token = (jti: string, sessions = 0) => ({ jti, userId: 'u1', sessions });

/**
 * The read models of signed-out tokens and ended sessions, as another process's logout or
 * password change would fill them; counts the queries of signed-out tokens.
 */
function revokedTokensModel() {
  const listed = new Set<string>();
  const ended = new Map<string, number>();
  const model = {
    queries: 0,
    list: (tokenId: string) => listed.add(tokenId),
    endSessions: (userId: string, sessions: number) => ended.set(userId, sessions),
    async get(collection: string, id: string): Promise<Doc | null> {
      if (collection === endedSessions.name) return ended.has(id) ? { id, sessions: ended.get(id)! } : null;
      expect(collection).to.equal(revokedTokens.name);
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
    expect(await list.isSignedOut(token('t1'))).to.equal(false);
    list.remember('t1', new Date(3_600_000));
    expect(await list.isSignedOut(token('t1'))).to.equal(true);
  });

  it('believes a token not signed out for recheckMs, then asks the read model again', async () => {
    const model = revokedTokensModel();
    let now = 1_000;
    const list = new SignedOutTokenList(model, { recheckMs: 1000, now: () => now });
    expect(await list.isSignedOut(token('t1'))).to.equal(false);
    model.list('t1'); // signed out through another process
    now += 999;
    expect(await list.isSignedOut(token('t1'))).to.equal(false);
    expect(model.queries).to.equal(1);
    now += 1;
    expect(await list.isSignedOut(token('t1'))).to.equal(true);
    expect(await list.isSignedOut(token('t1'))).to.equal(true);
    expect(model.queries).to.equal(3);
  });

  it('asks on every request with recheckMs 0', async () => {
    const model = revokedTokensModel();
    const list = new SignedOutTokenList(model, { recheckMs: 0, now: () => 5 });
    expect(await list.isSignedOut(token('t1'))).to.equal(false);
    model.list('t1');
    expect(await list.isSignedOut(token('t1'))).to.equal(true);
    expect(model.queries).to.equal(2);
  });

  it('keeps its memory of checked tokens to those checked within recheckMs', async () => {
    const model = revokedTokensModel();
    let now = 0;
    const list = new SignedOutTokenList(model, { recheckMs: 100, now: () => now });
    for (let i = 0; i < 50; i++) await list.isSignedOut(token(`old-${i}`));
    now = 200;
    await list.isSignedOut(token('new'));
    expect((list as unknown as { notListedAt: Map<string, number> }).notListedAt.size).to.equal(1);
  });

  it('lets its own sign-outs go once they expired: `remembered` shrinks (checked at each sign-out)', async () => {
    const model = revokedTokensModel();
    let now = 0;
    const list = new SignedOutTokenList(model, { recheckMs: 0, now: () => now });
    list.remember('t1', new Date(1_000));
    list.remember('t2', new Date(2_000));
    expect(list.remembered).to.equal(2);
    now = 1_500;
    list.remember('t3', new Date(5_000));
    expect(list.remembered, 't1 expired').to.equal(2);
    expect(await list.isSignedOut(token('t2'))).to.equal(true);
    expect(model.queries, 'an own sign-out needs no query').to.equal(0);
    // Expired and let go: the read model answers for it now (it is refused for its exp anyway).
    expect(await list.isSignedOut(token('t1'))).to.equal(false);
    expect(model.queries).to.equal(1);
    now = 10_000;
    list.remember('t4', new Date(20_000));
    expect(list.remembered).to.equal(1);
  });

  it("refuses a token issued before its user's sessions were ended through this process at once, and a later one not", async () => {
    const model = revokedTokensModel();
    const list = new SignedOutTokenList(model, { recheckMs: 60_000, now: () => 0 });
    expect(await list.isSignedOut(token('t1'))).to.equal(false);
    list.rememberSessionsEnded('u1', 2);
    expect(await list.isSignedOut(token('t1'))).to.equal(true);
    expect(await list.isSignedOut(token('t2', 1))).to.equal(true);
    expect(await list.isSignedOut(token('t3', 2))).to.equal(false);
    expect(await list.isSignedOut({ jti: 't4', userId: 'u2', sessions: 0 }), 'another user').to.equal(false);
    list.rememberSessionsEnded('u1', 1);
    expect(await list.isSignedOut(token('t2', 1)), 'an older count changes nothing').to.equal(true);
  });

  it("refuses a token issued before its user's sessions were ended through another process, after recheckMs", async () => {
    const model = revokedTokensModel();
    let now = 0;
    const list = new SignedOutTokenList(model, { recheckMs: 1000, now: () => now });
    expect(await list.isSignedOut(token('t1'))).to.equal(false);
    model.endSessions('u1', 1);
    expect(await list.isSignedOut(token('t1'))).to.equal(false);
    now = 1000;
    expect(await list.isSignedOut(token('t1'))).to.equal(true);
    expect(await list.isSignedOut(token('t2', 1))).to.equal(false);
  });

  it('holds about one token lifetime of sign-outs, however many there were', () => {
    const model = revokedTokensModel();
    let now = 0;
    const list = new SignedOutTokenList(model, { recheckMs: 0, now: () => now });
    const lifetime = 3_600_000;
    let largest = 0;
    for (let i = 0; i < 20_000; i++) {
      now = i * 10_000; // one sign-out every 10 s for two days
      list.remember(`t${i}`, new Date(now + lifetime));
      largest = Math.max(largest, list.remembered);
    }
    expect(largest).to.be.at.most(lifetime / 10_000 + 1);
  });

  it('purgeExpiredSignOuts removes the revoked tokens that have expired, and nothing else', async () => {
    const store = openSqliteReadStore({ file: ':memory:' });
    try {
      await store.ensureCollections(identityProjection.collections);
      const now = Date.parse('2026-11-21T12:00:00.000Z');
      const event = (n: number, type: string, data: Record<string, string | null>): RecordedEvent => ({
        id: `e${n}`,
        type,
        streamId: 'user-u1',
        revision: n,
        position: { commit: BigInt(n + 1), prepare: BigInt(n + 1) },
        data,
        metadata: {},
        created: new Date(now),
      });
      const events = [
        event(0, 'UserRegistered', {
          userId: 'u1',
          email: 'u1@x.test',
          passwordHash: 'h',
          role: 'trader',
          firstName: 'A',
          lastName: 'B',
          phone: null,
          at: new Date(now - 7_200_000).toISOString(),
        }),
        ...[-7_200_000, -1, 0, 1, 3_600_000].map((offset, i) =>
          event(i + 1, 'UserLoggedOut', {
            userId: 'u1',
            tokenId: `tok${offset}`,
            tokenExpiresAt: new Date(now + offset).toISOString(),
            at: new Date(now - 7_200_000).toISOString(),
          }),
        ),
      ];
      for (const e of events) {
        const ops = await identityProjection.handle(e, { get: async () => null }, { redeliveryFloor: -1 });
        await store.commit('identity', [{ position: e.position, ops }], e.position);
      }
      expect(await purgeExpiredSignOuts(store, new Date(now))).to.equal(2);
      expect(await store.get(revokedTokens.name, 'tok-7200000')).to.equal(null);
      expect(await store.get(revokedTokens.name, 'tok-1')).to.equal(null);
      // Expiring right now is not expired yet; later ones stay.
      for (const id of ['tok0', 'tok1', 'tok3600000'])
        expect(await store.get(revokedTokens.name, id), id).to.not.equal(null);
      expect(await store.get(users.name, 'u1')).to.not.equal(null);
      expect(await purgeExpiredSignOuts(store, new Date(now))).to.equal(0);
      expect(await purgeExpiredSignOuts(store, new Date(now + 3_600_001))).to.equal(3);
    } finally {
      await store.close();
    }
  });
});
