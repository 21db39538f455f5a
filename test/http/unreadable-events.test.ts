/**
 * An event the running build cannot read (here: a deposit a broken import wrote with
 * `amount: "10.50"`), over the real API on each event store: a command on its stream is
 * refused with a 500 that names nothing internal, the fault is logged with the event and the
 * reason, the billing projection parks it, and what was read before stays as it was — never
 * a wrong balance.
 */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { v4 as uuid } from 'uuid';
import type { EventStore } from '../../infra/eventsourcing/event-store/event-store.js';
import { httpMessages } from '../../infra/http/messages.js';
import { openRawEventStore, startApiServer, type ApiServer } from '../support/api-server.js';
import { Client, eventStores, takeProblems } from './client.js';
import { eventually, Market } from './trading-client.js';

for (const eventStore of eventStores) {
  describe(`HTTP: an event the build cannot read (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let server: ApiServer;
    let lines: Array<Record<string, unknown>>;
    let raw: EventStore;

    before(async () => {
      lines = [];
      const stream = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const text of chunk.toString('utf8').split('\n'))
            if (text) lines.push(JSON.parse(text) as Record<string, unknown>);
          done();
        },
      });
      server = await startApiServer({ eventStore, logger: pino({ level: 'info' }, stream) });
      // Another writer on the same store, as a broken import tool would be.
      raw = openRawEventStore(server);
    });
    after(async () => {
      await raw.close();
      await server.close();
    });

    it('refuses commands on its stream with a 500 naming nothing internal, logs the fault, and parks the event', async () => {
      const api = new Client(server.baseUrl);
      const market = new Market(api);
      const trader = await market.trader(100);
      const streamId = `account-${trader.id}`;
      const read = await raw.readStream(streamId);
      const events = read.status === 'found' ? read.events : [];
      const opened = events[0]!;
      const badId = uuid();
      const bad = {
        accountId: opened.data.accountId!,
        userId: trader.id,
        operationId: uuid(),
        amount: '10.50',
        balance: '110.50',
        at: new Date().toISOString(),
      };
      await raw.appendToStream(
        streamId,
        [{ id: badId, type: 'MoneyDeposited', data: bad, metadata: { correlationId: 'import-batch-7' } }],
        { expectedRevision: events.length - 1 },
      );

      const answer = await api.deposit(trader.token, 5);
      expect(answer.status, answer.text).to.equal(500);
      expect(answer.body).to.include({ code: 500, message: httpMessages.internal });
      for (const internal of [streamId, trader.id, badId, 'MoneyDeposited', 'schema', 'amount', '10.50'])
        expect(answer.text, internal).to.not.include(internal);
      expect(
        takeProblems().every((p) => p.includes('500')),
        'the 500 is the only problem',
      ).to.equal(true);

      const logged = JSON.stringify(lines.filter((l) => l.level === 50));
      expect(logged).to.include(
        `event ${badId} at revision ${events.length} of stream ${streamId} cannot be read: MoneyDeposited version 1 does not match its schema: amount`,
      );

      await eventually(
        async () => {
          const parked = await server.system.readStore.listParked('billing');
          expect(parked.map((p) => p.eventId)).to.deep.equal([badId]);
          expect(parked[0]!.error).to.include('MoneyDeposited version 1 does not match its schema: amount');
        },
        5000,
        'the billing projection parks it',
      );
      const account = await api.balance(trader.token);
      expect(account.amount, 'the balance read before the fault, not a wrong one').to.equal(100);
      takeProblems();
    });
  });
}
