import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '../infra/event-store/sqlite/sqlite-event-store.js';
import { describeEventStoreContract } from './contract/event-store.contract.js';

describe('embedded event store (SQLite)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'market-es-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describeEventStoreContract('embedded SQLite', {
    open: async () => openSqliteEventStore({ file: join(dir, 'events.db') }),
  });
});
