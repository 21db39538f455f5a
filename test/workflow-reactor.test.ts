/**
 * The generic reactor that runs a workflow (infra/eventsourcing/subscriptions/workflow-reactor.ts)
 * and the router that finds each command's table, on the embedded store: what every process
 * manager relies on besides its own rules (those are specified in test/domain/).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import { depositMoney, openAccount } from '../command-handlers/billing.js';
import { accountCommands, marketCommands, traderOrdersCommands } from '../command-handlers/commands.js';
import { listItem, loadMarket, placeOrder } from '../command-handlers/trading.js';
import type { AccountRequest } from '../domain/billing/account.js';
import { accountStream, type MoneyDeposited } from '../domain/billing/events.js';
import { BusinessRuleViolation } from '../domain/decider.js';
import { dealSettlement } from '../domain/trading/deal-settlement.js';
import { market } from '../domain/trading/market.js';
import { stateless, type Workflow, type WorkflowStep } from '../domain/workflow.js';
import { routeCommands } from '../infra/eventsourcing/command-handling/command-router.js';
import { StreamStateCache } from '../infra/eventsourcing/command-handling/stream-state-cache.js';
import type { EventStore, RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import type { EventHandler, ProjectionView } from '../infra/eventsourcing/subscriptions/event-handler.js';
import {
  workflowReactor,
  type ReactorEnvironment,
  type ReactorOptions,
} from '../infra/eventsourcing/subscriptions/workflow-reactor.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { wants } from './support/handlers.js';

const noView: ProjectionView = { get: async () => null };

/** A workflow for the test: every deposit is followed by a withdrawal of twice as much (which an account refuses). */
function doubleBack(
  options: { accept?: boolean; seen?: WorkflowStep[] } = {},
): Workflow<MoneyDeposited, null, AccountRequest> {
  return {
    name: 'double-back',
    inputs: ['MoneyDeposited'],
    instanceOf: (input) => input.data.userId,
    ...stateless,
    decide(input, _state, step) {
      options.seen?.push(step);
      const { userId, operationId, amount } = input.data;
      return [{ type: 'WithdrawMoney', userId, operationId: `${operationId}-back`, amount: 2 * amount, at: step.at }];
    },
    ...(options.accept
      ? { acceptsRefusal: (refusal: BusinessRuleViolation) => refusal.code === 'not_enough_money' }
      : {}),
  };
}

describe('the workflow reactor', function () {
  this.timeout(30_000);
  let dir: string;
  let store: EventStore;
  let clock: number;
  let ids: number;
  const processEnv = (): ReactorEnvironment => ({
    eventStore: store,
    cache: new StreamStateCache(),
    newId: () => `id-${ids++}`,
    now: () => new Date(clock++ * 1000),
  });
  let env: ReactorEnvironment;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-reactor-'));
    store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal' });
    clock = Date.parse('2026-11-21T10:00:00Z') / 1000;
    ids = 0;
    env = processEnv();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ofType = async (type: string) => (await store.readAll()).filter((e) => e.type === type);
  /** Hands the handler every event of `$all` it wants, once, in order, until nothing new comes. */
  async function run(handler: EventHandler, floor = -1) {
    for (let from = 0; ; ) {
      const all = await store.readAll();
      if (all.length === from) return;
      for (const event of all.slice(from))
        if (wants(handler, event)) await handler.handle(event, noView, { redeliveryFloor: floor });
      from = all.length;
    }
  }

  describe('routing', () => {
    it('sends each command through the table that declares its type', async () => {
      const route = routeCommands(accountCommands, marketCommands);
      expect(route.types).to.include.members(['OpenAccount', 'PayFromAccount', 'ListItem', 'CompleteDeal']);
      const at = new Date().toISOString();
      const opened = await route.send(env, { type: 'OpenAccount', accountId: 'a1', userId: 'u1', at });
      expect(opened.events.map((e) => e.type)).to.deep.equal(['AccountOpened']);
      const listed = await route.send(env, {
        type: 'ListItem',
        itemId: 'i1',
        name: 'sword',
        initialCount: 1,
        initialPrice: 100,
        commissionBasisPoints: 0,
        brokerId: 'u1',
        at,
      });
      expect(listed.events.map((e) => e.type)).to.deep.equal(['ItemListed']);
      expect((await store.readAll()).map((e) => e.streamId)).to.deep.equal([accountStream('u1'), 'market-i1']);
      const stray = { type: 'RejectOrder' as const, userId: 'u1', orderId: 'o1', reason: 'r', at };
      // @ts-expect-error: a command of a table the router was not made of does not compile...
      const refused = await route.send(env, stray).catch((error: unknown) => error);
      // ...nor is it sent anywhere.
      expect(refused).to.be.instanceOf(Error);
      expect((refused as Error).message).to.equal('no table declares the command type RejectOrder');
    });

    it('refuses tables that declare one command type twice', () => {
      expect(() => routeCommands(accountCommands, traderOrdersCommands, accountCommands)).to.throw(
        'command type OpenAccount is declared by two tables',
      );
    });
  });

  describe('handling', () => {
    it('is a process manager subscribed to the workflow’s inputs, partitioned by its instances', async () => {
      const handler = workflowReactor(env, doubleBack(), { route: routeCommands(accountCommands) });
      expect(handler).to.include({ name: 'double-back', kind: 'process-manager' });
      expect(handler.filter).to.deep.equal({ eventTypePrefixes: ['MoneyDeposited'] });
      expect(handler.collections).to.deep.equal([]);
      await openAccount(env, 'u1');
      await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'd1' });
      const [opened, deposited] = (await store.readAll()) as [RecordedEvent, RecordedEvent];
      expect(handler.partitionKey!(deposited)).to.equal('u1');
      // An event that is not one of its inputs (a prefix match, say) is its stream's, and decides nothing.
      expect(handler.partitionKey!(opened)).to.equal(accountStream('u1'));
      expect(await handler.handle(opened, noView, { redeliveryFloor: -1 })).to.deep.equal([]);
      expect(await store.readAll()).to.have.length(2);
    });

    it('tells the workflow the input’s place in the log and the floor, reading the clock and drawing an id only when asked', async () => {
      const seen: WorkflowStep[] = [];
      const handler = workflowReactor(env, doubleBack({ seen, accept: true }), {
        route: routeCommands(accountCommands),
      });
      await openAccount(env, 'u1');
      await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'd1' });
      const [deposited] = await ofType('MoneyDeposited');
      const before = { clock, ids };
      await handler.handle(deposited!, noView, { redeliveryFloor: 7 });
      expect(seen.map((s) => ({ cause: s.cause, floor: s.floor }))).to.deep.equal([
        { cause: Number(deposited!.position.commit), floor: 7 },
      ]);
      // The decision read the time once, and asked for no fresh id (the refused withdrawal appended nothing).
      expect({ clock: clock - before.clock, ids: ids - before.ids }).to.deep.equal({ clock: 1, ids: 0 });
    });

    it('a refusal fails the step, unless the workflow takes it as an outcome', async () => {
      await openAccount(env, 'u1');
      await depositMoney(env, { userId: 'u1', amount: 5, operationId: 'd1' });
      const [deposited] = await ofType('MoneyDeposited');
      const strict = workflowReactor(env, doubleBack(), { route: routeCommands(accountCommands) });
      const error = await Promise.resolve(strict.handle(deposited!, noView, { redeliveryFloor: -1 })).catch((e) => e);
      expect(error).to.be.instanceOf(BusinessRuleViolation);
      expect(error).to.include({ code: 'not_enough_money' });
      const lenient = workflowReactor(env, doubleBack({ accept: true }), { route: routeCommands(accountCommands) });
      expect(await lenient.handle(deposited!, noView, { redeliveryFloor: -1 })).to.deep.equal([]);
    });

    it('sends each command with the input’s correlation id, naming the input as its cause', async () => {
      await openAccount(env, 'u1');
      await depositMoney(env, { userId: 'u1', amount: 10, operationId: 'd1' }, { correlationId: 'request-1' });
      await run(
        workflowReactor(
          env,
          { ...doubleBack(), decide: (input, _s, step) => [halfBack(input, step)] },
          {
            route: routeCommands(accountCommands),
          },
        ),
      );
      const [deposited] = await ofType('MoneyDeposited');
      const [withdrawn] = await ofType('MoneyWithdrawn');
      expect(withdrawn!.metadata).to.include({ correlationId: 'request-1', causationId: deposited!.id });
    });
  });

  describe('state', () => {
    /** A deal opened by another process after this one cached the market: what a projector process meets. */
    async function dealOpenedElsewhere() {
      const api = processEnv();
      for (const user of ['broker', 't1']) await openAccount(api, user);
      await depositMoney(api, { userId: 't1', amount: 100_000, operationId: uuid() });
      const itemId = uuid();
      await listItem(api, 'broker', itemId, {
        name: 'sword',
        initialCount: 1,
        initialPrice: 20_000,
        commissionBasisPoints: 1000,
      });
      await loadMarket(env, itemId); // this process caches the market before the deal
      await placeOrder(api, { userId: 't1', side: 'purchase', itemId, price: 20_000, uniqueId: uuid() });
      return itemId;
    }
    const settlement = (reread: NonNullable<ReactorOptions<unknown, never>['state']>['reread']) =>
      workflowReactor(
        env,
        dealSettlement({ idOf: (name) => `step-${name}`, accountIdOf: (userId) => `account-of-${userId}` }),
        { route: routeCommands(accountCommands, marketCommands), state: { decider: market, reread } },
      );

    it('decides on the cached state, read again when it decided nothing if the workflow’s state may be behind', async () => {
      const itemId = await dealOpenedElsewhere();
      await run(settlement('when-nothing-decided'));
      expect((await loadMarket(env, itemId)).deals.size).to.equal(0);
      expect(await ofType('DealCompleted')).to.have.length(1);
    });

    it('(without reading again, a deal opened after the market was cached would stall)', async () => {
      await dealOpenedElsewhere();
      await run(settlement('never'));
      expect(await ofType('PaymentMade')).to.have.length(1);
      expect(await ofType('DealPaid')).to.deep.equal([]);
    });

    it('refuses a workflow that decides on a stream’s state without the decider to fold it', async () => {
      const itemId = await dealOpenedElsewhere();
      const handler = workflowReactor(env, dealSettlement({ idOf: (name) => name, accountIdOf: (userId) => userId }), {
        route: routeCommands(accountCommands, marketCommands),
      });
      const error = await run(handler).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.equal(
        `deal-settlement decides on the state of market-${itemId}, but was given no decider for it`,
      );
    });
  });
});

function halfBack(input: MoneyDeposited, step: WorkflowStep): AccountRequest {
  const { userId, operationId, amount } = input.data;
  return { type: 'WithdrawMoney', userId, operationId: `${operationId}-half`, amount: amount / 2, at: step.at };
}
