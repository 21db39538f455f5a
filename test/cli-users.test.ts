/**
 * `npm run cli -- users grant|revoke <email> admin|broker` and the one broker, run as the
 * operator runs them against an embedded DATA_DIR: `broker provision` (the same path as
 * BROKER_EMAIL at start-up) with another address retires the broker before.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { brokerStream } from '../domain/identity/admin-events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { cleanEnv, distDir, runNode, tempDir, type Finished, type TempDir } from './support/process.js';

const cliScript = join(distDir, 'infra', 'cli', 'main.js');

function cli(dataDir: string, args: string[]): Promise<Finished> {
  return runNode(cliScript, args, cleanEnv({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'normal' }));
}

async function ok(dataDir: string, args: string[]): Promise<string> {
  const done = await cli(dataDir, args);
  expect(done.code, `${args.join(' ')}: ${done.stdout}${done.stderr}`).to.equal(0);
  return done.stdout;
}

/** Every event of the streams whose names begin with `prefix`, in order. */
async function eventsOf(dataDir: string, stream: string): Promise<RecordedEvent[]> {
  const store = openSqliteEventStore({ file: join(dataDir, 'events.db'), durability: 'normal' });
  try {
    const read = await store.readStream(stream);
    return read.status === 'found' ? read.events : [];
  } finally {
    await store.close();
  }
}

describe('operator CLI: users grant/revoke and the one broker', function () {
  this.timeout(180_000);
  let dir: TempDir;
  before(() => {
    dir = tempDir('market-cli-users-');
  });
  after(() => dir.remove());

  it('exits 64 with the usage on a wrong role, a missing email or an unknown command', async () => {
    for (const args of [
      ['users', 'grant', 'a@x.test', 'king'],
      ['users', 'grant'],
      ['users', 'promote', 'a@x.test', 'admin'],
    ]) {
      const done = await cli(dir.path, args);
      expect(done.code, args.join(' ')).to.equal(64);
      expect(done.stderr).to.include('users grant <email> admin|broker');
    }
  });

  it('a second broker provisioned retires the first: one broker, both appointments recorded with who did it', async () => {
    await ok(dir.path, ['broker', 'provision', '--email', 'first@x.test', '--password', 'secret-1']);
    await ok(dir.path, ['broker', 'provision', '--email', 'second@x.test', '--password', 'secret-2']);
    const appointments = await eventsOf(dir.path, brokerStream());
    expect(appointments.map((e) => [e.type, e.data.by])).to.deep.equal([
      ['BrokerAppointed', 'cli'],
      ['BrokerAppointed', 'cli'],
    ]);
    expect(appointments[1]!.data.previousBrokerId).to.equal(appointments[0]!.data.userId);
    const first = await eventsOf(dir.path, `user-${appointments[0]!.data.userId}`);
    expect(first.at(-1)).to.deep.include({ type: 'UserRoleChanged' });
    expect(first.at(-1)!.data).to.deep.include({ role: 'trader', by: 'cli' });
  });

  it('grants and revokes admin; the broker in office cannot be revoked nor made admin; granting broker appoints', async () => {
    expect(await ok(dir.path, ['users', 'grant', 'first@x.test', 'admin'])).to.include('given the admin role');
    expect(await ok(dir.path, ['users', 'grant', 'FIRST@x.test', 'admin'])).to.include('unchanged');
    const refused = await cli(dir.path, ['users', 'revoke', 'second@x.test', 'broker']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('exactly one broker');
    expect((await cli(dir.path, ['users', 'grant', 'second@x.test', 'admin'])).code).to.equal(1);
    expect((await cli(dir.path, ['users', 'grant', 'first@x.test', 'broker'])).stderr).to.include(
      'revoke the admin role first',
    );
    expect(await ok(dir.path, ['users', 'revoke', 'first@x.test', 'admin'])).to.include('no longer an admin');
    expect(await ok(dir.path, ['users', 'grant', 'first@x.test', 'broker'])).to.include('given the broker role');
    const appointments = await eventsOf(dir.path, brokerStream());
    expect(appointments).to.have.length(3);
    const second = await eventsOf(dir.path, `user-${appointments[1]!.data.userId}`);
    expect(second.at(-1)!.data).to.deep.include({ role: 'trader', by: 'cli' });
    expect((await cli(dir.path, ['users', 'grant', 'nobody@x.test', 'admin'])).code).to.equal(1);
  });
});
