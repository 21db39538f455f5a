/**
 * `GET /metrics` over a real server: the HTTP histogram by route template and status, the
 * commands by type and outcome, appended events and expected-version conflicts by stream
 * category, and the lag and parked events of the projections.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { JsonObject } from '../infra/eventsourcing/event-store/event-store.js';
import { formatPosition } from '../infra/eventsourcing/event-store/position.js';
import { streamCategory } from '../infra/metrics/event-store.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { SubscriptionHealth } from '../infra/metrics/subscription-health.js';
import { RemoteRunner } from '../infra/eventsourcing/subscriptions/remote-runner.js';
import { Client, itHttp, type Trader } from './http/client.js';
import { eventually } from './http/trading-client.js';
import { openRawEventStore, startApiServer, type ApiServer } from './support/api-server.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (enough of the format for our own metrics). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

class Scrape {
  constructor(readonly samples: Sample[]) {}

  /** The value of the one sample with this name and (at least) these labels; 0 when there is none. */
  value(name: string, labels: Record<string, string> = {}): number {
    const found = this.matching(name, labels);
    expect(found.length, `${name} ${JSON.stringify(labels)} is one series`).to.be.at.most(1);
    return found[0]?.value ?? 0;
  }

  matching(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The distinct values the label takes across the metric's samples. */
  labelValues(name: string, label: string): string[] {
    return [...new Set(this.matching(name).map((s) => s.labels[label]!))].sort();
  }
}

describe('metrics (GET /metrics)', () => {
  let server: ApiServer;
  let api: Client;

  // Parking takes one failed try, so a poisoned event shows at once.
  before(async () => {
    server = await startApiServer({ env: { PROJECTION_MAX_ATTEMPTS: '1' } });
    api = new Client(server.baseUrl);
  });
  after(async () => {
    await server?.close();
  });

  async function scrape(): Promise<Scrape> {
    const answer = await api.get('/metrics');
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    return new Scrape(parseExposition(answer.text));
  }

  const runner = (name: string) => server.system.runners.find((r) => r.handler.name === name)!;

  /** A trader whose account the billing read model shows. */
  async function traderWithAccount(): Promise<Trader> {
    const trader = await api.newTrader();
    await eventually(async () => expect((await api.account(trader.token)).status).to.equal(200), 5000, 'the account');
    return trader;
  }

  itHttp('serves the process metrics next to the product’s', async () => {
    const metrics = await scrape();
    expect(metrics.matching('process_cpu_user_seconds_total')).to.have.length(1);
    expect(metrics.matching('nodejs_heap_size_used_bytes')).to.have.length(1);
  });

  itHttp('times requests by method, route template and status — never by the URL', async () => {
    const trader = await api.newTrader();
    const before = await scrape();
    const template = { method: 'GET', route: '/api/v1/ordering/orders/:id', status: '404' };
    for (let i = 0; i < 3; i++)
      expect((await api.get(`/api/v1/ordering/orders/${randomUUID()}`, { token: trader.token })).status).to.equal(404);
    for (let i = 0; i < 3; i++) expect((await api.get(`/no/such/page/${randomUUID()}`)).status).to.equal(404);
    expect((await api.get('/api/v1/billing/account')).status, 'no token').to.equal(401);
    const after = await scrape();

    const name = 'marketplace_http_request_duration_seconds';
    expect(after.value(`${name}_count`, template) - before.value(`${name}_count`, template)).to.equal(3);
    expect(
      after.value(`${name}_bucket`, { ...template, le: '+Inf' }) -
        before.value(`${name}_bucket`, { ...template, le: '+Inf' }),
    ).to.equal(3);
    expect(after.value(`${name}_sum`, template)).to.be.greaterThan(0);
    // Buckets are cumulative: each holds at least the requests of the one below.
    const buckets = after.matching(`${name}_bucket`, template).map((s) => s.value);
    expect(buckets.length).to.be.greaterThan(5);
    expect(buckets).to.deep.equal([...buckets].sort((a, b) => a - b));

    const unmatched = { method: 'GET', route: 'unmatched', status: '404' };
    expect(after.value(`${name}_count`, unmatched) - before.value(`${name}_count`, unmatched)).to.equal(3);
    // Refused by the authentication before the route's handler ran: still named by its route.
    expect(after.value(`${name}_count`, { route: '/api/v1/billing/account', status: '401' })).to.be.at.least(1);
    expect(
      after.value(`${name}_count`, { method: 'POST', route: '/api/v1/identity/register', status: '201' }),
    ).to.be.at.least(1);

    // Six different URLs, two routes: the label values are the templates the code declares.
    const routes = after.labelValues(`${name}_count`, 'route');
    expect(routes).to.include.members(['/api/v1/ordering/orders/:id', 'unmatched', '/metrics']);
    for (const route of routes)
      expect(route === 'unmatched' || !/[0-9a-f]{8}-[0-9a-f]{4}/.test(route), route).to.equal(true);
    expect(routes.some((r) => r.startsWith('/no/'))).to.equal(false);
  });

  itHttp('counts commands by type and outcome, a stale If-Match as a conflict', async () => {
    const trader = await traderWithAccount();
    const before = await scrape();
    const first = await api.deposit(trader.token, 10);
    expect(first.status, first.text).to.equal(204);
    const etag = first.headers.get('etag')!;
    expect((await api.deposit(trader.token, 5, { 'if-match': etag })).status).to.equal(204);
    // Based on the revision before the second deposit: the account moved on since.
    expect((await api.deposit(trader.token, 5, { 'if-match': etag })).status).to.equal(412);
    expect((await api.withdraw(trader.token, 1000)).status, 'more than the balance').to.equal(422);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    expect(delta('marketplace_commands_total', { command: 'DepositMoney', outcome: 'ok' })).to.equal(2);
    expect(delta('marketplace_commands_total', { command: 'DepositMoney', outcome: 'conflict' })).to.equal(1);
    expect(delta('marketplace_commands_total', { command: 'WithdrawMoney', outcome: 'rejected' })).to.equal(1);
    expect(delta('marketplace_commands_total', { command: 'WithdrawMoney', outcome: 'ok' })).to.equal(0);
    expect(delta('marketplace_expected_version_conflicts_total', { category: 'account', check: 'if-match' })).to.equal(
      1,
    );
    expect(delta('marketplace_events_appended_total', { category: 'account' })).to.equal(2);
    // Process managers' commands count too: opening the account of the registration.
    expect(after.value('marketplace_commands_total', { command: 'OpenAccount', outcome: 'ok' })).to.be.at.least(1);
  });

  itHttp('counts events appended and conflicts the store refused, by stream category', async () => {
    const email = `twice-${randomUUID().slice(0, 8)}@market.test`;
    const fields = { email, password: 'secret-password', firstName: 'Twice', lastName: 'Registered' };
    const before = await scrape();
    expect((await api.register(fields)).status).to.equal(201);
    const again = await api.register(fields);
    expect(again.status, again.text).to.be.within(400, 499);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    // The address is claimed by appending to a stream that must not exist yet: the second claim is refused.
    expect(delta('marketplace_expected_version_conflicts_total', { category: 'email', check: 'append' })).to.equal(1);
    expect(delta('marketplace_events_appended_total', { category: 'email' })).to.equal(1);
    expect(delta('marketplace_events_appended_total', { category: 'user' })).to.equal(1);
    // Every stream the system wrote has a known category: no id ever becomes a label.
    expect(after.labelValues('marketplace_events_appended_total', 'category')).to.not.include('other');
  });

  itHttp('shows a stopped projection’s lag in events and seconds, and 0 once it caught up', async () => {
    const trader = await traderWithAccount();
    const billing = runner('billing');
    await billing.stop();
    let resumed = false;
    try {
      await api.funded(trader.token, 10);
      await api.funded(trader.token, 20);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const behind = await scrape();
      const labels = { subscription: 'billing', kind: 'projection' };
      expect(behind.value('marketplace_subscription_lag_events', labels)).to.be.at.least(2);
      expect(behind.value('marketplace_subscription_lag_seconds', labels)).to.be.greaterThan(0.015);
      // The projections that read other streams are not behind.
      expect(behind.value('marketplace_subscription_lag_events', { subscription: 'identity' })).to.equal(0);
      expect(behind.value('marketplace_subscription_rebuilding', labels)).to.equal(0);
      billing.start();
      resumed = true;
      await eventually(
        async () => {
          const caughtUp = await scrape();
          expect(caughtUp.value('marketplace_subscription_lag_events', labels)).to.equal(0);
          expect(caughtUp.value('marketplace_subscription_lag_seconds', labels)).to.equal(0);
        },
        5000,
        'billing caught up',
      );
    } finally {
      if (!resumed) billing.start();
    }
    // One series per handler, whatever happened: the label values are the handlers' names.
    const metrics = await scrape();
    expect(metrics.labelValues('marketplace_subscription_lag_events', 'subscription')).to.deep.equal(
      server.system.handlers.map((h) => h.name).sort(),
    );
    expect(
      metrics.value('marketplace_subscription_lag_events', {
        subscription: 'deal-settlement',
        kind: 'process-manager',
      }),
    ).to.equal(0);
  });

  itHttp('counts a poisoned event as parked by the projection that could not handle it', async () => {
    const before = await scrape();
    expect(before.value('marketplace_subscription_parked_events', { subscription: 'billing' })).to.equal(0);
    // An account event with no data: the billing projection cannot read it.
    // The poison: data that is not an object, which no command would ever write.
    const poison = { id: randomUUID(), type: 'MoneyDeposited', data: null as unknown as JsonObject };
    // Written past the server's schema checks (which would refuse it), as a broken tool would.
    const raw = openRawEventStore(server);
    const appended = await raw.appendToStream(`account-poisoned-${randomUUID()}`, [poison]).finally(() => raw.close());
    await server.system.gate.waitFor(appended.position, 5000);
    const after = await scrape();
    expect(
      after.value('marketplace_subscription_parked_events', { subscription: 'billing', kind: 'projection' }),
    ).to.equal(1);
    expect(
      after.value('marketplace_subscription_lag_events', { subscription: 'billing' }),
      'parked, then passed',
    ).to.equal(0);
    expect(after.value('marketplace_subscription_parked_events', { subscription: 'identity' })).to.equal(0);
    // Reads after it still find the read models caught up: one bad event holds nobody up.
    const trader = await api.newTrader();
    expect((await api.profile(trader.token, trader.position)).id).to.equal(trader.id);
  });
});

describe('subscription lag, from the runners this thread follows', () => {
  let server: ApiServer;
  let api: Client;

  before(async () => {
    server = await startApiServer();
    api = new Client(server.baseUrl);
  });
  after(async () => {
    await server?.close();
  });

  it('takes a working runner’s reported position (a projector-thread stand-in), else the stored checkpoint', async () => {
    const trader = await api.newTrader();
    await eventually(async () => expect((await api.account(trader.token)).status).to.equal(200), 5000, 'the account');
    const billing = server.system.runners.find((r) => r.handler.name === 'billing')!;
    await billing.stop();
    try {
      await api.funded(trader.token, 10);
      await api.funded(trader.token, 20);
      const head = formatPosition((await server.system.eventStore.headPosition())!);
      const { eventStore, readStore, leases, handlers } = server.system;
      const stand = new RemoteRunner(billing.handler);
      const health = new SubscriptionHealth({ eventStore, readStore, leases, handlers, runners: () => [stand] });
      const billingLag = async () => (await health.report()).find((r) => r.name === 'billing')!.lagEvents;

      // Not working yet (another process may run it): the stored checkpoint is what is known.
      expect(await billingLag()).to.equal(2);
      stand.report({ name: 'billing', state: 'live', position: head, lastError: null });
      expect(await billingLag(), 'the projector thread reported it is at the head').to.equal(0);
      stand.report({ name: 'billing', state: 'waiting-for-lease', position: head, lastError: null });
      expect(await billingLag(), 'it gave the lease up: back to the checkpoint').to.equal(2);
    } finally {
      billing.start();
    }
  });

  it('counts lag up to its limit, and only the events the handler reads', async () => {
    const { eventStore, readStore, leases, handlers } = server.system;
    const billingHandler = handlers.find((h) => h.name === 'billing')!;
    const health = new SubscriptionHealth({
      eventStore,
      readStore,
      leases,
      handlers: [billingHandler],
      runners: () => [],
      lagCountLimit: 3,
    });
    const stopped = server.system.runners.find((r) => r.handler.name === 'billing')!;
    await stopped.stop();
    try {
      const trader = await api.newTrader();
      await eventually(
        async () => expect((await health.report())[0]!.lagEvents).to.equal(1),
        5000,
        'the account opened, not yet projected',
      );
      // Events of another system (unknown types: the server's own store would refuse them), from another writer.
      const raw = openRawEventStore(server);
      for (let i = 0; i < 5; i++)
        await raw.appendToStream(`unread-${i}-${randomUUID()}`, [{ id: randomUUID(), type: 'Unread', data: {} }]);
      await raw.close();
      expect((await health.report())[0]!.lagEvents, 'other streams are not its lag').to.equal(1);
      for (let i = 0; i < 3; i++) await api.funded(trader.token, 1);
      expect((await health.report())[0]!.lagEvents, 'counted up to the limit').to.equal(3);
    } finally {
      stopped.start();
    }
  });
});

describe('metrics with the projections in a worker thread', () => {
  let server: ApiServer;
  let api: Client;

  before(async () => {
    server = await startApiServer({ env: { PROJECTION_THREAD: 'worker' } });
    api = new Client(server.baseUrl);
  });
  after(async () => {
    await server?.close();
  });

  itHttp('follows the projections through what the worker reports', async () => {
    const trader = await api.newTrader();
    await eventually(async () => expect((await api.account(trader.token)).status).to.equal(200), 5000, 'the account');
    await api.balance(trader.token, await api.funded(trader.token, 10));
    await eventually(
      async () => {
        const answer = await api.get('/metrics');
        const samples = parseExposition(answer.text).filter((s) => s.name === 'marketplace_subscription_lag_events');
        expect(samples.map((s) => s.labels.subscription).sort()).to.deep.equal(
          server.system.handlers.map((h) => h.name).sort(),
        );
        expect(samples.filter((s) => s.value !== 0)).to.deep.equal([]);
      },
      5000,
      'every handler caught up',
    );
    expect((await api.get('/ready')).status).to.equal(200);
  });
});

describe('metrics labels', () => {
  it('names streams by category, never by id', () => {
    const id = randomUUID();
    expect(streamCategory(`account-${id}`)).to.equal('account');
    expect(streamCategory(`customer-orders-${id}`)).to.equal('customer-orders');
    expect(streamCategory(`trader-orders-${id}`)).to.equal('trader-orders');
    expect(streamCategory(`market-${id}`)).to.equal('market');
    expect(streamCategory(`user-${id}`)).to.equal('user');
    expect(streamCategory('email-someone@example.com')).to.equal('email');
    expect(streamCategory(`${id}-account`)).to.equal('other');
    expect(streamCategory('')).to.equal('other');
  });

  it('keeps each Metrics in its own registry', async () => {
    const one = new Metrics();
    const two = new Metrics();
    one.eventsAppended.inc({ category: 'account' }, 3);
    expect((await one.scrape()).body).to.include('marketplace_events_appended_total{category="account"} 3');
    expect((await two.scrape()).body).to.not.include('marketplace_events_appended_total{category="account"}');
  });
});

describe('metrics while a store is down', () => {
  it('still answers a scrape: the subscription series are left out, marketplace_ready says which dependency fails', async () => {
    const metrics = new Metrics();
    let down = true;
    const report = {
      name: 'billing',
      kind: 'projection' as const,
      lagEvents: 2,
      lagSeconds: 0.5,
      parked: 0,
      rebuilding: false,
      retrying: null,
    };
    metrics.followSubscriptions({ report: async () => (down ? Promise.reject(new Error('ECONNREFUSED')) : [report]) });
    metrics.followReadiness(async () => ({
      checks: { eventStore: down ? 'failed: ECONNREFUSED' : 'ok', readModels: 'ok' },
    }));
    const lag = 'marketplace_subscription_lag_events{subscription="billing",kind="projection"}';

    const during = (await metrics.scrape()).body;
    expect(during).to.include('marketplace_ready{dependency="eventStore"} 0');
    expect(during).to.include('marketplace_ready{dependency="readModels"} 1');
    expect(during).not.to.include(lag);

    down = false;
    const after = (await metrics.scrape()).body;
    expect(after).to.include(`${lag} 2`);
    expect(after).to.include('marketplace_ready{dependency="eventStore"} 1');
    down = true;
    expect((await metrics.scrape()).body, 'no stale figure from before the outage').not.to.include(lag);
  });

  it('follows readiness once per registry: a second app on the same metrics replaces the check, not the gauge', async () => {
    const metrics = new Metrics();
    metrics.followReadiness(async () => ({ checks: { eventStore: 'ok', readStore: 'ok' } }));
    metrics.followReadiness(async () => ({ checks: { eventStore: 'failed: gone' } }));
    const body = (await metrics.scrape()).body;
    expect(body).to.include('marketplace_ready{dependency="eventStore"} 0');
    expect(body, 'only what the latest check names').not.to.include('dependency="readStore"');
  });
});
