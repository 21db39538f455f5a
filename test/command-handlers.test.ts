import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import { depositMoney, openAccount, withdrawMoney } from '../command-handlers/billing.js';
import {
  handleCommand,
  StreamStateMismatch,
  TooMuchContention,
} from '../infra/eventsourcing/command-handling/handle-command.js';
import { userCommands } from '../command-handlers/commands.js';
import {
  findUserByEmail,
  logIn,
  registerUser,
  upgradePasswordHash,
  type IdentityEnvironment,
} from '../command-handlers/identity.js';
import { StreamStateCache } from '../infra/eventsourcing/command-handling/stream-state-cache.js';
import { BusinessRuleViolation, type Decider, type DomainEvent } from '../domain/decider.js';
import { emailStream } from '../domain/identity/events.js';
import { emailClaimKeys } from '../infra/personal-data/claim-keys.js';

const claimKeys = emailClaimKeys(Buffer.alloc(32, 7));
import { WrongExpectedVersion, type EventStore } from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';

/** Fast stand-in for scrypt: these tests are about streams, not hashing. */
const plainPasswords = {
  hash: async (p: string) => `plain:${p}`,
  verify: async (p: string, h: string) => h === `plain:${p}`,
  needsRehash: (h: string) => !h.startsWith('plain:'),
};

describe('command handlers on the embedded store', function () {
  this.timeout(20_000);
  let dir: string;
  let store: EventStore;
  let env: IdentityEnvironment;
  const fresh = () => ({
    eventStore: store,
    cache: new StreamStateCache(),
    newId: uuid,
    now: () => new Date('2026-11-21T10:00:00Z'),
    passwords: plainPasswords,
    claimKeys,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-commands-'));
    store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal' });
    env = fresh();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decides again on fresh state when concurrent writers win, so none of 30 deposits is lost', async () => {
    await openAccount(env, 'u1');
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => depositMoney(env, { userId: 'u1', amount: 100, operationId: `op-${i}` })),
    );
    const last = await depositMoney(env, { userId: 'u1', amount: 1, operationId: 'last' });
    expect(last.state.balance).to.equal(3001);
    expect(last.revision).to.equal(31);
  });

  it('never lets concurrent withdrawals take the balance below zero', async () => {
    await openAccount(env, 'u1');
    await depositMoney(env, { userId: 'u1', amount: 1000, operationId: 'd' });
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) => withdrawMoney(env, { userId: 'u1', amount: 100, operationId: `w-${i}` })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(10);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(BusinessRuleViolation);
  });

  it('lets exactly one of 10 concurrent commands with the same If-Match revision through', async () => {
    await openAccount(env, 'u1');
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        depositMoney(env, { userId: 'u1', amount: 100, operationId: `op-${i}`, expectedRevision: 0 }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(WrongExpectedVersion);
  });

  it('settles conflicts between processes (separate queues and caches) without losing a deposit', async () => {
    const processes = [env, fresh(), fresh()];
    await openAccount(env, 'u1');
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        depositMoney(processes[i % 3]!, { userId: 'u1', amount: 1, operationId: `op-${i}` }),
      ),
    );
    const read = await store.readStream('account-u1');
    expect(read.status === 'found' && read.events.length).to.equal(61);
    expect((await depositMoney(env, { userId: 'u1', amount: 1, operationId: 'last' })).state.balance).to.equal(61);
  });

  it('reports a stale If-Match revision as WrongExpectedVersion without appending', async () => {
    await openAccount(env, 'u1');
    await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'a', expectedRevision: 0 });
    const error = await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'b', expectedRevision: 0 }).catch(
      (e) => e,
    );
    expect(error).to.be.instanceOf(WrongExpectedVersion);
    const read = await store.readStream('account-u1');
    expect(read.status === 'found' && read.events.length).to.equal(2);
  });

  it('answers a repeat of an applied operation as applied whatever its If-Match (a retry whose answer was lost)', async () => {
    await openAccount(env, 'u1');
    await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'a', expectedRevision: 0 });
    await depositMoney(env, { userId: 'u1', amount: 7, operationId: 'b' });
    const repeat = await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'a', expectedRevision: 0 });
    expect(repeat.events).to.deep.equal([]);
    expect(repeat.revision).to.equal(2);
    expect(repeat.state.balance).to.equal(12);
    const read = await store.readStream('account-u1');
    expect(read.status === 'found' && read.events.length).to.equal(3);
    // Anything else with that If-Match is still refused.
    for (const operationId of ['c', 'a2']) {
      const error = await depositMoney(env, { userId: 'u1', amount: 5, operationId, expectedRevision: 0 }).catch(
        (e) => e,
      );
      expect(error, operationId).to.be.instanceOf(WrongExpectedVersion);
    }
  });

  it('checks a stale If-Match against the stream, not the cache: the repeat another process applied is found', async () => {
    const other = fresh();
    await openAccount(env, 'u1');
    await depositMoney(env, { userId: 'u1', amount: 1, operationId: 'x' });
    // Applied through another process: this one's cache stops at revision 1.
    await depositMoney(other, { userId: 'u1', amount: 5, operationId: 'a' });
    const repeat = await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'a', expectedRevision: 0 });
    expect(repeat.events).to.deep.equal([]);
    expect(repeat.state.balance).to.equal(6);
  });

  it('refuses a stale If-Match when the decider calls the command a repeat but decides events all the same', async () => {
    type Counter = { count: number };
    const lying: Decider<Counter, { type: 'Add' }, DomainEvent<'Added', { at: string }>> = {
      initialState: () => ({ count: 0 }),
      evolve: (state) => ({ count: state.count + 1 }),
      decide: () => [{ type: 'Added', data: { at: '2026-11-21T10:00:00Z' } }],
      isRepeat: () => true,
    };
    const add = (expectedRevision?: number) =>
      handleCommand(env, {
        decider: lying,
        streamId: 'counter-1',
        expects: 'any',
        command: { type: 'Add' },
        expectedRevision,
      });
    await add();
    await add();
    expect(await add(0).catch((e) => e)).to.be.instanceOf(WrongExpectedVersion);
    expect((await add(1)).revision).to.equal(2);
  });

  it('catches up a cached stream with what another process appended', async () => {
    const other = fresh();
    await openAccount(env, 'u1');
    await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'a' });
    await depositMoney(other, { userId: 'u1', amount: 7, operationId: 'b' });
    const result = await depositMoney(env, { userId: 'u1', amount: 1, operationId: 'c', expectedRevision: 2 });
    expect(result.state.balance).to.equal(13);
  });

  it("answers an operation applied before with the position of the stream's last event, read once per process", async () => {
    await openAccount(env, 'u1');
    await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'a' });
    const last = await depositMoney(env, { userId: 'u1', amount: 7, operationId: 'b' });
    const reads: string[] = [];
    const watched: EventStore = Object.create(store, {
      readStream: {
        value: (stream: string, options?: object) => {
          reads.push(stream);
          return store.readStream(stream, options);
        },
      },
    });
    const again = await depositMoney({ ...env, eventStore: watched }, { userId: 'u1', amount: 5, operationId: 'a' });
    expect(again.events).to.deep.equal([]);
    expect(again.position).to.deep.equal(last.position);
    expect(reads, 'the cached stream knows where its last event is').to.deep.equal([]);
    const elsewhere = await depositMoney(
      { ...fresh(), eventStore: watched },
      { userId: 'u1', amount: 5, operationId: 'a' },
    );
    expect(elsewhere.position).to.deep.equal(last.position);
    expect(reads).to.deep.equal(['account-u1']);
  });

  it('says the account does not exist instead of creating it', async () => {
    const error = await depositMoney(env, { userId: 'nobody', amount: 5, operationId: 'a' }).catch((e) => e);
    expect(error).to.be.instanceOf(StreamStateMismatch);
  });

  it('gives up with TooMuchContention rather than retrying forever', async () => {
    await openAccount(env, 'u1');
    // A store whose appends always lose the race.
    const losing: EventStore = Object.create(store, {
      appendToStream: { value: async (stream: string) => Promise.reject(new WrongExpectedVersion(stream, 0, 1)) },
    });
    const error = await depositMoney(
      { ...env, eventStore: losing },
      { userId: 'u1', amount: 5, operationId: 'a' },
    ).catch((e) => e);
    expect(error).to.be.instanceOf(TooMuchContention);
  });

  describe('registration', () => {
    const ann = { email: 'Ann@Example.com', password: 'secret1', firstName: 'Ann', lastName: 'Lee', phone: null };

    it('lets exactly one of 10 concurrent registrations of an address succeed', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          registerUser(fresh(), { ...ann, email: i % 2 ? 'ann@example.com' : ' ANN@example.COM ' }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason.message).to.match(/^user with email ".*" already exists$/);
      }
    });

    it('completes a registration whose process died after claiming the address, once the claim is old', async () => {
      // The claim exists, the user stream does not: what a crash between the two appends leaves.
      await store.appendToStream(emailStream(claimKeys.of(ann.email)), [
        { id: uuid(), type: 'EmailReserved', data: { email: ann.email, userId: 'orphan-1', at: 'x' } },
      ]);
      const young = await registerUser(env, ann).catch((e) => e);
      expect(young.message, 'a fresh claim may still be completing').to.equal(
        'user with email "Ann@Example.com" already exists',
      );
      env = { ...env, now: () => new Date(Date.now() + 61_000) };
      const { user } = await registerUser(env, ann);
      expect(user.id).to.equal('orphan-1');
      expect((await findUserByEmail(env, 'ann@example.com'))?.userId).to.equal('orphan-1');
    });

    it('signs in case-insensitively and refuses wrong passwords and unknown emails alike', async () => {
      await registerUser(env, ann);
      expect((await logIn(env, 'ANN@example.com', 'secret1')).email).to.equal('Ann@Example.com');
      const wrong = await logIn(env, 'ann@example.com', 'nope').catch((e) => e);
      const unknown = await logIn(env, 'bob@example.com', 'secret1').catch((e) => e);
      expect(wrong.message).to.equal('email or password is incorrect');
      expect(unknown.message).to.equal(wrong.message);
    });

    it('upgrades a hash made with older parameters at sign-in, as an event of the user, once', async () => {
      const { user: registered } = await registerUser(env, ann);
      // A later build hashes with stronger parameters ("v2:"); the old hash still verifies.
      const stronger = {
        hash: async (p: string) => `v2:${p}`,
        verify: async (p: string, h: string) => h === `plain:${p}` || h === `v2:${p}`,
        needsRehash: (h: string) => !h.startsWith('v2:'),
      };
      const later = { ...env, passwords: stronger, now: () => new Date('2026-11-22T10:00:00Z') };
      const signedIn = await logIn(later, 'ann@example.com', 'secret1');
      expect(await upgradePasswordHash(later, signedIn, 'secret1')).to.equal(true);
      const read = await store.readStream(`user-${registered.id}`);
      const last = read.status === 'found' ? read.events.at(-1)! : undefined;
      expect(last?.type).to.equal('UserPasswordRehashed');
      expect(last?.data).to.deep.equal({
        userId: registered.id,
        passwordHash: 'v2:secret1',
        at: '2026-11-22T10:00:00.000Z',
      });

      const again = await logIn(later, 'ann@example.com', 'secret1');
      expect(again.passwordHash).to.equal('v2:secret1');
      expect(again.updatedAt, 'not a change by the user').to.equal(registered.updatedAt);
      expect(await upgradePasswordHash(later, again, 'secret1')).to.equal(false);
      const after = await store.readStream(`user-${registered.id}`);
      expect(after.status === 'found' && after.events.length).to.equal(read.status === 'found' && read.events.length);
    });

    it('does not overwrite a password changed between the sign-in and its rehash', async () => {
      const { user: registered } = await registerUser(env, ann);
      const signedIn = await logIn(env, 'ann@example.com', 'secret1');
      await userCommands.handle(env, {
        type: 'ChangePassword',
        userId: registered.id,
        passwordHash: 'plain:changed',
        at: '2026-11-21T10:00:00.000Z',
      });
      const stronger = { ...plainPasswords, hash: async (p: string) => `v2:${p}`, needsRehash: () => true };
      expect(await upgradePasswordHash({ ...env, passwords: stronger }, signedIn, 'secret1')).to.equal(false);
      expect((await findUserByEmail(env, 'ann@example.com'))?.passwordHash).to.equal('plain:changed');
    });
  });
});
