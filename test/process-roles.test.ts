/**
 * `ROLE=api` and `ROLE=projector` as two real processes on one embedded DATA_DIR (two
 * processes on one SQLite file are supported): the API process appends and answers, the
 * projector process builds the read models, and read-your-writes in the API process
 * follows the checkpoints the projector stores. Plus the checkpoint feed on its own.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { projections } from '../projections/index.js';
import type { CheckpointRecord } from '../infra/eventsourcing/read-store/read-store.js';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';
import type { LeaseRecord } from '../infra/eventsourcing/subscriptions/leases.js';
import { followCheckpoints } from '../infra/eventsourcing/subscriptions/checkpoint-feed.js';
import { openSqliteLeases } from '../infra/sqlite/sqlite-leases.js';
import { ConsistencyGate, ReadModelsNotCaughtUp } from '../infra/eventsourcing/subscriptions/consistency.js';
import type { EventStore } from '../infra/eventsourcing/event-store/event-store.js';
import type { Position } from '../infra/eventsourcing/event-store/position.js';
import { Client, itHttp } from './http/client.js';
import { jsonLines, tempDir, type TempDir } from './support/process.js';
import { startRoleProcess, type RoleProcess } from './support/role-process.js';

const BROKER = { BROKER_EMAIL: 'broker@roles.test', BROKER_PASSWORD: 'broker-secret' };

/** Who holds each projection's lease in DATA_DIR (an empty list: nobody ever ran one). */
async function leaseHolders(dataDir: string): Promise<LeaseRecord[]> {
  const leases = openSqliteLeases(join(dataDir, 'read.db'));
  try {
    return await leases.list();
  } finally {
    await leases.close();
  }
}

async function checkpoints(dataDir: string): Promise<CheckpointRecord[]> {
  const store = await openSqliteReadStore({ file: join(dataDir, 'read.db') });
  try {
    return await store.listCheckpoints();
  } finally {
    await store.close();
  }
}

describe('process roles: ROLE=api and ROLE=projector as separate processes', function () {
  this.timeout(60_000);
  let dir: TempDir;
  let started: RoleProcess[] = [];

  beforeEach(() => {
    dir = tempDir('market-roles-');
    started = [];
  });
  afterEach(async () => {
    const codes = await Promise.all(started.map((p) => p.stop()));
    const stderr = started.map((p) => p.node.stderr).join('\n');
    dir.remove();
    expect(codes, `every process stops cleanly on SIGTERM\n${stderr}`).to.deep.equal(started.map(() => 0));
  });

  async function start(role: 'api' | 'projector', env: Record<string, string> = {}): Promise<RoleProcess> {
    const process = await startRoleProcess({ ROLE: role, DATA_DIR: dir.path, ...BROKER, ...env });
    started.push(process);
    return process;
  }

  itHttp(
    'register and deposit through the api process, read the balance with read-your-writes; both are ready',
    async () => {
      const projector = await start('projector');
      const api = await start('api');

      expect((await fetch(`${api.baseUrl}/ready`)).status).to.equal(200);
      const projectorReady = await fetch(`${projector.baseUrl}/ready`);
      expect(projectorReady.status).to.equal(200);
      expect(await projectorReady.json()).to.deep.equal({ status: 'ready' });
      const scraped = await (await fetch(`${projector.baseUrl}/metrics`)).text();
      for (const dependency of ['eventStore', 'readStore', 'readModels'])
        expect(scraped).to.include(`marketplace_ready{dependency="${dependency}"} 1`);

      const client = new Client(api.baseUrl);
      const trader = await client.newTrader();
      // The account is opened by a process manager running in the projector process.
      const opened = await client.balance(trader.token, trader.position);
      expect(opened.amount).to.equal(0);
      const deposited = await client.deposit(trader.token, 125.5, { 'if-match': opened.etag });
      expect(deposited.status, deposited.text).to.equal(204);
      const position = deposited.headers.get('x-event-position')!;
      expect((await client.balance(trader.token, position)).amount).to.equal(125.5);
      const operations = await client.operations(trader.token, position);
      expect(operations.body).to.have.length(1);
      expect(operations.body[0]).to.include({ type: 'deposit', amount: 125.5 });

      // Again, for traders arriving one after another into a quiet system: every link of
      // the reactions must be seen through the stored checkpoints, not only the first.
      for (let i = 0; i < 3; i++) {
        const next = await client.newTrader();
        const account = await client.balance(next.token, next.position);
        const funded = await client.deposit(next.token, 10, { 'if-match': account.etag });
        expect((await client.balance(next.token, funded.headers.get('x-event-position')!)).amount).to.equal(10);
      }

      // Every runner is the projector's; the api process holds no lease.
      const holders = (await leaseHolders(dir.path)).map((l) => l.holder);
      // The projections, the four process managers, and the personal-data erasure handler.
      expect(holders).to.have.length(projections.length + 6);
      for (const holder of holders) expect(holder).to.match(/^projector@/);
    },
  );

  it('the projector process serves the probes only, on its port', async () => {
    const projector = await start('projector');
    expect((await fetch(`${projector.baseUrl}/health`)).status).to.equal(200);
    const register = await fetch(`${projector.baseUrl}/api/v1/identity/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@roles.test', password: 'secret1', firstName: 'No', lastName: 'Body' }),
    });
    expect(register.status).to.equal(404);
    const announced = jsonLines(projector.node.lines).find((l) => l.role === 'projector');
    expect(announced).to.include({ port: projector.port, eventStore: 'embedded', readStore: 'embedded' });
  });

  itHttp('ROLE=api alone runs no projection: its read models stay where they are until a projector runs', async () => {
    const api = await start('api', { READ_YOUR_WRITES_TIMEOUT_MS: '700' });
    const client = new Client(api.baseUrl);
    const trader = await client.newTrader();

    // Commands work (the write side needs no projection); reads that must reflect them cannot.
    const waited = await client.account(trader.token, trader.position);
    expect(waited.status, waited.text).to.equal(503);
    expect(waited.headers.get('retry-after')).to.match(/^\d+$/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await leaseHolders(dir.path), 'no lease was ever taken').to.deep.equal([]);
    expect(
      (await checkpoints(dir.path)).filter((c) => c.position !== null),
      'no checkpoint moved',
    ).to.deep.equal([]);

    // A projector started later catches up, and the same read now succeeds.
    await start('projector');
    const account = await client.balance(trader.token, trader.position);
    expect(account.amount).to.equal(0);
  });
});

describe('checkpoint feed (read-your-writes in a process that runs no projection)', () => {
  const handler = projections[0]!;
  const reactor = { name: 'some-reactor', kind: 'process-manager' as const, filter: undefined };
  const at = (n: number): Position => ({ commit: BigInt(n), prepare: BigInt(n) });

  /** Stores whose answers the test sets. */
  function fakeStores() {
    const state = { checkpoints: [] as CheckpointRecord[], leases: [] as LeaseRecord[], failing: false };
    const readStore = {
      listCheckpoints: async () => {
        if (state.failing) throw new Error('read store down');
        return state.checkpoints;
      },
    };
    const leases = { list: async () => state.leases };
    return { state, readStore, leases };
  }

  it('reports stored checkpoints as positions, and a held lease as a running runner', async () => {
    const { state, readStore, leases } = fakeStores();
    const feed = followCheckpoints([handler, reactor], { readStore, leases, intervalMs: 10 });
    try {
      const projection = feed.runners[0]!;
      const pm = feed.runners[1]!;
      await feed.poll();
      expect(projection.status()).to.include({ name: handler.name, state: 'waiting-for-lease', position: null });

      state.checkpoints = [{ name: handler.name, position: at(7), updatedAt: new Date() }];
      state.leases = [
        {
          name: handler.name,
          holder: 'projector@elsewhere:1',
          expiresAt: new Date(Date.now() + 10_000),
          handoverTo: null,
        },
      ];
      const reached = projection.waitFor(at(7));
      await reached; // released by the feed's own polling
      expect(projection.status()).to.deep.include({ state: 'live', position: at(7) });
      expect(projection.hasReached(at(8))).to.equal(false);
      expect(pm.status()).to.include({ state: 'waiting-for-lease', position: null });
    } finally {
      await feed.stop();
    }
  });

  it('keeps polling through a failing store, telling once per outage', async () => {
    const { state, readStore, leases } = fakeStores();
    const errors: unknown[] = [];
    state.failing = true;
    const feed = followCheckpoints([handler], { readStore, leases, intervalMs: 5, onError: (e) => errors.push(e) });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(errors).to.have.length(1);
      state.failing = false;
      state.checkpoints = [{ name: handler.name, position: at(3), updatedAt: new Date() }];
      await feed.runners[0]!.waitFor(at(3), AbortSignal.timeout(8_000));
      expect(feed.runners[0]!.hasReached(at(3))).to.equal(true);
    } finally {
      await feed.stop();
    }
  });

  it('lets the gate time out when nobody runs a projection, rather than pretend it caught up', async () => {
    const { state, readStore, leases } = fakeStores();
    const feed = followCheckpoints([handler], { readStore, leases, intervalMs: 10 });
    // A log holding the position, with nothing the projection would handle after it.
    const eventStore = { headPosition: async () => at(5), readAll: async () => [] } as unknown as EventStore;
    try {
      await feed.poll();
      const gate = new ConsistencyGate(eventStore, feed.runners);
      let failure: unknown;
      await gate.waitFor(at(5), 150).catch((error: unknown) => (failure = error));
      expect(failure).to.be.instanceOf(ReadModelsNotCaughtUp);

      // Once a runner holds the lease, "nothing for it to handle up to the position" counts as there.
      state.leases = [
        {
          name: handler.name,
          holder: 'projector@elsewhere:1',
          expiresAt: new Date(Date.now() + 10_000),
          handoverTo: null,
        },
      ];
      await feed.poll();
      await gate.waitFor(at(5), 1_000);
    } finally {
      await feed.stop();
    }
  });
});
