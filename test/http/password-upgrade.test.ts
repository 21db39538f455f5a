/**
 * Passwords hashed with the parameters of an earlier build are upgraded at the next sign-in
 * (embedded event store): the server hashes the password it just verified with today's
 * scrypt parameters (N=2^14, r=8, p=5) and records it as a `UserPasswordRehashed` event of
 * the user. The old hash keeps working until then; a rehash that fails never fails the
 * sign-in.
 */
import { expect } from 'chai';
import { scryptPasswords } from '../../infra/auth/passwords.js';
import type { RecordedEvent } from '../../infra/eventsourcing/event-store/event-store.js';
import { startApiServer, TEST_PASSWORD_HASHING, type ApiServer } from '../support/api-server.js';
import { capturedLogger, flushed } from '../support/captured-log.js';
import { Client, expectError, itHttp, uniqueEmail } from './client.js';

const PASSWORD = 'correct horse battery staple';

describe('HTTP: a password hash of older parameters is upgraded at sign-in (embedded event store)', function () {
  this.timeout(60_000);
  let server: ApiServer;
  let api: Client;
  const log = capturedLogger();

  before(async () => {
    server = await startApiServer({ logger: log.logger });
    api = new Client(server.baseUrl);
  });
  after(async () => {
    await server?.close();
  });
  afterEach(() => {
    server.system.services.passwords = TEST_PASSWORD_HASHING;
  });

  /** A user registered by a build that hashed with N=2^14, r=8, p=1 (the parameters before this one). */
  async function registeredBefore(): Promise<{ id: string; email: string; updatedAt: string }> {
    server.system.services.passwords = TEST_PASSWORD_HASHING;
    const email = uniqueEmail('upgrade');
    const answer = await api.register({ email, password: PASSWORD, firstName: 'Old', lastName: 'Hash' });
    expect(answer.status, answer.text).to.equal(201);
    // Deployed: the server now hashes with today's parameters.
    server.system.services.passwords = scryptPasswords;
    return { id: answer.body.id, email, updatedAt: answer.body.updatedAt };
  }

  async function userEvents(userId: string): Promise<RecordedEvent[]> {
    const read = await server.system.eventStore.readStream(`user-${userId}`);
    return read.status === 'found' ? read.events : [];
  }

  itHttp(
    'the sign-in answers 200 and stores a hash of N=2^14 r=8 p=5 as UserPasswordRehashed; later sign-ins use it and add nothing',
    async () => {
      const user = await registeredBefore();
      const [registered] = await userEvents(user.id);
      expect(String(registered!.data.passwordHash)).to.match(/^scrypt\$16384\$8\$1\$/);

      const login = await api.login(user.email, PASSWORD);
      expect(login.status, login.text).to.equal(200);
      const events = await userEvents(user.id);
      expect(events.map((e) => e.type)).to.deep.equal(['UserRegistered', 'UserPasswordRehashed']);
      expect(events[1]!.data.userId).to.equal(user.id);
      expect(String(events[1]!.data.passwordHash)).to.match(/^scrypt\$16384\$8\$5\$/);
      expect(events[1]!.data.passwordHash).to.not.include(PASSWORD);

      const again = await api.login(user.email.toUpperCase(), PASSWORD);
      expect(again.status, again.text).to.equal(200);
      expectError(await api.login(user.email, `${PASSWORD}!`), 401, 'email or password is incorrect');
      expect(await userEvents(user.id)).to.have.length(2);
      // Not a change the user made: the profile's updatedAt stays.
      const profile = await api.get('/api/v1/identity/profile', { token: again.body.accessToken });
      expect(profile.status, profile.text).to.equal(200);
      expect(profile.body.updatedAt).to.equal(user.updatedAt);
    },
  );

  itHttp(
    'a rehash that fails leaves the sign-in alone (200, a warning in the log); the next sign-in upgrades',
    async () => {
      const user = await registeredBefore();
      server.system.services.passwords = {
        ...scryptPasswords,
        hash: () => Promise.reject(new Error('the hashing pool is exhausted')),
      };
      const login = await api.login(user.email, PASSWORD);
      expect(login.status, login.text).to.equal(200);
      expect(await userEvents(user.id)).to.have.length(1);
      await flushed();
      const warning = log.lines.find(
        (l) => l.msg === 'could not store a stronger hash of the password; the next sign-in tries again',
      );
      expect(warning, 'a warning line').to.not.equal(undefined);
      expect(warning).to.include({ level: 40, userId: user.id });
      expect(warning!.err?.message).to.equal('the hashing pool is exhausted');

      server.system.services.passwords = scryptPasswords;
      expect((await api.login(user.email, PASSWORD)).status).to.equal(200);
      expect((await userEvents(user.id)).map((e) => e.type)).to.deep.equal(['UserRegistered', 'UserPasswordRehashed']);
    },
  );
});
