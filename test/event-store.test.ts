/**
 * The event store contract, run against every adapter: the embedded store, the
 * EventStoreDB adapter over the in-process gRPC double (through both of the client's
 * append paths), and a real EventStoreDB when EVENTSTORE_CONNECTION_STRING is set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEsdbEventStore } from '../infra/esdb/esdb-event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { describeEventStoreContract } from './contract/event-store.contract.js';
import { startEsdbDouble, type EsdbDouble } from './support/esdb-double/index.js';

// Commits in a writer thread (the default) and in the calling thread must not differ.
for (const writer of ['thread', 'inline'] as const) {
  describe(`embedded event store (SQLite, commits ${writer === 'thread' ? 'in a writer thread' : 'inline'})`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'market-es-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    describeEventStoreContract(`embedded SQLite, ${writer}`, {
      open: async () => openSqliteEventStore({ file: join(dir, 'events.db'), writer }),
    });
  });
}

for (const batchAppend of [true, false]) {
  describe(`EventStoreDB adapter over the gRPC double (${batchAppend ? 'BatchAppend' : 'Append'} path)`, () => {
    let double: EsdbDouble;
    before(async () => {
      double = await startEsdbDouble({ batchAppend });
    });
    after(() => double.stop());

    describeEventStoreContract(`esdb over the double, ${batchAppend ? 'BatchAppend' : 'Append'}`, {
      open: async () => openEsdbEventStore({ connectionString: double.connectionString }),
    });
  });
}

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;
if (connectionString) {
  describeEventStoreContract('EventStoreDB server', {
    open: async () => openEsdbEventStore({ connectionString }),
  });
} else {
  describe('EventStore contract: EventStoreDB server', () => {
    it('runs against a real EventStoreDB when EVENTSTORE_CONNECTION_STRING is set', function () {
      console.warn(
        'SKIPPED event store contract on a real EventStoreDB: EVENTSTORE_CONNECTION_STRING is not set (start one with docker compose up -d eventstoredb)',
      );
      this.skip();
    });
  });
}
