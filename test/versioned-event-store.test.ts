/**
 * The versioned event store (infra/eventsourcing/event-store/versioned-event-store.ts) over each store kind
 * (embedded, and EventStoreDB through the gRPC double): appends checked against the current
 * schema and stamped with their version, older versions upcast on every read path, and an
 * event no version matches refused to commands and parked by a runner with the reason.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import { domainEvents } from '../domain/events.js';
import { openEsdbEventStore } from '../infra/esdb/esdb-event-store.js';
import {
  MalformedEvent,
  UnreadableEvent,
  type EventStore,
  type RecordedEvent,
} from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { versionedEventStore } from '../infra/eventsourcing/event-store/versioned-event-store.js';
import { compiledChecks } from '../infra/event-schemas/compiled-checks.js';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';
import { ProjectionRunner } from '../infra/eventsourcing/subscriptions/runner.js';
import { openSqliteLeases } from '../infra/sqlite/sqlite-leases.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { startEsdbDouble, type EsdbDouble } from './support/esdb-double/index.js';
import { tempDir, type TempDir } from './support/process.js';

const at = '2026-11-21T10:00:00.000Z';
const deposit = (amount: number | string = 1050) => ({
  accountId: 'a1',
  userId: 'u1',
  operationId: uuid(),
  amount,
  balance: 1050,
  at,
});
const dealFailedV1 = {
  itemId: 'i1',
  itemName: 'Sword',
  dealId: 'd1',
  purchaseOrderId: 'i1.p',
  sellOrderId: 'i1-u0',
  buyerId: 'u1',
  price: 20_000,
  reason: 'not enough money',
  at,
};

for (const kind of ['embedded', 'esdb'] as const) {
  describe(`versioned events on the ${kind} event store`, function () {
    this.timeout(30_000);
    let dir: TempDir;
    let double: EsdbDouble | null = null;
    let raw: EventStore;
    let store: EventStore;

    before(async () => {
      dir = tempDir('market-versioned-');
      double = kind === 'esdb' ? await startEsdbDouble() : null;
      raw = double
        ? openEsdbEventStore({ connectionString: double.connectionString })
        : openSqliteEventStore({ file: join(dir.path, 'events.db'), durability: 'normal', writer: 'inline' });
      store = versionedEventStore(raw, domainEvents.withChecks(compiledChecks()));
    });
    after(async () => {
      await raw.close();
      await double?.stop();
      dir.remove();
    });

    const stream = (prefix: string) => `${prefix}-${uuid()}`;
    /** Appends as an earlier build did: straight to the store, no version recorded. */
    const appendAsBefore = (streamId: string, type: string, data: object) =>
      raw.appendToStream(streamId, [
        { id: uuid(), type, data: data as never, metadata: { correlationId: 'old-request' } },
      ]);

    it('stamps each event with the version it is written at, keeping its correlation and causation', async () => {
      const account = stream('account');
      const market = stream('market');
      await store.appendToStream(account, [
        {
          id: uuid(),
          type: 'MoneyDeposited',
          data: deposit(),
          metadata: { correlationId: 'req-1', causationId: 'evt-0' },
        },
      ]);
      await store.appendToStream(market, [
        { id: uuid(), type: 'DealFailed', data: { ...dealFailedV1, reason: 'insufficient_funds' } },
      ]);
      const stored = async (s: string) =>
        ((await raw.readStream(s)) as { events: RecordedEvent[] }).events[0]!.metadata;
      expect(await stored(account)).to.deep.equal({ correlationId: 'req-1', causationId: 'evt-0', schemaVersion: 1 });
      expect(await stored(market)).to.deep.equal({ schemaVersion: 2 });
    });

    it('refuses a malformed event at once, naming the field, and writes nothing of its append', async () => {
      const account = stream('account');
      const refusal = await store
        .appendToStream(account, [
          { id: uuid(), type: 'MoneyDeposited', data: deposit() },
          { id: uuid(), type: 'MoneyDeposited', data: deposit(10.5) },
        ])
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(refusal).to.be.instanceOf(MalformedEvent);
      expect((refusal as Error).message).to.include('MoneyDeposited version 1 does not match its schema: amount:');
      expect((await raw.readStream(account)).status).to.equal('not_found');
      const unknown = await store
        .appendToStream(account, [{ id: uuid(), type: 'MoneyFound', data: {} }])
        .catch((error: unknown) => error);
      expect((unknown as Error).message).to.include('MoneyFound is not an event type of this system');
    });

    it('reads an event of an earlier version as the current one, whichever way it is read', async () => {
      const market = stream('market');
      await appendAsBefore(market, 'DealFailed', dealFailedV1);
      const current = { ...dealFailedV1, reason: 'insufficient_funds' };
      const check = (event: RecordedEvent | undefined) => {
        expect(event?.data).to.deep.equal(current);
        expect(event?.metadata).to.deep.equal({ correlationId: 'old-request', schemaVersion: 2 });
        expect(event?.unreadable).to.equal(undefined);
      };
      check(((await store.readStream(market)) as { events: RecordedEvent[] }).events[0]);
      check((await store.readAll({ filter: { streamPrefixes: [market] } }))[0]);
      check((await firstBatch(store, market))[0]);
    });

    it('refuses to load a stream holding an event it cannot read, and hands it to $all readers marked with the reason', async () => {
      const account = stream('account');
      await store.appendToStream(account, [{ id: uuid(), type: 'MoneyDeposited', data: deposit() }]);
      await appendAsBefore(account, 'MoneyDeposited', deposit('10.50'));
      const error = await store.readStream(account).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UnreadableEvent);
      expect((error as UnreadableEvent).message).to.match(
        new RegExp(
          `^event .+ at revision 1 of stream ${account} cannot be read: MoneyDeposited version 1 does not match its schema: amount: `,
        ),
      );
      const [good, bad] = await store.readAll({ filter: { streamPrefixes: [account] } });
      expect(good!.unreadable).to.equal(undefined);
      expect(bad!.unreadable).to.match(/^MoneyDeposited version 1 does not match its schema: amount: /);
      expect((await firstBatch(store, account)).map((e) => e.unreadable === undefined)).to.deep.equal([true, false]);
    });

    it('a runner parks the unreadable event at once, with the reason, and hands every other event to its handler', async () => {
      const account = stream('account');
      await store.appendToStream(account, [{ id: uuid(), type: 'MoneyDeposited', data: deposit() }]);
      await appendAsBefore(account, 'MoneyDeposited', { ...deposit(), balance: 'plenty' });
      await appendAsBefore(account, 'MoneyDeposited', deposit());
      const handled: string[] = [];
      const handler: EventHandler = {
        name: 'versioned-test',
        filter: { streamPrefixes: [account] },
        collections: [],
        handle: (event) => {
          handled.push(event.id);
          return [];
        },
      };
      const readDb = join(dir.path, `read-${uuid()}.db`);
      const readStore = openSqliteReadStore({ file: readDb });
      const leases = openSqliteLeases(readDb);
      const logged: string[] = [];
      const log = { info: () => undefined, warn: () => undefined, error: (message: string) => logged.push(message) };
      try {
        await new ProjectionRunner(handler, {
          eventStore: store,
          readStore,
          leases,
          owner: 'test',
          log,
          maxAttempts: 5,
        }).rebuild();
        const events = await raw.readAll({ filter: { streamPrefixes: [account] } });
        expect(handled).to.deep.equal([events[0]!.id, events[2]!.id]);
        const parked = await readStore.listParked('versioned-test');
        expect(parked.map((p) => [p.eventId, p.attempts])).to.deep.equal([[events[1]!.id, 1]]);
        expect(parked[0]!.error).to.match(
          /cannot be read: MoneyDeposited version 1 does not match its schema: balance: /,
        );
        expect(logged).to.deep.equal(['event parked: it, or an event its handling needs, cannot be read']);
      } finally {
        await leases.close();
        await readStore.close();
      }
    });
  });
}

/** The events of the first batch a subscription to `$all` delivers for one stream. */
async function firstBatch(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const subscription = store.subscribeToAll({ filter: { streamPrefixes: [streamId] } });
  try {
    for await (const batch of subscription) if (batch.events.length > 0) return batch.events;
    return [];
  } finally {
    await subscription.close();
  }
}
