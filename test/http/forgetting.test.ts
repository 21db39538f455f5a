/**
 * Forgetting a user for real (crypto-shredding), on each event store and the read store of
 * the run: after `DELETE /identity/profile`, a scan of everything the event store holds
 * (events, stream names, snapshots; for the embedded store the bytes of its files), a scan
 * of the read store, and a full rebuild of every projection find none of the user's personal
 * data. Before the deletion the event store held it only sealed. Events an older build wrote
 * in plaintext stay in the log (it is append-only) but read as redacted once their user is
 * forgotten: the README says so, and the last test shows it.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { findUser } from '../../command-handlers/identity.js';
import { legacyEmailStream, userStream } from '../../domain/identity/events.js';
import type { EventStore } from '../../infra/eventsourcing/event-store/event-store.js';
import { ProjectionRunner } from '../../infra/eventsourcing/subscriptions/runner.js';
import { openSqliteLeases } from '../../infra/sqlite/sqlite-leases.js';
import { openSqliteReadStore } from '../../infra/sqlite/read-store/sqlite-read-store.js';
import { projections } from '../../projections/index.js';
import { openRawEventStore, TEST_PASSWORD_HASHING, type ApiServer } from '../support/api-server.js';
import { mongoUri } from '../support/mongo-target.js';
import { tempDir } from '../support/process.js';
import { type Client, eventStores, itHttp, uniqueEmail, withApiServer } from './client.js';
import { eventually, Market } from './trading-client.js';

const PROFILE = '/api/v1/identity/profile';

/** Everything the event store holds, as text: every event of `$all` with its stream, data and metadata. */
async function eventStoreText(server: ApiServer): Promise<string> {
  const raw = openRawEventStore(server);
  try {
    const events = await raw.readAll({ maxCount: 1_000_000 });
    const text = events.map((e) => JSON.stringify({ stream: e.streamId, data: e.data, metadata: e.metadata }));
    if (server.config.eventStore === 'embedded') {
      // The files themselves, snapshots and log included.
      const file = join(server.config.dataDir, 'events.db');
      for (const path of [file, `${file}-wal`]) if (existsSync(path)) text.push(readFileSync(path).toString('latin1'));
    }
    return text.join('\n');
  } finally {
    await raw.close();
  }
}

/** Every document of every collection of the server's read store, as text. */
async function readStoreText(server: ApiServer): Promise<string> {
  if (server.config.readStore === 'mongo') {
    const client = await MongoClient.connect(mongoUri!);
    try {
      const db = client.db(server.config.mongodbDb);
      const texts: string[] = [];
      for (const { name } of await db.listCollections().toArray())
        texts.push(JSON.stringify(await db.collection(name).find().toArray()));
      return texts.join('\n');
    } finally {
      await client.close();
    }
  }
  return sqliteText(join(server.config.dataDir, 'read.db'));
}

function sqliteText(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    return tables.map(({ name }) => JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())).join('\n');
  } finally {
    db.close();
  }
}

/** Every projection rebuilt from the server's event store into a fresh read store, dumped as text. */
async function rebuiltText(server: ApiServer): Promise<string> {
  const dir = tempDir('market-forgetting-');
  const file = join(dir.path, 'read.db');
  const readStore = openSqliteReadStore({ file });
  const leases = openSqliteLeases(file);
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  try {
    for (const projection of projections) {
      const runner = new ProjectionRunner(projection, {
        eventStore: server.system.eventStore,
        readStore,
        leases,
        owner: 'forgetting-test',
        log,
      });
      await runner.rebuild();
    }
    const parked = await readStore.listParked();
    expect(parked, 'nothing parked by the rebuild').to.deep.equal([]);
  } finally {
    await leases.close();
    await readStore.close();
  }
  try {
    return sqliteText(file);
  } finally {
    dir.remove();
  }
}

function expectNone(text: string, values: string[], where: string): void {
  for (const value of values) expect(text.includes(value), `${where} holds ${JSON.stringify(value)}`).to.equal(false);
}

for (const eventStore of eventStores) {
  describe(`forgetting a user (${eventStore} event store)`, function () {
    this.timeout(120_000);
    let server: ApiServer;
    let api: Client;
    let market: Market;
    withApiServer(
      eventStore,
      (started, client) => {
        server = started;
        api = client;
        market = new Market(client);
      },
      { env: { READ_YOUR_WRITES_TIMEOUT_MS: '5000', SNAPSHOT_EVERY_EVENTS: '10' }, shared: true },
    );

    itHttp('leaves none of their personal data in the event store, the read store, or a rebuild', async () => {
      const tag = randomUUID().slice(0, 8);
      const names = [`Zebulon${tag}`, `Quixote${tag}`, `Ottoline${tag}`, `Marchbanks${tag}`];
      const phones = [`+44 20 7946 ${randomInt(1000, 9999)}`, `+44 20 7946 ${randomInt(1000, 9999)}`];
      const t = await market.trader(0, { firstName: names[0], lastName: names[1] });
      const registered = await api.put(PROFILE, {
        token: t.token,
        json: { firstName: names[0], lastName: names[1], phone: phones[0] },
      });
      expect(registered.status, registered.text).to.equal(200);
      const renamed = await api.put(PROFILE, {
        token: t.token,
        json: { firstName: names[2], lastName: names[3], phone: phones[1] },
      });
      expect(renamed.status, renamed.text).to.equal(200);
      const hashes = [(await findUser(server.system.services, t.id))!.passwordHash!];
      const changed = await api.put('/api/v1/identity/password', {
        token: t.token,
        json: { oldPassword: t.password, newPassword: 'second-secret' },
      });
      expect(changed.status, changed.text).to.equal(200);
      let token = changed.body.accessToken as string;
      hashes.push((await findUser(server.system.services, t.id))!.passwordHash!);
      // Enough events on the user's stream for a snapshot of their state (SNAPSHOT_EVERY_EVENTS=10).
      for (let i = 0; i < 10; i++) {
        const login = await api.login(t.email, 'second-secret');
        expect((await api.post('/api/v1/identity/logout', { token: login.body.accessToken })).status).to.equal(204);
      }
      expect(await server.system.services.snapshots!.store.read(userStream(t.id)), 'a snapshot').to.not.equal(null);
      // A letter addressed by name: an order paid in full, leaving the balance at 0.
      await api.funded(token, 600);
      const order = await market.postCustomerOrder(token, { price: 600 }, { 'idempotency-key': randomUUID() });
      expect(order.status, order.text).to.equal(202);
      await eventually(async () => expect(await market.notifications(token)).to.have.length(1), 10_000, 'the letter');
      expect((await market.notifications(token))[0].message).to.include(`${names[2]} ${names[3]}`);
      const personal = [t.email, t.email.toLowerCase(), ...names, ...phones, ...hashes];

      // Before: the system shows the data; the event store holds it only sealed.
      expect(await api.profile(token)).to.include({ email: t.email, firstName: names[2], phone: phones[1] });
      const sealed = await eventStoreText(server);
      expect(sealed, 'the scan reads the user’s events').to.include(t.id);
      expectNone(sealed, personal, 'the event store');
      expect(await readStoreText(server), 'the scan reads the read models').to.include(names[2]);

      const removed = await api.delete(PROFILE, { token, json: { password: 'second-secret' } });
      expect(removed.status, removed.text).to.equal(204);
      token = '';

      const stream = await server.system.eventStore.readStream(userStream(t.id));
      expect(stream.status).to.equal('found');
      const events = stream.status === 'found' ? stream.events : [];
      expect(events.at(-1)?.type).to.equal('UserForgotten');
      expect(events[0]?.data).to.include({ email: '', firstName: '', lastName: '', phone: null, passwordHash: '' });
      expectNone(await eventStoreText(server), personal, 'the event store');
      await eventually(
        async () => expectNone(await readStoreText(server), personal, 'the read store'),
        10_000,
        'the read models forget the user',
      );
      const rebuilt = await rebuiltText(server);
      expectNone(rebuilt, personal, 'the rebuilt read models');
      expect(rebuilt.includes(t.id), 'the user id stays (their deals and operations are the marketplace’s)').to.equal(
        true,
      );
    });

    itHttp('redacts, on read, the plaintext an older build wrote once that user is forgotten', async () => {
      const email = uniqueEmail('legacy');
      const userId = randomUUID();
      const password = 'legacy-secret';
      const at = new Date().toISOString();
      const passwordHash = await TEST_PASSWORD_HASHING.hash(password);
      const raw: EventStore = openRawEventStore(server);
      try {
        // As a build before sealing wrote them: the address in the stream's name, everything in plaintext.
        await raw.appendToStream(legacyEmailStream(email), [
          { id: randomUUID(), type: 'EmailReserved', data: { email, userId, at }, metadata: { schemaVersion: 1 } },
        ]);
        const data = {
          userId,
          email,
          passwordHash,
          role: 'trader',
          at,
          firstName: 'Olde',
          lastName: 'Timer',
          phone: null,
        };
        await raw.appendToStream(userStream(userId), [
          { id: randomUUID(), type: 'UserRegistered', data, metadata: { schemaVersion: 1 } },
        ]);
      } finally {
        await raw.close();
      }
      const login = await api.login(email, password);
      expect(login.status, login.text).to.equal(200);
      const taken = await api.register({ email, password: 'other-pass', firstName: 'A', lastName: 'B' });
      expect(taken.status, 'the legacy claim still counts').to.equal(422);
      const token = login.body.accessToken as string;
      await eventually(async () => expect(await api.profile(token)).to.include({ email, firstName: 'Olde' }));

      const removed = await api.delete(PROFILE, { token, json: { password } });
      expect(removed.status, removed.text).to.equal(204);
      const read = await server.system.eventStore.readStream(userStream(userId));
      const first = read.status === 'found' ? read.events[0]! : null;
      expect(first?.data).to.include({ email: '', firstName: '', lastName: '', passwordHash: '' });
      await eventually(
        async () => expectNone(await readStoreText(server), [email, 'Olde', 'Timer'], 'the read store'),
        10_000,
        'the read models forget the legacy user',
      );
      expectNone(await rebuiltText(server), [email, 'Olde', 'Timer'], 'the rebuilt read models');
      expect(await eventStoreText(server), 'the log itself is append-only: what an older build wrote stays').to.include(
        passwordHash,
      );
      const again = await api.register({ email, password: 'other-pass', firstName: 'A', lastName: 'B' });
      expect(again.status, again.text).to.equal(201);
    });
  });
}
