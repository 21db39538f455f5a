/**
 * `/ready` follows the read models the API answers from: 503 while one is being rebuilt or
 * lags beyond READY_MAX_LAG_EVENTS / READY_MAX_LAG_MS, 200 again after — with the real
 * runners of a real server. The probe is public and says only that; the reason is read where
 * operators read it, in the log line of the change and in /metrics.
 */
import { expect } from 'chai';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { ownerName } from '../infra/eventsourcing/subscriptions/lease-owners.js';
import { ProjectionRunner, rebuilderName, type RunnerLog } from '../infra/eventsourcing/subscriptions/runner.js';
import { Client, type Trader } from './http/client.js';
import { eventually } from './http/trading-client.js';
import { startApiServer, type ApiServer } from './support/api-server.js';
import { capturedLogger, flushed } from './support/captured-log.js';

const quiet: RunnerLog = { info() {}, warn() {}, error() {} };

/** A promise resolved from outside. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('readiness (GET /ready) follows the read models', () => {
  let server: ApiServer | undefined;
  let api: Client;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  let log: ReturnType<typeof capturedLogger>;

  async function start(env: Record<string, string>): Promise<void> {
    log = capturedLogger();
    server = await startApiServer({ env, logger: log.logger });
    api = new Client(server.baseUrl);
    await becomesReady();
  }

  const ready = () => api.get('/ready');

  /** `marketplace_ready` by dependency, as /metrics has it now. */
  async function readyGauge(): Promise<Record<string, number>> {
    const text = (await api.get('/metrics')).text;
    return Object.fromEntries(
      [...text.matchAll(/^marketplace_ready\{dependency="([^"]+)"\} (\d)$/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
  }

  async function becomesReady(): Promise<void> {
    await eventually(
      async () => {
        const answer = await ready();
        expect(answer.status, answer.text).to.equal(200);
        expect(answer.body).to.deep.equal({ status: 'ready' });
      },
      5000,
      'ready',
    );
    expect(await readyGauge()).to.deep.equal({ eventStore: 1, readModels: 1 });
  }

  /**
   * Until /ready is 503, telling the public only that; then why, from where operators read
   * it: the log line of the read models turning unready (its `reason`), and /metrics.
   */
  async function becomesUnready(reason: RegExp): Promise<string> {
    await eventually(
      async () => {
        const answer = await ready();
        expect(answer.status, answer.text).to.equal(503);
        expect(answer.body).to.deep.equal({ status: 'unavailable' });
      },
      5000,
      'unready',
    );
    await flushed();
    const told = log.lines.filter((l) => l.dependency === 'readModels' && l.level === 40);
    expect(told.length, 'a line told the read models turned unready').to.be.at.least(1);
    const why = String(told.at(-1)!.reason);
    expect(why).to.match(reason);
    expect(told.at(-1)!.msg).to.equal(`not ready: readModels ${why}`);
    expect(await readyGauge()).to.deep.include({ eventStore: 1, readModels: 0 });
    return why;
  }

  const runner = (name: string) => server!.system.runners.find((r) => r.handler.name === name)!;

  /** A trader whose account the billing read model shows. */
  async function traderWithAccount(): Promise<Trader> {
    const trader = await api.newTrader();
    await eventually(async () => expect((await api.account(trader.token)).status).to.equal(200), 5000, 'the account');
    return trader;
  }

  it('turns unready while a projection lags more events than allowed, and ready once it caught up', async () => {
    await start({ READY_MAX_LAG_EVENTS: '2' });
    const trader = await traderWithAccount();
    const billing = runner('billing');
    await billing.stop();
    try {
      await api.funded(trader.token, 10);
      await api.funded(trader.token, 20);
      expect((await ready()).status, 'two events behind is within the bound').to.equal(200);
      await api.funded(trader.token, 30);
      await becomesUnready(/^failed: billing is 3 events behind \(at most 2 allowed\)$/);
    } finally {
      billing.start();
    }
    await becomesReady();
    expect((await api.balance(trader.token)).amount).to.equal(60);
  });

  it('turns unready while the oldest event a projection has yet to handle is older than allowed', async () => {
    await start({ READY_MAX_LAG_MS: '100' });
    const trader = await traderWithAccount();
    const billing = runner('billing');
    await billing.stop();
    try {
      await api.funded(trader.token, 10);
      const why = await becomesUnready(/^failed: billing is \d+ ms behind \(at most 100 allowed\)$/);
      expect(Number(/(\d+) ms/.exec(why)![1])).to.be.greaterThan(100);
    } finally {
      billing.start();
    }
    await becomesReady();
  });

  it('ignores the lag of process managers: the API does not read them', async () => {
    await start({ READY_MAX_LAG_EVENTS: '0' });
    const opening = runner('account-opening');
    await opening.stop();
    try {
      const registered = await api.register({
        email: `pm-${Date.now()}@market.test`,
        password: 'secret-password',
        firstName: 'Lag',
        lastName: 'Ging',
      });
      expect(registered.status).to.equal(201);
      // The registration's projection takes it in; its account is not opened meanwhile.
      await eventually(async () => expect((await ready()).status).to.equal(200), 5000, 'projections caught up');
      const lag = (await server!.system.health.report()).find((r) => r.name === 'account-opening')!;
      expect(lag.lagEvents).to.be.at.least(1);
    } finally {
      opening.start();
    }
  });

  it('turns unready while a projection is rebuilt (by another process), and ready once the rebuild is done', async () => {
    await start({});
    await traderWithAccount();
    // The API's own runner steps aside (as it does when a rebuild asks for its lease).
    const identity = runner('identity');
    await identity.stop();
    const held = deferred();
    let handled = 0;
    const slow: EventHandler = {
      ...identity.handler,
      async handle(event, view, context) {
        handled += 1;
        await held.promise;
        return identity.handler.handle(event, view, context);
      },
    };
    const { eventStore, readStore, leases } = server!.system;
    const rebuilder = new ProjectionRunner(slow, {
      eventStore,
      readStore,
      leases,
      owner: ownerName('cli'),
      log: quiet,
    });
    const rebuilt = rebuilder.rebuild();
    try {
      await becomesUnready(/^failed: identity is being rebuilt$/);
      expect(handled, 'the rebuild is under way').to.be.at.least(1);
      const scraped = await api.get('/metrics');
      expect(scraped.text).to.include(
        'marketplace_subscription_rebuilding{subscription="identity",kind="projection"} 1',
      );
      expect(scraped.text).to.include(
        'marketplace_subscription_rebuilding{subscription="billing",kind="projection"} 0',
      );
    } finally {
      held.resolve();
      await rebuilt;
    }
    await becomesReady();
    identity.start();
    await becomesReady();
  });

  it('a stopped runner rebuilds its view under a rebuilder’s name, then runs again', async () => {
    await start({});
    const trader = await traderWithAccount();
    const billing = runner('billing');
    await billing.stop();
    const holders: Array<Promise<string | null | undefined>> = [];
    await billing.rebuild(() =>
      holders.push(server!.system.leases.list().then((all) => all.find((l) => l.name === 'billing')?.holder)),
    );
    expect(holders.length, 'the rebuild replayed events').to.be.at.least(1);
    for (const holder of await Promise.all(holders)) expect(holder).to.equal(rebuilderName(ownerName('api')));
    expect((await server!.system.readStore.getCheckpoint('billing')).position, 'replayed to the head').to.deep.equal(
      await server!.system.eventStore.headPosition(),
    );
    billing.start();
    await becomesReady();
    expect((await api.balance(trader.token)).amount).to.equal(0);
    await eventually(
      async () =>
        expect((await server!.system.leases.list()).find((l) => l.name === 'billing')?.holder).to.equal(
          ownerName('api'),
        ),
      5000,
      'the runner holds its lease again',
    );
  });

  it('turns unready as soon as a rebuild asks for the lease, before it gets it', async () => {
    await start({});
    // The running projection still holds the lease: only the request is there.
    await server!.system.leases.requestHandover('trading', rebuilderName(ownerName('cli')), 400);
    await becomesUnready(/^failed: trading is being rebuilt$/);
    // Nobody came for it: the request expires and the view was never touched.
    await becomesReady();
  });
});
