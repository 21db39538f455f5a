/**
 * Personal data at the event store's boundary: the key stores (SQLite; MongoDB when
 * MONGODB_URI is set), and the decorators that seal events and snapshots, open them, and
 * redact them once their subject is forgotten — sealed or written in plaintext before.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { personalData } from '../domain/personal-data.js';
import type { EventStore, RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { CachedKeys, type PersonalDataKeys } from '../infra/eventsourcing/personal-data/keys.js';
import {
  personalDataEventStore,
  SubjectForgotten,
} from '../infra/eventsourcing/personal-data/personal-data-event-store.js';
import { personalDataSnapshots } from '../infra/eventsourcing/personal-data/personal-data-snapshots.js';
import { openMongoPersonalDataKeys } from '../infra/mongodb/mongo-personal-data-keys.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { openSqlitePersonalDataKeys } from '../infra/sqlite/sqlite-personal-data-keys.js';
import { dropDatabases, mongoUri, skipWithoutMongo, uniqueDbName } from './support/mongo-target.js';
import { tempDir, type TempDir } from './support/process.js';

const key = (byte: number) => Buffer.alloc(32, byte);

function keyStoreContract(open: () => Promise<PersonalDataKeys>, cleanUp: () => Promise<void> = async () => {}) {
  let keys: PersonalDataKeys;
  beforeEach(async () => {
    keys = await open();
  });
  afterEach(async () => {
    await keys.close();
    await cleanUp();
  });

  it('keeps the first key obtained for a subject, also when two ask at once', async () => {
    const subject = randomUUID();
    expect(await keys.find(subject)).to.deep.equal({ kind: 'none' });
    const [a, b] = await Promise.all([keys.obtain(subject, key(1)), keys.obtain(subject, key(2))]);
    expect(a).to.deep.equal(b);
    expect(a.kind).to.equal('active');
    expect(await keys.obtain(subject, key(3))).to.deep.equal(a);
    expect(await keys.find(subject)).to.deep.equal(a);
  });

  it('forgets a key for good, leaving a tombstone, also for a subject that never had one', async () => {
    const subject = randomUUID();
    await keys.obtain(subject, key(1));
    await keys.forget(subject, new Date());
    await keys.forget(subject, new Date());
    expect(await keys.find(subject)).to.deep.equal({ kind: 'forgotten' });
    expect(await keys.obtain(subject, key(2)), 'no new key for a forgotten subject').to.deep.equal({
      kind: 'forgotten',
    });
    const never = randomUUID();
    await keys.forget(never, new Date());
    expect(await keys.find(never)).to.deep.equal({ kind: 'forgotten' });
  });
}

describe('personal-data key store (SQLite)', () => {
  let dir: TempDir;
  keyStoreContract(
    async () => {
      dir = tempDir('market-keys-');
      return openSqlitePersonalDataKeys(join(dir.path, 'personal-keys.db'));
    },
    async () => dir.remove(),
  );
});

describe('personal-data key store (MongoDB)', () => {
  if (!mongoUri) {
    skipWithoutMongo('the MongoDB key store');
    return;
  }
  const dbName = uniqueDbName('keys');
  keyStoreContract(() => openMongoPersonalDataKeys(mongoUri!, dbName));
  after(() => dropDatabases([dbName]));
});

describe('personal data sealed at the event store', () => {
  let dir: TempDir;
  let raw: EventStore;
  let keys: CachedKeys;
  let store: EventStore;
  const userId = 'u-1';
  const registered = {
    userId,
    email: 'ann@example.test',
    passwordHash: 'scrypt$secret',
    role: 'trader',
    at: '2026-12-07T10:00:00.000Z',
    firstName: 'Ann',
    lastName: 'Lee',
    phone: '+1 555 0100',
  };
  const append = (s: EventStore, type: string, data: Record<string, string | null>, stream = `user-${userId}`) =>
    s.appendToStream(stream, [{ id: randomUUID(), type, data, metadata: { schemaVersion: 1 } }]);
  const dataOf = async (s: EventStore, stream = `user-${userId}`): Promise<RecordedEvent['data'][]> => {
    const read = await s.readStream(stream);
    return read.status === 'found' ? read.events.map((e) => e.data) : [];
  };

  beforeEach(() => {
    dir = tempDir('market-sealed-');
    raw = openSqliteEventStore({ file: join(dir.path, 'events.db'), durability: 'normal', writer: 'inline' });
    keys = new CachedKeys(openSqlitePersonalDataKeys(join(dir.path, 'personal-keys.db')));
    store = personalDataEventStore(raw, keys, personalData);
  });
  afterEach(async () => {
    await raw.close();
    await keys.store.close();
    dir.remove();
  });

  it('stores the personal fields only sealed, and reads them back as they were', async () => {
    await append(store, 'UserRegistered', registered);
    const [stored] = await dataOf(raw);
    expect(Object.keys(stored!).sort()).to.deep.equal(['at', 'personalData', 'role', 'userId']);
    for (const value of ['ann@example.test', 'scrypt$secret', 'Ann', 'Lee', '+1 555 0100'])
      expect(JSON.stringify(stored)).to.not.include(value);
    expect(await dataOf(store)).to.deep.equal([registered]);
    const all = await store.readAll({ maxCount: 10 });
    expect(all[0]!.data).to.deep.equal(registered);
    expect(all[0]!.metadata).to.deep.equal({ schemaVersion: 1 });
  });

  it('reads a sealed value that was tampered with or moved as unreadable, never as something else', async () => {
    await append(store, 'UserRegistered', registered);
    const [sealed] = (await raw.readAll({ maxCount: 1 })).map((e) => ({ data: e.data, metadata: e.metadata }));
    // The same sealed fields under another user's event: they were sealed for u-1, and do not open for u-2.
    await raw.appendToStream('user-u-2', [
      {
        id: randomUUID(),
        type: 'UserRegistered',
        data: { ...sealed!.data, userId: 'u-2' },
        metadata: sealed!.metadata,
      },
    ]);
    await keys.obtain('u-2', () => key(9));
    const moved = (await store.readAll({ maxCount: 10 })).find((e) => e.streamId === 'user-u-2');
    expect(moved?.unreadable).to.match(/does not decrypt/);
    expect(JSON.stringify(moved?.data)).to.not.include('ann@example.test');
  });

  it('redacts a forgotten subject’s fields in every read, sealed or written in plaintext before sealing', async () => {
    await append(store, 'UserRegistered', registered);
    await append(raw, 'UserProfileUpdated', { userId, firstName: 'Old', lastName: 'Plain', phone: null, at: 'x' });
    expect((await dataOf(store))[1]).to.include({ firstName: 'Old' });
    await keys.forget(userId, new Date());
    const [first, second] = await dataOf(store);
    expect(first).to.deep.equal({
      ...registered,
      email: '',
      passwordHash: '',
      firstName: '',
      lastName: '',
      phone: null,
    });
    expect(second).to.include({ firstName: '', lastName: '', phone: null });
    const appended = await append(store, 'UserPasswordChanged', { userId, passwordHash: 'h', at: 'x' }).catch(
      (e: unknown) => e,
    );
    expect(appended).to.be.instanceOf(SubjectForgotten);
  });

  it('redacts the events read together with their subject’s erasure, even before the key is destroyed', async () => {
    await append(store, 'UserRegistered', registered);
    await append(store, 'UserForgotten', { userId, at: 'x' });
    const fresh = personalDataEventStore(raw, new CachedKeys(keys.store), personalData);
    const [first] = await dataOf(fresh);
    expect(first).to.include({ email: '', firstName: '' });
    expect(
      await keys.store.find(userId),
      'the key itself is destroyed by the command or the erasure handler',
    ).to.include({ kind: 'active' });
  });

  it('seals the snapshots of a user’s stream, and reads none once the user is forgotten', async () => {
    const written: { state: string }[] = [];
    const inner = {
      read: async () =>
        written.length
          ? { ...written.at(-1)!, streamId: 'user-u-1', revision: 3, position: { commit: 1n, prepare: 1n }, version: 2 }
          : null,
      write: async (s: { state: string }) => {
        written.push(s);
      },
    };
    const snapshots = personalDataSnapshots(inner, keys, personalData.streamSubject);
    const snapshot = {
      streamId: 'user-u-1',
      revision: 3,
      position: { commit: 1n, prepare: 1n },
      version: 2,
      state: '{"email":"ann@example.test"}',
    };
    await snapshots.write(snapshot);
    expect(written[0]!.state).to.not.include('ann@example.test');
    expect(await snapshots.read('user-u-1')).to.deep.equal(snapshot);
    await keys.forget('u-1', new Date());
    expect(await snapshots.read('user-u-1')).to.equal(null);
  });
});
