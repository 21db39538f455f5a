/**
 * What an `asOf` read of a balance costs on a long history: the events it reads from the
 * account stream, counted (not timed), stay within about log2(n) + a few for n events,
 * wherever the point is — and the balance is the one the stream had there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { EventStore, EventToAppend, Position } from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { accountAsOf } from '../read-api/time-travel.js';

const EVENTS = 4_000;
const STREAM = 'account-u1';

describe('time travel: the cost of an asOf balance is bounded by the log of the history', function () {
  this.timeout(60_000);
  let dir: string;
  let store: ReturnType<typeof openSqliteEventStore>;
  const positions: Position[] = [];
  const times: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'market-asof-'));
    store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal', writer: 'inline' });
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    for (let n = 0; n < EVENTS; n += 500) {
      const events = Array.from({ length: Math.min(500, EVENTS - n) }, (_, k): EventToAppend => {
        const i = n + k;
        const at = new Date(start + i * 1000).toISOString();
        times.push(at);
        // Every fifth a declined payment (no balance): the read goes back over it.
        if (i === 0) return { id: `e${i}`, type: 'AccountOpened', data: { accountId: 'a1', userId: 'u1', at } };
        if (i % 5 === 0) return { id: `e${i}`, type: 'PaymentDeclined', data: { userId: 'u1', at } };
        return { id: `e${i}`, type: 'MoneyDeposited', data: { userId: 'u1', balance: i, at } };
      });
      await store.appendToStream(STREAM, events);
    }
    const all = await store.readStream(STREAM);
    if (all.status !== 'found') throw new Error('no stream');
    for (const e of all.events) positions.push(e.position);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The balance the stream had after event i. */
  const balanceAfter = (i: number) => (i === 0 ? 0 : i % 5 === 0 ? i - 1 : i);
  // Bisection (log2 n), the first and the last event, and one page of 4 read back for the balance.
  const bound = Math.ceil(Math.log2(EVENTS)) + 2 + 4;

  it(`reads at most ${bound} events of ${EVENTS} for any point, by position or by time`, async () => {
    const reads = counting(store);
    for (const i of [0, 1, 4, 5, 6, 999, 1000, 2345, EVENTS - 2, EVENTS - 1]) {
      for (const asOf of [{ position: positions[i]! }, { time: new Date(times[i]!) }]) {
        reads.count = 0;
        const past = await accountAsOf(reads.store, STREAM, asOf, new Date('2030-01-01T00:00:00.000Z'));
        expect(past.status).to.equal('found');
        if (past.status !== 'found') return;
        expect(past.value.amount, `after event ${i}`).to.equal(balanceAfter(i));
        expect(past.value.revision).to.equal(i);
        expect(reads.count, `events read for event ${i}`).to.be.at.most(bound);
      }
    }
  });
});

/** The store, with the events its stream reads returned counted. */
function counting(inner: EventStore): { store: EventStore; count: number } {
  const counter = { count: 0, store: inner };
  counter.store = {
    ...inner,
    readStream: async (stream, options) => {
      const found = await inner.readStream(stream, options);
      if (found.status === 'found') counter.count += found.events.length;
      return found;
    },
    headPosition: () => inner.headPosition(),
  };
  return counter;
}
