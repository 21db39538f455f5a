/**
 * The EventStoreDB double's 24.10 behaviours the adapter depends on (docs/ESDB-DOUBLE.md),
 * driven through the unmodified `@eventstore/db-client`.
 */
import { randomUUID } from 'node:crypto';

import {
  BACKWARDS,
  END,
  type EventStoreDBClient,
  jsonEvent,
  streamNameFilter,
  type AllStreamSubscription,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { expect } from 'chai';

import { DoubleCluster, type EsdbDouble } from './support/esdb-double/index.js';
import { collect, openedPerTest, rejectionOf, waitFor } from './support/esdb-opened.js';

const { double, connect } = openedPerTest();

const stream = (prefix = 'test'): string => `${prefix}-${randomUUID()}`;
const event = (type = 'Happened', data: Record<string, unknown> = {}) => jsonEvent({ type, data });

const revisions = (read: ResolvedEvent[]) => read.map((resolved) => Number(resolved.event!.revision));
const UNIMPLEMENTED = 12;

describe('EventStoreDB double at 24.10 fidelity', function () {
  this.timeout(30_000);

  describe('$all at start-up', () => {
    it('holds the system events a fresh node writes, in $-streams with $-types', async () => {
      const client = connect((await double()).connectionString);
      const all = await collect(client.readAll());
      expect(all.length).to.be.greaterThan(0);
      for (const resolved of all) {
        expect(resolved.event!.streamId).to.match(/^\$/);
        expect(resolved.event!.type).to.match(/^\$/);
      }
    });
  });

  describe('stream metadata ($maxCount, $tb, $maxAge)', () => {
    let client: EventStoreDBClient;
    beforeEach(async () => {
      client = connect((await double()).connectionString);
    });

    it('$maxCount: reads forwards and backwards see only the last N; revisions keep counting; $all keeps all', async () => {
      const name = stream('snapshot');
      await client.setStreamMetadata(name, { maxCount: 2 });
      for (let i = 0; i < 5; i += 1) await client.appendToStream(name, event('Snap', { i }));
      expect(revisions(await collect(client.readStream(name)))).to.deep.equal([3, 4]);
      expect(revisions(await collect(client.readStream(name, { fromRevision: 0n, maxCount: 1 })))).to.deep.equal([3]);
      expect(
        revisions(await collect(client.readStream(name, { direction: BACKWARDS, fromRevision: END }))),
      ).to.deep.equal([4, 3]);
      expect(await collect(client.readStream(name, { direction: BACKWARDS, fromRevision: 2n }))).to.deep.equal([]);
      const next = await client.appendToStream(name, event('Snap', { i: 5 }), { expectedRevision: 4n });
      expect(next.nextExpectedRevision).to.equal(5n);
      const inAll = (await collect(client.readAll())).filter((resolved) => resolved.event!.streamId === name);
      expect(inAll).to.have.length(6);
    });

    it('metadata written after the events applies at once; $$ streams keep only their last event', async () => {
      const name = stream('late');
      await client.appendToStream(name, [event(), event(), event()]);
      await client.setStreamMetadata(name, { maxCount: 5 });
      await client.setStreamMetadata(name, { maxCount: 1 });
      expect(revisions(await collect(client.readStream(name)))).to.deep.equal([2]);
      expect(revisions(await collect(client.readStream(`$$${name}`)))).to.deep.equal([1]);
      expect((await client.getStreamMetadata(name)).metadata).to.deep.include({ maxCount: 1 });
    });

    it('$tb hides the events before it; every event truncated leaves an empty, existing stream', async () => {
      const name = stream('tb');
      await client.appendToStream(name, [event(), event(), event()]);
      await client.setStreamMetadata(name, { truncateBefore: 2 });
      expect(revisions(await collect(client.readStream(name)))).to.deep.equal([2]);
      await client.setStreamMetadata(name, { truncateBefore: 10 });
      expect(await collect(client.readStream(name))).to.deep.equal([]);
    });

    it('$maxAge hides events older than it', async () => {
      const name = stream('age');
      await client.appendToStream(name, event());
      await client.setStreamMetadata(name, { maxAge: 1 });
      expect(revisions(await collect(client.readStream(name)))).to.deep.equal([0]);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await client.appendToStream(name, event());
      expect(revisions(await collect(client.readStream(name)))).to.deep.equal([1]);
    });

    it('metadata out of range counts as none, as the server eats the exception', async () => {
      const name = stream('bad');
      await client.appendToStream(name, [event(), event()]);
      await client.appendToStream(`$$${name}`, jsonEvent({ type: '$metadata', data: { $maxCount: 0 } }));
      expect(revisions(await collect(client.readStream(name)))).to.deep.equal([0, 1]);
    });
  });

  describe('subscribing to $all from a position', () => {
    let target: EsdbDouble;
    let client: EventStoreDBClient;
    let own: Position[];
    beforeEach(async () => {
      target = await double();
      client = connect(target.connectionString);
      await client.appendToStream('p-1', [event(), event(), event()]);
      own = (await collect(client.readAll())).filter((r) => r.event!.streamId === 'p-1').map((r) => r.event!.position!);
    });

    const watch = (subscription: AllStreamSubscription) => {
      const seen: string[] = [];
      const errors: Error[] = [];
      subscription.on('data', (resolved: ResolvedEvent) => seen.push(String(resolved.event!.position!.commit)));
      subscription.on('caughtUp', () => seen.push('caughtUp'));
      subscription.on('error', (error: Error) => errors.push(error));
      return { seen, errors };
    };

    it('delivers the events strictly after it', async () => {
      const watched = watch(
        client.subscribeToAll({ fromPosition: own[0]!, filter: streamNameFilter({ prefixes: ['p-'] }) }),
      );
      await waitFor(() => watched.seen.includes('caughtUp'), 'caught up');
      expect(watched.seen).to.deep.equal([String(own[1]!.commit), String(own[2]!.commit), 'caughtUp']);
    });

    it('fails with InvalidPosition (INVALID_ARGUMENT) from a position inside a record', async () => {
      const inside = { commit: own[1]!.commit + 1n, prepare: own[1]!.commit + 1n };
      const watched = watch(client.subscribeToAll({ fromPosition: inside }));
      await waitFor(() => watched.errors.length === 1, 'the error');
      expect(watched.errors[0]!.message).to.match(/invalid position/);
      expect((watched.errors[0] as Error & { code?: number }).code).to.equal(3);
      expect((await rejectionOf(collect(client.readAll({ fromPosition: inside })))).code).to.equal(3);
    });

    it('past the head: caught up at once, and skips what is written up to that position', async () => {
      const ahead = { commit: own[2]!.commit + 1_000n, prepare: own[2]!.commit + 1_000n };
      const watched = watch(
        client.subscribeToAll({ fromPosition: ahead, filter: streamNameFilter({ prefixes: ['p-'] }) }),
      );
      await waitFor(() => watched.seen.includes('caughtUp'), 'caught up');
      expect(watched.seen).to.deep.equal(['caughtUp']);
      let last = own[2]!;
      while (last.commit <= ahead.commit) last = (await client.appendToStream('p-1', event())).position!;
      await waitFor(() => watched.seen.length > 1, 'an event past the starting point');
      expect(watched.seen.slice(1)).to.deep.equal([String(last.commit)]);
    });
  });

  describe('a slow subscriber', () => {
    for (const sendFellBehind of [false, true]) {
      it(`overflows the live buffer, catches up from the log, then is caught up again${sendFellBehind ? ' (fell_behind sent)' : ''}`, async () => {
        const target = await double({ sendFellBehind });
        const client = connect(target.connectionString);
        const name = stream('slow');
        const subscription = client.subscribeToAll({ filter: streamNameFilter({ prefixes: [name] }) });
        const seen: string[] = [];
        const numbers: number[] = [];
        subscription.on('data', (resolved: ResolvedEvent) => numbers.push((resolved.event!.data as { i: number }).i));
        subscription.on('caughtUp', () => seen.push('caughtUp'));
        subscription.on('fellBehind', () => seen.push('fellBehind'));
        await waitFor(() => seen.includes('caughtUp'), 'caught up');
        subscription.pause();
        let written = 0;
        for (let batch = 0; batch < 200 && target.liveEventsDropped() === 0; batch += 1) {
          await client.appendToStream(
            name,
            Array.from({ length: 50 }, () => event('Numbered', { i: written++, pad: 'x'.repeat(200) })),
          );
        }
        expect(target.liveEventsDropped()).to.be.greaterThan(0);
        subscription.resume();
        await waitFor(
          () => numbers.length === written && seen.filter((s) => s === 'caughtUp').length === 2,
          'every event and caught up again',
          20_000,
        );
        expect(numbers).to.deep.equal(Array.from({ length: written }, (_, i) => i));
        expect(seen).to.deep.equal(sendFellBehind ? ['caughtUp', 'fellBehind', 'caughtUp'] : ['caughtUp', 'caughtUp']);
        await subscription.unsubscribe();
      });
    }
  });

  describe('an append answered after the client gave up', () => {
    for (const method of ['batchAppend', 'append'] as const) {
      it(`is written all the same (${method}); the same ids again change nothing`, async () => {
        const target = await double({ batchAppend: method === 'batchAppend' });
        const client = connect(`${target.connectionString}&defaultDeadline=300`);
        const name = stream('late');
        const events = [event('A'), event('B')];
        target.answerLate(method, 1_000);
        const error = await rejectionOf(client.appendToStream(name, events, { expectedRevision: 'no_stream' }));
        expect(error.constructor.name).to.equal('DeadlineExceededError');
        expect(revisions(await collect(client.readStream(name)))).to.deep.equal([0, 1]);
        const again = await client.appendToStream(name, events, { expectedRevision: 'no_stream' });
        expect(again.nextExpectedRevision).to.equal(1n);
        expect(revisions(await collect(client.readStream(name)))).to.deep.equal([0, 1]);
      });
    }
  });

  describe('the duplicate-event-id window', () => {
    it('is bounded: with any, an id pushed out of the cache is written again; exact revisions still read the stream', async () => {
      const target = await double({ logOptions: { committedIdsBytes: 200 } });
      const client = connect(target.connectionString);
      const name = stream('dup');
      const first = event('First');
      await client.appendToStream(name, first);
      expect((await client.appendToStream(name, first)).nextExpectedRevision).to.equal(0n);
      for (let i = 0; i < 10; i += 1) await client.appendToStream(stream('other'), event());
      // The exact revision is checked against the stream itself: still idempotent.
      expect(
        (await client.appendToStream(name, first, { expectedRevision: 'no_stream' })).nextExpectedRevision,
      ).to.equal(0n);
      // With `any` only the cache is asked, and it has forgotten.
      expect((await client.appendToStream(name, first)).nextExpectedRevision).to.equal(1n);
      expect((await collect(client.readStream(name))).map((r) => r.event!.id)).to.deep.equal([first.id, first.id]);
    });
  });

  describe('a cluster of two doubles', () => {
    async function cluster() {
      const members = new DoubleCluster();
      const leader = await double({ cluster: members });
      const follower = await double({ cluster: members, log: leader.log });
      return { members, leader, follower };
    }

    it('a follower refuses requests that require the leader with NotLeader and its address', async () => {
      const { leader, follower } = await cluster();
      const client = connect(follower.connectionString);
      const error = await rejectionOf(collect(client.readStream('any-1', { requiresLeader: true })));
      expect(error.constructor.name).to.equal('NotLeaderError');
      expect(error).to.deep.include({ leader: { address: '127.0.0.1', port: leader.port } });
    });

    it('a follower forwards writes that do not require the leader, and serves reads', async () => {
      const { follower } = await cluster();
      const client = connect(follower.connectionString);
      await client.appendToStream('fwd-1', event());
      expect(await collect(client.readStream('fwd-1'))).to.have.length(1);
    });

    it('esdb+discover:// finds the leader through gossip, and again after the leader changes', async () => {
      const { members, leader, follower } = await cluster();
      const client = connect(
        `esdb+discover://127.0.0.1:${follower.port},127.0.0.1:${leader.port}?tls=false&discoveryInterval=10`,
      );
      await collect(client.readStream('d-1', { requiresLeader: true })).catch(() => undefined);
      members.promote(follower.port);
      const error = await rejectionOf(collect(client.readStream('d-1', { requiresLeader: true })));
      expect(error).to.deep.include({ leader: { address: '127.0.0.1', port: follower.port } });
      // The client now goes to the address it was given.
      await client.appendToStream('d-1', event(), { requiresLeader: true });
      expect(await collect(client.readStream('d-1', { requiresLeader: true }))).to.have.length(1);
    });
  });

  describe('what the double does not model is refused, not ignored', () => {
    let client: EventStoreDBClient;
    beforeEach(async () => {
      client = connect((await double()).connectionString);
      await client.appendToStream('r-1', event());
    });

    it('resolveLinkTos on a read', async () => {
      const error = await rejectionOf(collect(client.readStream('r-1', { resolveLinkTos: true })));
      expect(error.code).to.equal(UNIMPLEMENTED);
    });

    it('an ACL in stream metadata', async () => {
      // Over BatchAppend the 6.2.1 client reports any status it cannot name as UnknownError.
      const error = await rejectionOf(client.setStreamMetadata('r-1', { acl: { readRoles: ['$admins'] } }));
      expect(error.constructor.name).to.equal('UnknownError');
      expect((await rejectionOf(collect(client.readStream('$$r-1')))).constructor.name).to.equal('StreamNotFoundError');
      expect(await client.appendToStream('r-1', event())).to.include({ success: true });
    });

    it('deleting and tombstoning streams', async () => {
      expect((await rejectionOf(client.deleteStream('r-1'))).code).to.equal(UNIMPLEMENTED);
      expect((await rejectionOf(client.tombstoneStream('r-1'))).code).to.equal(UNIMPLEMENTED);
    });
  });
});
