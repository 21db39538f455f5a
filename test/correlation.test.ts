/**
 * A request's id is the correlation id of every event it causes, and the process managers
 * carry it on: each event they cause names the event that caused it (causation id). Read
 * back from the event store itself.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { accountStream } from '../domain/billing/events.js';
import { marketStream } from '../domain/trading/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { Client, itHttp } from './http/client.js';
import { eventually, Market } from './http/trading-client.js';
import { startApiServer, type ApiServer } from './support/api-server.js';

describe('correlation and causation ids in event metadata', () => {
  let server: ApiServer;
  let api: Client;
  let market: Market;

  before(async () => {
    server = await startApiServer();
    api = new Client(server.baseUrl);
    market = new Market(api);
  });
  after(async () => {
    await server?.close();
  });

  async function streamOf(streamId: string): Promise<RecordedEvent[]> {
    const read = await server.system.eventStore.readStream(streamId);
    expect(read.status, streamId).to.equal('found');
    return read.status === 'found' ? read.events : [];
  }

  const correlated = async (correlationId: string) =>
    (await server.system.eventStore.readAll()).filter((e) => e.metadata.correlationId === correlationId);

  /** The one event of this type among `events`. */
  function one(events: RecordedEvent[], type: string): RecordedEvent {
    const found = events.filter((e) => e.type === type);
    expect(
      found.map((e) => e.type),
      `one ${type} in ${events.map((e) => e.type).join(', ')}`,
    ).to.deep.equal([type]);
    return found[0]!;
  }

  itHttp('a deposit’s event carries the request’s X-Correlation-Id, echoed back', async () => {
    const trader = await market.trader();
    const answer = await api.deposit(trader.token, 25, { 'idempotency-key': randomUUID(), 'x-correlation-id': 'abc' });
    expect(answer.status, answer.text).to.equal(204);
    expect(answer.headers.get('x-correlation-id')).to.equal('abc');
    const deposited = (await streamOf(accountStream(trader.id))).at(-1)!;
    expect(deposited.type).to.equal('MoneyDeposited');
    expect(deposited.metadata.correlationId).to.equal('abc');
  });

  itHttp('without one, the generated request id is the correlation id', async () => {
    const trader = await market.trader();
    const answer = await api.deposit(trader.token, 5);
    expect(answer.status).to.equal(204);
    const requestId = answer.headers.get('x-correlation-id');
    expect(requestId).to.be.a('string').with.length.greaterThan(10);
    expect((await streamOf(accountStream(trader.id))).at(-1)!.metadata.correlationId).to.equal(requestId);
  });

  itHttp('a registration’s account is opened in its correlation, caused by the registration', async () => {
    const registered = await api.register({
      email: `corr-${randomUUID().slice(0, 8)}@market.test`,
      password: 'secret-password',
      firstName: 'Cor',
      lastName: 'Relation',
      phone: null,
    });
    expect(registered.status, registered.text).to.equal(201);
    const requestId = registered.headers.get('x-correlation-id')!;
    const events = await eventually(
      async () => {
        const found = await correlated(requestId);
        expect(found.map((e) => e.type)).to.include('AccountOpened');
        return found;
      },
      5000,
      'the account opened',
    );
    const registration = one(events, 'UserRegistered');
    expect(registration.metadata.causationId, 'caused by the request, not by an event').to.equal(undefined);
    expect(one(events, 'AccountOpened').metadata.causationId).to.equal(registration.id);
  });

  itHttp(
    'a trade’s settlement carries the order’s correlation id, each step caused by the event before it',
    async () => {
      const item = await market.newItem({ initialPrice: 100, commissionPercent: 10 });
      const buyer = await market.trader(1000);
      const broker = await market.broker();
      const trade = `trade-${randomUUID()}`;
      const placed = await market.postOrder(
        buyer.token,
        'purchase',
        { itemId: item.id, price: 100 },
        { 'idempotency-key': randomUUID(), 'x-correlation-id': trade },
      );
      expect(placed.status, placed.text).to.equal(202);

      const events = await eventually(
        async () => {
          const found = await correlated(trade);
          expect(found.map((e) => e.type)).to.include('DealCompleted');
          return found;
        },
        5000,
        'the deal completed',
      );

      // Caused by the request — or, when the order-placement process manager entered the
      // submitted order first, by the OrderSubmitted event: both are the same placement.
      const dealOpened = one(events, 'DealOpened');
      expect(dealOpened.streamId).to.equal(marketStream(item.id));
      expect([undefined, one(events, 'OrderSubmitted').id]).to.include(dealOpened.metadata.causationId);
      // Then each process-manager step, named after the event that led to it.
      const payment = one(events, 'PaymentMade');
      expect(payment.streamId).to.equal(accountStream(buyer.id));
      expect(payment.metadata.causationId).to.equal(dealOpened.id);
      const commission = one(events, 'CommissionReceived');
      const accrual = one(events, 'AccrualReceived');
      const paid = one(events, 'DealPaid');
      for (const step of [commission, accrual]) expect(step.streamId).to.equal(accountStream(broker.id));
      for (const step of [commission, accrual, paid]) expect(step.metadata.causationId, step.type).to.equal(payment.id);
      expect(one(events, 'DealCompleted').metadata.causationId).to.equal(accrual.id);

      // Every cause is an event of the same flow: the chain can be followed from end to start.
      const ids = new Set(events.map((e) => e.id));
      for (const event of events)
        if (event.metadata.causationId) expect(ids.has(event.metadata.causationId), event.type).to.equal(true);
    },
  );
});
