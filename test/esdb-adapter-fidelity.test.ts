/**
 * The EventStoreDB adapter against the double's 24.10 behaviours (docs/ESDB-DOUBLE.md): what a
 * real server does that a friendlier double would hide.
 */
import { expect } from 'chai';
import { v4 as uuid } from 'uuid';

import { depositMoney, openAccount } from '../command-handlers/billing.js';
import { StreamStateCache } from '../infra/eventsourcing/command-handling/stream-state-cache.js';
import {
  EventStoreRejected,
  EventStoreUnavailable,
  type EventToAppend,
} from '../infra/eventsourcing/event-store/event-store.js';
import { comparePositions, type Position } from '../infra/eventsourcing/event-store/position.js';
import { DoubleCluster } from './support/esdb-double/index.js';
import { openedPerTest, pullUntil, rejectionOf } from './support/esdb-opened.js';

const { double, connect, open } = openedPerTest();

const event = (type: string, data: Record<string, number | string> = {}): EventToAppend => ({ id: uuid(), type, data });
const numbered = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => event('Numbered', { i: from + k, pad: 'x'.repeat(200) }));
const range = (count: number) => Array.from({ length: count }, (_, i) => i);

describe('EventStoreDB adapter on the 24.10 double', function () {
  this.timeout(30_000);

  describe('a slow consumer', () => {
    for (const sendFellBehind of [false, true]) {
      it(`gets every event once, in order, after the server fell behind${sendFellBehind ? ' (and says so)' : ''}`, async () => {
        const target = await double({ sendFellBehind });
        const store = open(target.connectionString, { subscriptionHighWaterMark: 8 });
        const prefix = `slow${uuid().slice(0, 8)}-`;
        const subscription = store.subscribeToAll({ filter: { streamPrefixes: [prefix] }, maxBatchSize: 50 });
        const iterator = subscription[Symbol.asyncIterator]();
        await pullUntil(iterator, (_, last) => last.caughtUp);
        // Not pulling: the adapter pauses the client stream and the server's live buffer overflows.
        let written = 0;
        for (let round = 0; round < 200 && target.liveEventsDropped() === 0; round += 1) {
          await store.appendToStream(`${prefix}s`, numbered(written, 50));
          written += 50;
        }
        expect(target.liveEventsDropped()).to.be.greaterThan(0);
        const { events, batches } = await pullUntil(iterator, (got, last) => got.length >= written && last.caughtUp);
        expect(events.map((e) => e.data.i)).to.deep.equal(range(written));
        // 24.10 never says it fell behind, so the flag stays up; a server that says so takes it down until caught up again.
        expect(batches.some((batch) => !batch.caughtUp)).to.equal(sendFellBehind);
        expect(batches.at(-1)!.caughtUp).to.equal(true);
        await subscription.close();
      });
    }
  });

  describe('positions', () => {
    it('resumes from a filter checkpoint with prepare position 0, without repeating or skipping', async () => {
      const target = await double();
      const store = open(target.connectionString);
      const prefix = `cp${uuid().slice(0, 8)}-`;
      for (let i = 0; i < 5; i += 1) await store.appendToStream(`other-${uuid()}`, numbered(0, 40));
      const subscription = store.subscribeToAll({ filter: { streamPrefixes: [prefix] } });
      const { batches } = await pullUntil(subscription[Symbol.asyncIterator](), (_, last) => last.caughtUp);
      await subscription.close();
      const checkpoint = batches.at(-1)!.position!;
      expect(checkpoint.prepare).to.equal(0n);

      await store.appendToStream(`${prefix}a`, numbered(0, 3));
      const resumed = store.subscribeToAll({ fromPosition: checkpoint, filter: { streamPrefixes: [prefix] } });
      const { events } = await pullUntil(
        resumed[Symbol.asyncIterator](),
        (got, last) => got.length >= 3 && last.caughtUp,
      );
      expect(events.map((e) => e.data.i)).to.deep.equal([0, 1, 2]);
      await resumed.close();
    });

    it('ends a subscription from a position inside a record with EventStoreRejected, without resubscribing', async () => {
      const target = await double();
      const store = open(target.connectionString);
      const stream = `inside-${uuid()}`;
      const written = await store.appendToStream(stream, [event('A')]);
      // Inside a record before the last: past the last record's start the server goes live at once.
      await store.appendToStream(stream, [event('B')]);
      const inside: Position = { commit: written.position.commit + 1n, prepare: written.position.commit + 1n };
      const iterator = store.subscribeToAll({ fromPosition: inside })[Symbol.asyncIterator]();
      expect(await rejectionOf(pullUntil(iterator, () => false))).to.be.instanceOf(EventStoreRejected);
      expect(await rejectionOf(store.readAll({ fromPosition: inside }))).to.be.instanceOf(EventStoreRejected);
    });

    it('from a position past the head: caught up at once, then only events after that position', async () => {
      const target = await double();
      const store = open(target.connectionString);
      const prefix = `ahead${uuid().slice(0, 8)}-`;
      const head = (await store.appendToStream(`${prefix}a`, [event('A')])).position;
      const ahead: Position = { commit: head.commit + 2_000n, prepare: head.commit + 2_000n };
      const iterator = store
        .subscribeToAll({ fromPosition: ahead, filter: { streamPrefixes: [prefix] } })
        [Symbol.asyncIterator]();
      const first = await pullUntil(iterator, (_, last) => last.caughtUp);
      expect(first.events).to.deep.equal([]);
      let last = head;
      while (comparePositions(last, ahead) <= 0)
        last = (await store.appendToStream(`${prefix}a`, [event('B')])).position;
      const later = await pullUntil(iterator, (got) => got.length >= 1);
      expect(later.events.map((e) => e.position)).to.deep.equal([last]);
    });
  });

  describe('appends', () => {
    it('an append that timed out on the client was written; the same ids at the same revision are then idempotent', async () => {
      const target = await double();
      const store = open(`${target.connectionString}&defaultDeadline=300`);
      const stream = `late-${uuid()}`;
      const events = [event('A'), event('B')];
      target.answerLate('batchAppend', 1_000);
      expect(
        await rejectionOf(store.appendToStream(stream, events, { expectedRevision: 'no_stream' })),
      ).to.be.instanceOf(EventStoreUnavailable);
      const again = await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
      expect(again.nextExpectedRevision).to.equal(1);
      const read = await store.readStream(stream);
      expect(read.status === 'found' && read.events.map((e) => e.id)).to.deep.equal(events.map((e) => e.id));
    });

    it('a deposit retried after a timeout, and one repeated after the id window forgot it, is counted once', async () => {
      const target = await double({ logOptions: { committedIdsBytes: 500 } });
      const store = open(`${target.connectionString}&defaultDeadline=300`);
      const env = () => ({
        eventStore: store,
        cache: new StreamStateCache(),
        newId: uuid,
        now: () => new Date('2026-12-07T10:00:00Z'),
      });
      const userId = `u-${uuid()}`;
      await openAccount(env(), userId);
      target.answerLate('batchAppend', 1_000);
      expect(await rejectionOf(depositMoney(env(), { userId, amount: 100, operationId: 'op-1' }))).to.be.instanceOf(
        EventStoreUnavailable,
      );
      await depositMoney(env(), { userId, amount: 100, operationId: 'op-1' });
      for (let i = 0; i < 20; i += 1) await store.appendToStream(`noise-${uuid()}`, [event('Noise')]);
      const last = await depositMoney(env(), { userId, amount: 100, operationId: 'op-1' });
      expect(last.state.balance).to.equal(100);
    });

    it('$maxCount metadata on a snapshot stream: appending several, reading back gives the last only', async () => {
      const target = await double();
      const store = open(target.connectionString);
      const client = connect(target.connectionString);
      const stream = `snapshot-${uuid()}`;
      // The port has no metadata method yet: metadata goes through the client.
      await client.setStreamMetadata(stream, { maxCount: 1 });
      for (let i = 0; i < 4; i += 1) await store.appendToStream(stream, [event('Snapshot', { i })]);
      const forwards = await store.readStream(stream);
      expect(forwards.status === 'found' && forwards.events.map((e) => [e.revision, e.data.i])).to.deep.equal([[3, 3]]);
      const backwards = await store.readStream(stream, { direction: 'backwards', maxCount: 1 });
      expect(backwards.status === 'found' && backwards.events.map((e) => e.revision)).to.deep.equal([3]);
    });
  });

  describe('a cluster', () => {
    it('reads sent to a follower are answered NotLeader; the adapter follows the leader and carries on', async () => {
      const members = new DoubleCluster();
      const leader = await double({ cluster: members });
      const follower = await double({ cluster: members, log: leader.log });
      const store = open(follower.connectionString);
      const stream = `nl-${uuid()}`;
      await store.appendToStream(stream, [event('A')]);
      const read = await store.readStream(stream);
      expect(read.status === 'found' && read.events).to.have.length(1);
      const subscription = store.subscribeToAll({ filter: { streamPrefixes: [stream] } });
      const { events } = await pullUntil(subscription[Symbol.asyncIterator](), (got) => got.length >= 1);
      expect(events.map((e) => e.type)).to.deep.equal(['A']);
      await subscription.close();
    });

    it('esdb+discover:// follows a leader change', async () => {
      const members = new DoubleCluster();
      const first = await double({ cluster: members });
      const second = await double({ cluster: members, log: first.log });
      const store = open(
        `esdb+discover://127.0.0.1:${second.port},127.0.0.1:${first.port}?tls=false&discoveryInterval=10`,
      );
      const stream = `lc-${uuid()}`;
      await store.appendToStream(stream, [event('A')]);
      members.promote(second.port);
      await store.appendToStream(stream, [event('B')], { expectedRevision: 0 });
      const read = await store.readStream(stream);
      expect(read.status === 'found' && read.events.map((e) => e.type)).to.deep.equal(['A', 'B']);
    });
  });
});
