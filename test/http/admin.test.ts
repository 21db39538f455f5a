/**
 * The administrators' endpoints over HTTP (both event stores; on the MongoDB read store with
 * TEST_READ_STORE=mongo): listing and searching users, blocking and unblocking (tokens refused
 * at once, pending orders canceled by a process manager, money kept), who may call them, and
 * the one broker: appointing another retires the one before, whose items earn for the new one.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { grantRole, revokeRole } from '../../command-handlers/admin.js';
import { accessStream, brokerStream } from '../../domain/identity/admin-events.js';
import type { RecordedEvent } from '../../infra/eventsourcing/event-store/event-store.js';
import { BROKER, type ApiServer } from '../support/api-server.js';
import {
  type Client,
  eventStores,
  expectError,
  expectViolation,
  itHttp,
  nextLink,
  positionOf,
  SHARED_SERVER_ENV,
  withApiServer,
  type Trader,
} from './client.js';
import { eventually, Market } from './trading-client.js';

const BLOCKED = 'Unauthorized: the user is blocked';
const DIRECTORY_FIELDS = ['blocked', 'createdAt', 'email', 'firstName', 'id', 'lastName', 'phone', 'role', 'updatedAt'];

async function eventsOf(server: ApiServer, stream: string): Promise<RecordedEvent[]> {
  const read = await server.system.eventStore.readStream(stream);
  return read.status === 'found' ? read.events : [];
}

/** A fresh user made an admin by the operator (as `npm run cli -- users grant` does), signed in once the read models know. */
async function newAdmin(server: ApiServer, api: Client): Promise<Trader> {
  const user = await api.newTrader();
  await grantRole(server.system.services, user.email, 'admin', 'cli');
  const login = await api.login(user.email, user.password);
  expect(login.status, login.text).to.equal(200);
  const token = login.body.accessToken as string;
  await eventually(async () => {
    const answer = await api.get('/api/v1/admin/users?limit=1', { token });
    expect(answer.status, answer.text).to.equal(200);
  });
  return { ...user, token };
}

for (const eventStore of eventStores) {
  describe(`HTTP admin (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let server: ApiServer;
    let api: Client;
    let market: Market;
    let admin: Trader;
    let adminOf: ApiServer | undefined;
    withApiServer(eventStore, (started, client) => {
      server = started;
      api = client;
      market = new Market(client);
    });
    beforeEach(async () => {
      // On MongoDB a server per test (see withApiServer): an admin per server.
      if (adminOf !== server) admin = await newAdmin(server, api);
      adminOf = server;
    });

    describe('who may call', () => {
      itHttp('401 without a token, 403 for a trader and for the broker, 200 for an admin', async () => {
        expectError(await api.get('/api/v1/admin/users'), 401);
        const trader = await api.newTrader();
        expectError(await api.get('/api/v1/admin/users', { token: trader.token }), 403, 'Operation denied');
        const broker = await market.broker();
        expectError(await api.post(`/api/v1/admin/users/${trader.id}/block`, { token: broker.token }), 403);
        expect((await api.get('/api/v1/admin/users', { token: admin.token })).status).to.equal(200);
      });

      itHttp('an admin whose role was taken back is refused at once, though the token still says admin', async () => {
        const other = await newAdmin(server, api);
        await revokeRole(server.system.services, other.email, 'admin', 'cli');
        await eventually(async () =>
          expectError(await api.get('/api/v1/admin/users', { token: other.token }), 403, 'Operation denied'),
        );
      });
    });

    describe('listing and searching users', () => {
      itHttp('by the beginning of the email (any case), sorted by email, paginated with Link', async () => {
        const prefix = `find-${randomUUID().slice(0, 8)}`;
        const emails = ['c', 'a', 'b'].map((l) => `${prefix}-${l}@example.test`);
        for (const email of emails) {
          const answer = await api.register({ email, password: 'secret-password', firstName: 'F', lastName: 'L' });
          expect(answer.status, answer.text).to.equal(201);
        }
        const first = await eventually(async () => {
          const answer = await api.get(`/api/v1/admin/users?email=${prefix.toUpperCase()}&limit=2`, {
            token: admin.token,
          });
          expect(answer.status, answer.text).to.equal(200);
          expect(answer.body).to.have.length(2);
          return answer;
        });
        expect(Object.keys(first.body[0]).sort()).to.deep.equal(DIRECTORY_FIELDS);
        expect(first.body.map((u: { email: string }) => u.email)).to.deep.equal([emails[1], emails[2]]);
        expect(first.body[0]).to.include({ role: 'trader', blocked: false, firstName: 'F' });
        const next = nextLink(first);
        expect(next, 'a Link to the next page').to.be.a('string');
        const second = await api.get(next!, { token: admin.token });
        expect(second.body.map((u: { email: string }) => u.email)).to.deep.equal([emails[0]]);
        expect(nextLink(second)).to.equal(null);
      });

      itHttp('by role and by blocked; bad parameters are 422 naming them', async () => {
        const brokers = await api.get('/api/v1/admin/users?role=broker', { token: admin.token });
        expect(brokers.body.map((u: { email: string }) => u.email)).to.deep.equal([BROKER.email]);
        const admins = await api.get('/api/v1/admin/users?role=admin&blocked=false', { token: admin.token });
        expect(admins.body.map((u: { id: string }) => u.id)).to.include(admin.id);
        expectViolation(await api.get('/api/v1/admin/users?role=king', { token: admin.token }), 'role');
        expectViolation(await api.get('/api/v1/admin/users?blocked=yes', { token: admin.token }), 'blocked');
        expectError(await api.get('/api/v1/admin/users?limit=0', { token: admin.token }), 422);
      });
    });

    describe('parked events and the consistency check (the CLI’s modules)', () => {
      /** Parks the user's registration as if the account-opening process manager had given up on it. */
      async function parkRegistration(user: Trader): Promise<string> {
        const [registered] = await eventsOf(server, `user-${user.id}`);
        await server.system.readStore.park({
          projection: 'account-opening',
          eventId: registered!.id,
          eventType: registered!.type,
          streamId: registered!.streamId,
          position: registered!.position,
          error: 'made up by the test',
          attempts: 3,
          parkedAt: new Date(),
        });
        return `/api/v1/admin/parked-events/account-opening/${registered!.id}`;
      }

      itHttp('lists, retries (handled again, unparked) and skips (recorded with the admin) parked events', async () => {
        const trader = await api.newTrader();
        const path = await parkRegistration(trader);
        const listed = await api.get('/api/v1/admin/parked-events?name=account-opening', { token: admin.token });
        expect(listed.status, listed.text).to.equal(200);
        expect(listed.body.map((p: { id: string }) => p.id)).to.include(path.split('parked-events/')[1]);
        const retried = await api.post(`${path}/retry`, { token: admin.token });
        expect(retried.status, retried.text).to.equal(200);
        expect(retried.body).to.deep.equal([
          { id: path.split('parked-events/')[1], ok: true, what: 'handled, unparked' },
        ]);
        expectError(await api.post(`${path}/retry`, { token: admin.token }), 404);

        const other = await api.newTrader();
        const skipPath = await parkRegistration(other);
        expectViolation(await api.post(`${skipPath}/skip`, { token: admin.token, json: {} }), 'reason');
        const skipped = await api.post(`${skipPath}/skip`, { token: admin.token, json: { reason: 'a test' } });
        expect(skipped.status, skipped.text).to.equal(200);
        const [repair] = await eventsOf(server, 'repairs-account-opening');
        expect(repair!.data).to.deep.include({ reason: 'a test', by: admin.id, subscription: 'account-opening' });
        expectError(await api.get('/api/v1/admin/parked-events?name=nope', { token: admin.token }), 404);
        const trader2 = await api.newTrader();
        expectError(await api.get('/api/v1/admin/parked-events', { token: trader2.token }), 403);
      });

      itHttp('the consistency check answers each check and whether all held', async () => {
        const answer = await api.get('/api/v1/admin/consistency?graceSeconds=600', { token: admin.token });
        expect(answer.status, answer.text).to.equal(200);
        expect(answer.body.checks).to.be.an('array').that.is.not.empty;
        expect(answer.body.consistent, answer.text).to.equal(true);
        expectViolation(
          await api.get('/api/v1/admin/consistency?graceSeconds=-1', { token: admin.token }),
          'graceSeconds',
        );
      });
    });

    describe('blocking', () => {
      itHttp(
        'refuses the user’s tokens at once, cancels their pending orders, keeps their money; unblocking lets them in again',
        async () => {
          const trader = await market.trader(50);
          const item = await market.newItem({ initialPrice: 100 });
          const { order } = await market.placed(trader.token, 'purchase', item.id, 10);
          await eventually(async () => expect(await market.activeOrders(trader.token, 'purchase')).to.have.length(1));

          const blocked = await api.post(`/api/v1/admin/users/${trader.id}/block`, { token: admin.token });
          expect(blocked.status, blocked.text).to.equal(204);
          positionOf(blocked);
          expectError(await api.get('/api/v1/billing/account', { token: trader.token }), 401, BLOCKED);
          const [event] = await eventsOf(server, accessStream(trader.id));
          expect(event!.type).to.equal('UserBlocked');
          expect(event!.data).to.deep.include({ userId: trader.id, by: admin.id });
          expect(event!.data.openOrders).to.deep.equal([{ orderId: order.id, side: 'purchase' }]);
          // Blocking again changes nothing.
          expect((await api.post(`/api/v1/admin/users/${trader.id}/block`, { token: admin.token })).status).to.equal(
            204,
          );
          expect(await eventsOf(server, accessStream(trader.id))).to.have.length(1);
          await eventually(async () => {
            const listed = await api.get(`/api/v1/admin/users?email=${encodeURIComponent(trader.email)}`, {
              token: admin.token,
            });
            expect(listed.body[0]).to.include({ id: trader.id, blocked: true });
          });

          const unblocked = await api.post(`/api/v1/admin/users/${trader.id}/unblock`, { token: admin.token });
          expect(unblocked.status, unblocked.text).to.equal(204);
          const events = await eventsOf(server, accessStream(trader.id));
          expect(events.map((e) => e.type)).to.deep.equal(['UserBlocked', 'UserUnblocked']);
          expect(events[1]!.data).to.deep.include({ userId: trader.id, by: admin.id });
          await eventually(async () => expect(await market.activeOrders(trader.token, 'purchase')).to.deep.equal([]));
          expect(await market.balance(trader.token)).to.equal(50);
        },
      );

      itHttp('an unknown user is 404, oneself 422, an id no user can have 422 naming userId', async () => {
        expectError(await api.post(`/api/v1/admin/users/${randomUUID()}/block`, { token: admin.token }), 404);
        expectError(await api.post(`/api/v1/admin/users/${randomUUID()}/unblock`, { token: admin.token }), 404);
        expectError(
          await api.post(`/api/v1/admin/users/${admin.id}/block`, { token: admin.token }),
          422,
          'an admin cannot block themselves',
        );
        expectViolation(
          await api.post(`/api/v1/admin/users/${'x'.repeat(200)}/block`, { token: admin.token }),
          'userId',
        );
      });
    });
  });
}

for (const eventStore of eventStores) {
  describe(`the one broker (${eventStore} event store)`, function () {
    this.timeout(30_000);
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
      { env: SHARED_SERVER_ENV, each: true },
    );

    itHttp('appointing another broker retires the one before; its listed item earns for the new one', async () => {
      const item = await market.newItem({ initialPrice: 100, commissionPercent: 10 });
      const retired = await market.broker();
      const successor = await market.trader();
      await grantRole(server.system.services, successor.email, 'broker', 'cli');
      const [appointed] = (await eventsOf(server, brokerStream())).slice(-1);
      expect(appointed!.data).to.deep.include({ userId: successor.id, previousBrokerId: retired.id, by: 'cli' });
      await eventually(async () => {
        const listed = await api.get('/api/v1/admin/users?role=broker', { token: (await newAdmin(server, api)).token });
        expect(listed.body.map((u: { id: string }) => u.id)).to.deep.equal([successor.id]);
      });
      // The old token still says broker, the new broker signs in as one.
      const login = await api.login(successor.email, successor.password);
      const successorToken = login.body.accessToken as string;
      const buyer = await market.trader(200);
      await market.placed(buyer.token, 'purchase', item.id, 100);
      await eventually(async () => {
        const commissions = (await market.operations(successorToken)).filter((o) => o.type === 'commission');
        // The buyer's commission, and the retired broker's as a seller now.
        expect(commissions.map((o) => o.amount)).to.deep.equal([10, 10]);
      });
      await eventually(async () => {
        const accruals = (await market.operations(retired.token)).filter((o) => o.type === 'accrual');
        expect(accruals.map((o) => o.amount)).to.deep.equal([90]);
      });
      expect(await market.balance(buyer.token)).to.equal(90);
    });
  });
}
