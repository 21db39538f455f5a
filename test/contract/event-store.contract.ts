/**
 * The event store contract: every adapter of the `EventStore` port must pass it.
 * Streams get a fresh random prefix per test so the suite also runs on a shared, real
 * EventStoreDB without cleaning it.
 */
import { expect } from 'chai';
import { v4 as uuid } from 'uuid';
import {
  EventStoreRejected,
  WrongExpectedVersion,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
  type SubscriptionBatch,
} from '../../infra/eventsourcing/event-store/event-store.js';
import { comparePositions, type Position } from '../../infra/eventsourcing/event-store/position.js';

export interface EventStoreFixture {
  /** Opens a store; a second call must see the same data (a restart). */
  open(): Promise<EventStore>;
}

function event(type: string, data: Record<string, string | number> = {}): EventToAppend {
  return { id: uuid(), type, data, metadata: { correlationId: 'corr-1', causationId: 'cause-1' } };
}

async function appendOrFail(store: EventStore, stream: string, expected: number | 'no_stream') {
  try {
    return await store.appendToStream(stream, [event('Tested')], { expectedRevision: expected });
  } catch (error) {
    if (error instanceof WrongExpectedVersion) return null;
    throw error;
  }
}

/** Reads from the subscription until `predicate` holds or the time runs out. */
async function collect(
  iterator: AsyncIterator<SubscriptionBatch>,
  until: (events: RecordedEvent[], last: SubscriptionBatch) => boolean,
  timeoutMs = 10_000,
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`subscription did not deliver in time (got ${events.length} events)`);
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`subscription stalled (got ${events.length} events)`)), left);
      }),
    ]).finally(() => clearTimeout(timer));
    if (next.done) return events;
    events.push(...next.value.events);
    if (until(events, next.value)) return events;
  }
}

export function describeEventStoreContract(name: string, fixture: EventStoreFixture): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let prefix: string;
    const stream = (s: string) => `${prefix}${s}`;

    beforeEach(async () => {
      prefix = `t${uuid().replaceAll('-', '').slice(0, 12)}-`;
      store = await fixture.open();
    });
    afterEach(async () => store.close());

    const mine = (events: RecordedEvent[]) => events.filter((e) => e.streamId.startsWith(prefix));

    describe('appendToStream', () => {
      it('creates a stream with no_stream and numbers events from 0', async () => {
        const result = await store.appendToStream(stream('a'), [event('A'), event('B')], {
          expectedRevision: 'no_stream',
        });
        expect(result.nextExpectedRevision).to.equal(1);
        const read = await store.readStream(stream('a'));
        expect(read.status).to.equal('found');
        if (read.status !== 'found') return;
        expect(read.events.map((e) => [e.type, e.revision])).to.deep.equal([
          ['A', 0],
          ['B', 1],
        ]);
        expect(comparePositions(read.events[1]!.position, result.position)).to.equal(0);
      });

      it('keeps data, metadata, ids and creation time', async () => {
        const e = event('Kept', { amount: 1005, name: 'sword "★"' });
        await store.appendToStream(stream('k'), [e]);
        const read = await store.readStream(stream('k'));
        if (read.status !== 'found') throw new Error('not found');
        const got = read.events[0]!;
        expect(got.id).to.equal(e.id);
        expect(got.streamId).to.equal(stream('k'));
        expect(got.data).to.deep.equal(e.data);
        expect(got.metadata).to.deep.include({ correlationId: 'corr-1', causationId: 'cause-1' });
        expect(Math.abs(got.created.getTime() - Date.now())).to.be.lessThan(60_000);
      });

      it('rejects no_stream on an existing stream with the actual revision', async () => {
        await store.appendToStream(stream('b'), [event('A')]);
        const error = await store
          .appendToStream(stream('b'), [event('B')], { expectedRevision: 'no_stream' })
          .catch((e) => e);
        expect(error).to.be.instanceOf(WrongExpectedVersion);
        expect(error.actual).to.equal(0);
        expect(error.streamId).to.equal(stream('b'));
      });

      it('rejects stream_exists and an exact revision on a missing stream', async () => {
        const e1 = await store
          .appendToStream(stream('c'), [event('A')], { expectedRevision: 'stream_exists' })
          .catch((e) => e);
        expect(e1).to.be.instanceOf(WrongExpectedVersion);
        expect(e1.actual).to.equal('no_stream');
        const e2 = await store.appendToStream(stream('c'), [event('A')], { expectedRevision: 0 }).catch((e) => e);
        expect(e2).to.be.instanceOf(WrongExpectedVersion);
        expect(e2.actual).to.equal('no_stream');
      });

      it('accepts stream_exists, any and the exact revision; rejects a stale revision', async () => {
        await store.appendToStream(stream('d'), [event('A')], { expectedRevision: 'no_stream' });
        await store.appendToStream(stream('d'), [event('B')], { expectedRevision: 'stream_exists' });
        await store.appendToStream(stream('d'), [event('C')], { expectedRevision: 'any' });
        const ok = await store.appendToStream(stream('d'), [event('D')], { expectedRevision: 2 });
        expect(ok.nextExpectedRevision).to.equal(3);
        const stale = await store.appendToStream(stream('d'), [event('E')], { expectedRevision: 2 }).catch((e) => e);
        expect(stale).to.be.instanceOf(WrongExpectedVersion);
        expect(stale.actual).to.equal(3);
        expect(stale.expected).to.equal(2);
      });

      it('treats a re-append of the same event ids at the same expected revision as done', async () => {
        const events = [event('A'), event('B')];
        const first = await store.appendToStream(stream('e'), events, { expectedRevision: 'no_stream' });
        const again = await store.appendToStream(stream('e'), events, { expectedRevision: 'no_stream' });
        expect(again.nextExpectedRevision).to.equal(first.nextExpectedRevision);
        expect(comparePositions(again.position, first.position)).to.equal(0);
        const next = [event('C')];
        const third = await store.appendToStream(stream('e'), next, { expectedRevision: 1 });
        const thirdAgain = await store.appendToStream(stream('e'), next, { expectedRevision: 1 });
        expect(thirdAgain.nextExpectedRevision).to.equal(third.nextExpectedRevision);
        const read = await store.readStream(stream('e'));
        if (read.status !== 'found') throw new Error('not found');
        expect(read.events).to.have.length(3);
      });

      it('rejects a re-append whose ids only partly match', async () => {
        const a = event('A');
        await store.appendToStream(stream('f'), [a, event('B')], { expectedRevision: 'no_stream' });
        const error = await store
          .appendToStream(stream('f'), [a, event('X')], { expectedRevision: 'no_stream' })
          .catch((e) => e);
        expect(error).to.be.instanceOf(WrongExpectedVersion);
      });

      it('refuses an empty append', async () => {
        const error = await store.appendToStream(stream('empty'), []).catch((e) => e);
        expect(error).to.be.instanceOf(EventStoreRejected);
        expect(await store.readStream(stream('empty'))).to.deep.equal({ status: 'not_found' });
      });

      it('lets exactly one of 20 concurrent appenders win each revision, without gaps in $all', async function () {
        this.timeout(60_000);
        const s = stream('race');
        const rounds = 5;
        let expected: number | 'no_stream' = 'no_stream';
        for (let round = 0; round < rounds; round++) {
          const results = await Promise.all(Array.from({ length: 20 }, () => appendOrFail(store, s, expected)));
          const winners = results.filter((r) => r !== null);
          expect(winners, `round ${round}`).to.have.length(1);
          expected = winners[0]!.nextExpectedRevision;
        }
        const read = await store.readStream(s);
        if (read.status !== 'found') throw new Error('not found');
        expect(read.events.map((e) => e.revision)).to.deep.equal([0, 1, 2, 3, 4]);
        const all = mine(await store.readAll({ filter: { streamPrefixes: [prefix] } }));
        expect(all.map((e) => e.id)).to.deep.equal(read.events.map((e) => e.id));
      });

      it('keeps $all totally ordered under many concurrent writers on many streams', async function () {
        this.timeout(60_000);
        const writers = 16;
        const perWriter = 25;
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < perWriter; i++) {
              await store.appendToStream(stream(`w${w}`), [event('W', { w, i })], {
                expectedRevision: i === 0 ? 'no_stream' : i - 1,
              });
            }
          }),
        );
        const all = mine(await store.readAll({ filter: { streamPrefixes: [prefix] } }));
        expect(all).to.have.length(writers * perWriter);
        expect(new Set(all.map((e) => e.id)).size).to.equal(all.length);
        for (let i = 1; i < all.length; i++)
          expect(comparePositions(all[i - 1]!.position, all[i]!.position)).to.equal(-1);
        for (let w = 0; w < writers; w++) {
          const revisions = all.filter((e) => e.streamId === stream(`w${w}`)).map((e) => e.revision);
          expect(revisions).to.deep.equal(Array.from({ length: perWriter }, (_, i) => i));
        }
      });
    });

    describe('readStream', () => {
      it('says not_found for a stream that does not exist', async () => {
        expect(await store.readStream(stream('missing'))).to.deep.equal({ status: 'not_found' });
      });

      it('reads forwards and backwards from a revision with a max count', async () => {
        await store.appendToStream(
          stream('r'),
          ['0', '1', '2', '3', '4'].map((n) => event(`E${n}`)),
        );
        const types = async (options: Parameters<EventStore['readStream']>[1]) => {
          const read = await store.readStream(stream('r'), options);
          return read.status === 'found' ? read.events.map((e) => e.type) : null;
        };
        expect(await types({ fromRevision: 2, maxCount: 2 })).to.deep.equal(['E2', 'E3']);
        expect(await types({ direction: 'backwards' })).to.deep.equal(['E4', 'E3', 'E2', 'E1', 'E0']);
        expect(await types({ direction: 'backwards', fromRevision: 2 })).to.deep.equal(['E2', 'E1', 'E0']);
        expect(await types({ direction: 'backwards', fromRevision: 'end', maxCount: 1 })).to.deep.equal(['E4']);
        expect(await types({ fromRevision: 9 })).to.deep.equal([]);
      });
    });

    describe('readAll', () => {
      it('reads forwards from a position (included) and backwards from before it, with filters', async () => {
        await store.appendToStream(stream('x'), [event('OrderPlaced'), event('OrderCanceled')]);
        await store.appendToStream(stream('y'), [event('AccountOpened')]);
        const forwards = mine(await store.readAll({ filter: { streamPrefixes: [prefix] } }));
        expect(forwards.map((e) => e.type)).to.deep.equal(['OrderPlaced', 'OrderCanceled', 'AccountOpened']);
        const from = forwards[1]!.position;
        const fromSecond = mine(
          await store.readAll({ fromPosition: from, maxCount: 2, filter: { streamPrefixes: [prefix] } }),
        );
        expect(fromSecond.map((e) => e.type)).to.deep.equal(['OrderCanceled', 'AccountOpened']);
        const backwards = mine(
          await store.readAll({
            direction: 'backwards',
            fromPosition: forwards[2]!.position,
            maxCount: 2,
            filter: { streamPrefixes: [prefix] },
          }),
        );
        expect(
          backwards.map((e) => e.type),
          'backwards starts just before the position',
        ).to.deep.equal(['OrderCanceled', 'OrderPlaced']);
        const byType = mine(await store.readAll({ filter: { eventTypePrefixes: ['Order'] } }));
        expect(byType.map((e) => e.type)).to.deep.equal(['OrderPlaced', 'OrderCanceled']);
        const latest = await store.readAll({ direction: 'backwards', maxCount: 1 });
        expect(latest[0]!.id).to.equal(forwards[2]!.id);
        const head = await store.headPosition();
        expect(head && comparePositions(head, forwards[2]!.position)).to.equal(0);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up, signals it, then delivers live events in order', async () => {
        await store.appendToStream(stream('s'), [event('Before1'), event('Before2')]);
        const subscription = store.subscribeToAll({ filter: { streamPrefixes: [prefix] } });
        const iterator = subscription[Symbol.asyncIterator]();
        const caughtUp = await collect(iterator, (_, last) => last.caughtUp);
        expect(mine(caughtUp).map((e) => e.type)).to.deep.equal(['Before1', 'Before2']);
        const live = collect(iterator, (events) => mine(events).length >= 2);
        await store.appendToStream(stream('s'), [event('Live1')]);
        await store.appendToStream(stream('t'), [event('Live2')]);
        expect(mine(await live).map((e) => e.type)).to.deep.equal(['Live1', 'Live2']);
        await subscription.close();
        expect((await iterator.next()).done).to.equal(true);
      });

      it('filters by event-type prefix', async () => {
        await store.appendToStream(stream('f'), [
          event(`${prefix}Wanted`),
          event('Unwanted'),
          event(`${prefix}WantedToo`),
        ]);
        const subscription = store.subscribeToAll({ filter: { eventTypePrefixes: [`${prefix}Want`] } });
        const events = await collect(subscription[Symbol.asyncIterator](), (_, last) => last.caughtUp);
        await subscription.close();
        expect(events.map((e) => e.type)).to.deep.equal([`${prefix}Wanted`, `${prefix}WantedToo`]);
      });

      it('resumes after a checkpoint: each later event exactly once, in order, across a restart', async function () {
        this.timeout(30_000);
        const s = stream('resume');
        for (let i = 0; i < 10; i++) await store.appendToStream(s, [event('N', { i })]);
        const all = mine(await store.readAll({ filter: { streamPrefixes: [prefix] } }));
        const checkpoint: Position = all[4]!.position;
        await store.close();

        store = await fixture.open();
        const subscription = store.subscribeToAll({ fromPosition: checkpoint, filter: { streamPrefixes: [prefix] } });
        const iterator = subscription[Symbol.asyncIterator]();
        const seen = await collect(iterator, (_, last) => last.caughtUp);
        expect(seen.map((e) => e.data.i)).to.deep.equal([5, 6, 7, 8, 9]);
        const writes = (async () => {
          for (let i = 10; i < 60; i++) await store.appendToStream(s, [event('N', { i })]);
        })();
        const live = await collect(iterator, (events) => events.length >= 50);
        await writes;
        await subscription.close();
        expect(live.map((e) => e.data.i)).to.deep.equal(Array.from({ length: 50 }, (_, k) => k + 10));
      });

      it('delivers a large backlog in bounded batches', async function () {
        this.timeout(60_000);
        const s = stream('big');
        const total = 1200;
        for (let i = 0; i < total; i += 100) {
          await store.appendToStream(
            s,
            Array.from({ length: 100 }, (_, k) => event('Bulk', { i: i + k })),
          );
        }
        const subscription = store.subscribeToAll({ filter: { streamPrefixes: [prefix] }, maxBatchSize: 250 });
        let largest = 0;
        const events = await collect(subscription[Symbol.asyncIterator](), (got, last) => {
          largest = Math.max(largest, last.events.length);
          return got.length >= total;
        });
        await subscription.close();
        expect(largest).to.be.at.most(250);
        expect(events.map((e) => e.data.i)).to.deep.equal(Array.from({ length: total }, (_, k) => k));
      });
    });

    it('answers ping while open', async () => {
      await store.ping();
    });
  });
}
