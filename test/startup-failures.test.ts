/**
 * Bad configuration and missing stores, as an operator (or an orchestrator) meets them:
 * at start-up, one plain line naming the problem and a non-zero exit within a bounded
 * time; once running, a store that goes away turns `/ready` 503 while the process waits
 * it out and carries on when the store is back.
 */
import { expect } from 'chai';
import { createServer } from 'node:net';
import { addressOf } from '../infra/composition-root/startup-checks.js';
import { Client, itHttp } from './http/client.js';
import { startEsdbDouble, type EsdbDouble } from './support/esdb-double/index.js';
import { cleanEnv, jsonLines, runNode, tempDir, type Finished, type TempDir } from './support/process.js';
import { mainScript, pollUntil, startRoleProcess, type RoleProcess } from './support/role-process.js';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('start-up failures (dist/infra/composition-root/main.js)', function () {
  this.timeout(30_000);
  let dir: TempDir;

  beforeEach(() => (dir = tempDir('market-startup-')));
  afterEach(() => dir.remove());

  async function run(env: Record<string, string>): Promise<Finished & { elapsedMs: number }> {
    const startedAt = Date.now();
    const finished = await runNode(
      mainScript,
      [],
      cleanEnv({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir.path, STARTUP_TIMEOUT_MS: '1000', ...env }),
      20_000,
    );
    return { ...finished, elapsedMs: Date.now() - startedAt };
  }

  /** Exit 1, nothing on stdout, exactly one line on stderr, and no stack trace. */
  function expectOneLineFailure(finished: Finished): string {
    expect(finished.code, finished.stderr).to.equal(1);
    expect(finished.stdout).to.equal('');
    const lines = finished.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines, finished.stderr).to.have.length(1);
    expect(finished.stderr).not.to.match(/^\s+at /m);
    return lines[0]!;
  }

  it('an unknown ROLE: a configuration error naming the variable and the roles there are', async () => {
    const line = expectOneLineFailure(await run({ ROLE: 'worker' }));
    expect(line).to.equal('configuration error: ROLE="worker" is not valid: expected one of all, api, projector');
  });

  it('EventStoreDB unreachable: "could not start: EventStoreDB at <host:port> is unreachable (…)" within STARTUP_TIMEOUT_MS', async () => {
    const port = await closedPort();
    const finished = await run({
      EVENT_STORE: 'esdb',
      EVENTSTORE_CONNECTION_STRING: `esdb://admin:hunter22@127.0.0.1:${port}?tls=false`,
    });
    const line = expectOneLineFailure(finished);
    expect(line).to.match(
      new RegExp(`^could not start: EventStoreDB at 127\\.0\\.0\\.1:${port} is unreachable \\(.+\\)$`),
    );
    expect(line, 'the password is never printed').not.to.include('hunter22');
    expect(finished.elapsedMs).to.be.lessThan(8_000);
  });

  it('MongoDB unreachable: "could not start: MongoDB at <host:port> is unreachable (…)" within STARTUP_TIMEOUT_MS', async () => {
    const port = await closedPort();
    const finished = await run({
      READ_STORE: 'mongo',
      MONGODB_URI: `mongodb://reader:hunter22@127.0.0.1:${port}/?directConnection=true`,
    });
    const line = expectOneLineFailure(finished);
    expect(line).to.match(new RegExp(`^could not start: MongoDB at 127\\.0\\.0\\.1:${port} is unreachable \\(.+\\)$`));
    expect(line).to.include('ECONNREFUSED');
    expect(line, 'the password is never printed').not.to.include('hunter22');
    expect(finished.elapsedMs).to.be.lessThan(8_000);
  });

  it('both unreachable, in every role: one line naming both', async () => {
    const [esdbPort, mongoPort] = [await closedPort(), await closedPort()];
    for (const role of ['all', 'api', 'projector']) {
      const finished = await run({
        ROLE: role,
        EVENT_STORE: 'esdb',
        EVENTSTORE_CONNECTION_STRING: `esdb://127.0.0.1:${esdbPort}?tls=false`,
        READ_STORE: 'mongo',
        MONGODB_URI: `mongodb://127.0.0.1:${mongoPort}`,
      });
      const line = expectOneLineFailure(finished);
      expect(line, role).to.match(
        /^could not start: EventStoreDB at .+ is unreachable \(.+\); MongoDB at .+ is unreachable \(.+\)$/,
      );
    }
  });

  it('a store that answers only after a while: start-up waits for it (within STARTUP_TIMEOUT_MS)', async () => {
    const port = await closedPort();
    let double: EsdbDouble | undefined;
    const late = setTimeout(() => void startEsdbDouble({ port }).then((d) => (double = d)), 1_000);
    let process: RoleProcess | undefined;
    try {
      process = await startRoleProcess({
        DATA_DIR: dir.path,
        STARTUP_TIMEOUT_MS: '15000',
        EVENT_STORE: 'esdb',
        EVENTSTORE_CONNECTION_STRING: `esdb://127.0.0.1:${port}?tls=false`,
      });
      expect((await fetch(`${process.baseUrl}/ready`)).status).to.equal(200);
    } finally {
      clearTimeout(late);
      expect(await process?.stop()).to.equal(0);
      await double?.stop();
    }
  });
});

describe('a store that goes away after start-up', function () {
  this.timeout(60_000);
  let dir: TempDir;
  let double: EsdbDouble;
  let server: RoleProcess | undefined;

  beforeEach(async () => {
    dir = tempDir('market-outage-');
    double = await startEsdbDouble();
  });
  afterEach(async () => {
    const code = await server?.stop();
    await double.stop();
    dir.remove();
    expect(code, server?.node.stderr).to.equal(0);
  });

  itHttp(
    'EventStoreDB stops: /ready turns 503 naming it, the process stays up, and all works again once it is back',
    async () => {
      server = await startRoleProcess({
        DATA_DIR: dir.path,
        EVENT_STORE: 'esdb',
        EVENTSTORE_CONNECTION_STRING: double.connectionString,
      });
      const client = new Client(server.baseUrl);
      const before = await client.newTrader();
      expect((await client.balance(before.token, before.position)).amount).to.equal(0);

      await double.stop();
      const down = await pollUntil(`${server.baseUrl}/ready`, (status) => status === 503);
      expect(down.status).to.equal(503);
      // The public probe says only that; the log names the store and why, /metrics which.
      expect(down.body).to.deep.equal({ status: 'unavailable' });
      const told = await server.node.waitForLine((l) => l.includes('"msg":"not ready: eventStore failed: '));
      expect(jsonLines([told])[0]).to.include({ level: 40, dependency: 'eventStore' });
      const scraped = await (await fetch(`${server.baseUrl}/metrics`)).text();
      expect(scraped).to.include('marketplace_ready{dependency="eventStore"} 0');
      expect(scraped).to.include('marketplace_ready{dependency="readStore"} 1');
      // Retrying, not crashing: still alive and answering after a few seconds without its store.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(server.node.child.exitCode).to.equal(null);
      expect((await fetch(`${server.baseUrl}/health`)).status).to.equal(200);

      double = await startEsdbDouble({ port: double.port, log: double.log });
      const up = await pollUntil(`${server.baseUrl}/ready`, (status) => status === 200, 20_000);
      expect(up.status, JSON.stringify(up.body)).to.equal(200);
      await server.node.waitForLine((l) => l.includes('"msg":"ready again: eventStore answers"'));

      // Appends work again, and the runners resumed: the new account is projected.
      const after = await client.newTrader();
      const opened = await client.balance(after.token, after.position);
      const deposit = await client.deposit(after.token, 40, { 'if-match': opened.etag });
      expect(deposit.status, deposit.text).to.equal(204);
      expect((await client.balance(after.token, deposit.headers.get('x-event-position')!)).amount).to.equal(40);
    },
  );
});

describe('addressOf (what start-up failures name)', () => {
  it('keeps the hosts and drops scheme, credentials and options', () => {
    expect(addressOf('esdb://admin:changeit@localhost:2113?tls=false')).to.equal('localhost:2113');
    expect(addressOf('esdb+discover://a:2113,b:2113,c:2113?tls=true')).to.equal('a:2113,b:2113,c:2113');
    expect(addressOf('mongodb://user:p%40ss@db.example.com:27017/market?authSource=admin')).to.equal(
      'db.example.com:27017',
    );
    expect(addressOf('mongodb+srv://cluster0.example.net/?retryWrites=true')).to.equal('cluster0.example.net');
  });

  it('never falls back to the whole string, which may hold credentials', () => {
    for (const uri of ['mongodb://user:s3cret@', 'esdb://admin:changeit@/?tls=false', 'mongodb://'])
      expect(addressOf(uri), uri).to.equal('(no host)');
    // A `/` left unencoded in a password does not end the credentials early.
    expect(addressOf('mongodb://app:pa/ss@db.example.com:27017/market')).to.equal('db.example.com:27017');
  });
});
