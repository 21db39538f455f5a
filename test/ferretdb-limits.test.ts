/**
 * What the product refuses on FerretDB, whose conditional updates are not atomic (see
 * infra/mongodb/ferretdb-guard.ts): more than one process running projections. Each test runs on
 * whichever server MONGODB_URI names and checks what that server must do: on FerretDB the
 * refusal and its one line, on MongoDB that the same processes start.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import {
  dropDatabases,
  mongoTitle,
  mongoUri,
  onFerretDb,
  skipWithoutMongo,
  uniqueDbName,
} from './support/mongo-target.js';
import { cleanEnv, distDir, runNode, tempDir, type Finished, type TempDir } from './support/process.js';
import { mainScript, startRoleProcess, type RoleProcess } from './support/role-process.js';

const cliScript = join(distDir, 'infra', 'cli', 'main.js');

/** Exit 1 and exactly one line on stderr, without a stack trace. */
function oneLineFailure(finished: Finished): string {
  expect(finished.code, finished.stderr).to.equal(1);
  const lines = finished.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, finished.stderr).to.have.length(1);
  return lines[0]!;
}

describe(`running projections on ${mongoTitle}`, function () {
  this.timeout(60_000);
  const uri = mongoUri;
  if (!uri) {
    skipWithoutMongo('the FerretDB limits (one process running projections)');
    return;
  }
  let dir: TempDir;
  let env: Record<string, string>;
  const running: RoleProcess[] = [];
  const databases: string[] = [];

  beforeEach(() => {
    dir = tempDir('market-ferretdb-');
    const db = uniqueDbName('limits_test');
    databases.push(db);
    env = { READ_STORE: 'mongo', MONGODB_URI: uri, MONGODB_DB: db, DATA_DIR: dir.path, STARTUP_TIMEOUT_MS: '10000' };
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    dir.remove();
  });
  after(() => dropDatabases(databases));

  const start = async (role: string) => {
    const started = await startRoleProcess({ ...env, ROLE: role });
    running.push(started);
    return started;
  };
  /** Until some process holds a lease in this test's database (its runners are at work). */
  const leaseHeld = async () => {
    const client = await MongoClient.connect(uri);
    try {
      const leases = client.db(env.MONGODB_DB).collection('leases');
      for (let tries = 0; (await leases.countDocuments({ holder: { $ne: null } })) === 0; tries++) {
        if (tries > 100) expect.fail('no lease was taken within 10 s');
        await sleep(100);
      }
    } finally {
      await client.close();
    }
  };
  const runMain = (role: string) =>
    runNode(mainScript, [], cleanEnv({ PORT: '0', HOST: '127.0.0.1', ...env, ROLE: role }), 30_000);

  it('ROLE=projector: refused on FerretDB with one line saying why; started on MongoDB', async () => {
    if (onFerretDb) {
      const line = oneLineFailure(await runMain('projector'));
      expect(line).to.match(
        /^could not start: ROLE=projector needs MongoDB: FerretDB v1\.\d+\.\d+ cannot take leases atomically, .*one ROLE=all process/,
      );
    } else {
      await start('projector');
    }
  });

  it('a second process running projections (ROLE=all, or a rebuild) is refused on FerretDB while the first runs; ROLE=api joins it', async () => {
    const first = await start('all');
    await leaseHeld();
    if (onFerretDb)
      await first.node.waitForLine((l) =>
        l.includes('"msg":"read store is FerretDB: this must be the only process running projections'),
      );
    if (onFerretDb) {
      const line = oneLineFailure(await runMain('all'));
      expect(line).to.match(
        /^could not start: ROLE=all refused: FerretDB .* only one process may run projections, and api@.+:\d+ runs /,
      );
      const rebuild = await runNode(cliScript, ['projections', 'rebuild', 'identity'], cleanEnv(env), 30_000);
      expect(rebuild.code, rebuild.stderr).to.equal(1);
      expect(rebuild.stderr).to.match(/^failed: projections rebuild refused: FerretDB .* and api@.+:\d+ runs /);
    } else {
      await start('all'); // leases keep the two apart on MongoDB
    }
    const api = await start('api');
    expect((await fetch(`${api.baseUrl}/health`)).status).to.equal(200);
  });

  it("a process started after the one before it was killed is not refused (its leases are a dead local process's)", async () => {
    const first = await start('all');
    await leaseHeld();
    first.node.child.kill('SIGKILL');
    await first.node.exited;
    const second = await start('all');
    expect((await fetch(`${second.baseUrl}/health`)).status).to.equal(200);
  });
});
