/**
 * Drives the unmodified `@eventstore/db-client` against the in-process EventStoreDB double and
 * checks the server behaviour it reproduces.
 */
import { randomUUID } from 'node:crypto';

import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import {
  BACKWARDS,
  END,
  type EventStoreDBClient,
  FORWARDS,
  START,
  binaryEvent,
  eventTypeFilter,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AppendResult,
  type Position,
  type ResolvedEvent,
  type StreamSubscription,
  type AllStreamSubscription,
} from '@eventstore/db-client';
import { expect } from 'chai';

import type { EsdbDouble } from './support/esdb-double/index.js';
import { sharedPb, streamsGrpc, streamsPb, type ReadResp } from './support/esdb-double/pb.js';
import { collect, openedPerTest, rejectionOf, waitFor } from './support/esdb-opened.js';

const { double, connect } = openedPerTest();

const stream = (prefix = 'test'): string => `${prefix}-${randomUUID()}`;
const event = (type = 'SomethingHappened', data: Record<string, unknown> = { n: 1 }) => jsonEvent({ type, data });

/** Events of the test's own streams: `$all` also holds the node's system events. */
const own = <T extends ResolvedEvent>(read: T[]): T[] =>
  read.filter((resolved) => !resolved.event!.streamId.startsWith('$'));

/** Records everything a subscription emits, in order (the node's own system events left out). */
function watch(subscription: StreamSubscription | AllStreamSubscription) {
  const seen: string[] = [];
  const events: ResolvedEvent[] = [];
  const errors: Error[] = [];
  subscription.on('confirmation', () => seen.push('confirmation'));
  subscription.on('caughtUp', () => seen.push('caughtUp'));
  subscription.on('fellBehind', () => seen.push('fellBehind'));
  subscription.on('data', (resolved: ResolvedEvent) => {
    if (resolved.event!.streamId.startsWith('$')) return;
    events.push(resolved);
    seen.push(`${resolved.event!.streamId}@${resolved.event!.revision}`);
  });
  subscription.on('error', (error: Error) => errors.push(error));
  return { seen, events, errors };
}

const positionsOf = (read: ResolvedEvent[]): bigint[] => read.map((resolved) => resolved.event!.position!.commit);

// ---------------------------------------------------------------------------------------------

for (const path of ['BatchAppend', 'Append'] as const) {
  describe(`EventStoreDB double: appending through ${path}`, () => {
    let target: EsdbDouble;
    let client: EventStoreDBClient;
    beforeEach(async () => {
      target = await double({ batchAppend: path === 'BatchAppend' });
      client = connect(target.connectionString);
    });

    it('takes the path the server advertises (only a fault on that method hits the append)', async () => {
      const used = path === 'BatchAppend' ? 'batchAppend' : 'append';
      target.failNext(used === 'append' ? 'batchAppend' : 'append', 1);
      await client.appendToStream(stream(), event());
      target.failNext(used, 1);
      const error = await rejectionOf(client.appendToStream(stream(), event()));
      expect(error.constructor.name).to.equal('UnavailableError');
    });

    it('no_stream creates a stream and then conflicts, reporting the actual revision', async () => {
      const name = stream();
      const created = await client.appendToStream(name, [event(), event()], { expectedRevision: 'no_stream' });
      expect(created.success).to.equal(true);
      expect(created.nextExpectedRevision).to.equal(1n);

      const error = await rejectionOf(client.appendToStream(name, event(), { expectedRevision: 'no_stream' }));
      expect(error.constructor.name).to.equal('WrongExpectedVersionError');
      expect(error).to.include({ streamName: name, expectedVersion: 'no_stream', actualVersion: 1n });
    });

    it('an exact revision appends when it matches and conflicts otherwise', async () => {
      const name = stream();
      await client.appendToStream(name, [event(), event(), event()]);
      const next = await client.appendToStream(name, event(), { expectedRevision: 2n });
      expect(next.nextExpectedRevision).to.equal(3n);

      const error = await rejectionOf(client.appendToStream(name, event(), { expectedRevision: 1n }));
      expect(error).to.include({ streamName: name, expectedVersion: 1n, actualVersion: 3n });
      const ahead = await rejectionOf(client.appendToStream(name, event(), { expectedRevision: 9n }));
      expect(ahead).to.include({ expectedVersion: 9n, actualVersion: 3n });
    });

    it('stream_exists conflicts on a missing stream (actual no_stream) and appends to an existing one', async () => {
      const name = stream();
      const error = await rejectionOf(client.appendToStream(name, event(), { expectedRevision: 'stream_exists' }));
      expect(error.constructor.name).to.equal('WrongExpectedVersionError');
      expect(error).to.include({ expectedVersion: 'stream_exists', actualVersion: 'no_stream' });

      await client.appendToStream(name, event(), { expectedRevision: 'any' });
      const result = await client.appendToStream(name, event(), { expectedRevision: 'stream_exists' });
      expect(result.nextExpectedRevision).to.equal(1n);
    });

    it('any always appends, and returns the last event position', async () => {
      const name = stream();
      const first = await client.appendToStream(name, [event(), event()], { expectedRevision: 'any' });
      const second = await client.appendToStream(name, event(), { expectedRevision: 'any' });
      expect(second.nextExpectedRevision).to.equal(2n);
      expect(second.position!.commit > first.position!.commit).to.equal(true);

      const read = await collect(client.readStream(name));
      expect(read.at(-1)!.event!.position).to.deep.equal(second.position);
      expect(read[1]!.event!.position).to.deep.equal(first.position);
    });

    it('re-appending the same event ids at the same expected revision is idempotent', async () => {
      const name = stream();
      const events = [event('A'), event('B')];
      const original = await client.appendToStream(name, events, { expectedRevision: 'no_stream' });
      await client.appendToStream(name, event('C'));

      const again = await client.appendToStream(name, events, { expectedRevision: 'no_stream' });
      expect(again).to.deep.equal(original);
      const fromRevision = await client.appendToStream(name, events.slice(1), { expectedRevision: 0n });
      expect(fromRevision).to.deep.equal(original);
      expect((await collect(client.readStream(name))).map((r) => r.event!.type)).to.deep.equal(['A', 'B', 'C']);
    });

    it('with any, re-appending the last events is idempotent; a partial id match is a conflict', async () => {
      const name = stream();
      const events = [event('A'), event('B')];
      const original = await client.appendToStream(name, events);
      expect(await client.appendToStream(name, events)).to.deep.equal(original);

      const partial = await rejectionOf(
        client.appendToStream(name, [events[1]!, event('New')], { expectedRevision: 0n }),
      );
      expect(partial).to.include({ expectedVersion: 0n, actualVersion: 1n });
      const partialAny = await rejectionOf(client.appendToStream(name, [events[0]!, event('New')]));
      expect(partialAny).to.include({ expectedVersion: 'any', actualVersion: 1n });
      expect(await collect(client.readStream(name))).to.have.length(2);
    });

    it('appending zero events checks the expected revision and writes nothing', async () => {
      const name = stream();
      await client.appendToStream(name, [], { expectedRevision: 'no_stream' });
      expect((await rejectionOf(collect(client.readStream(name)))).constructor.name).to.equal('StreamNotFoundError');

      await client.appendToStream(name, [event(), event()]);
      const empty = await client.appendToStream(name, [], { expectedRevision: 1n });
      expect(empty.success).to.equal(true);
      expect(empty.nextExpectedRevision).to.equal(1n);
      expect(await rejectionOf(client.appendToStream(name, [], { expectedRevision: 0n }))).to.include({
        actualVersion: 1n,
      });
      expect(await collect(client.readStream(name))).to.have.length(2);
    });

    it('rejects an append larger than the maximum append size', async () => {
      const small = await double({ batchAppend: path === 'BatchAppend', maxAppendSize: 100 });
      const error = await rejectionOf(
        connect(small.connectionString).appendToStream(
          stream(),
          jsonEvent({ type: 'Big', data: { text: 'x'.repeat(200) } }),
        ),
      );
      expect(error.constructor.name).to.equal('MaxAppendSizeExceededError');
      expect(error).to.include({ maxAppendSize: 100 });
    });

    it('after failNext the client reports UnavailableError, then the next call works', async () => {
      const name = stream();
      target.failNext(path === 'BatchAppend' ? 'batchAppend' : 'append', 2);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        expect((await rejectionOf(client.appendToStream(name, event()))).constructor.name).to.equal('UnavailableError');
      }
      const result = await client.appendToStream(name, event(), { expectedRevision: 'no_stream' });
      expect(result.nextExpectedRevision).to.equal(0n);
    });
  });
}

describe('EventStoreDB double: append results without throwing', () => {
  it('reports a conflict as an unsuccessful result on the Append path', async () => {
    const target = await double({ batchAppend: false });
    const client = connect(`${target.connectionString}&throwOnAppendFailure=false`);
    const name = stream();
    await client.appendToStream(name, [event(), event()]);
    const result: AppendResult = await client.appendToStream(name, event(), { expectedRevision: 0n });
    expect(result).to.deep.equal({ success: false, nextExpectedRevision: 1n, position: undefined });
  });

  it('answers a BatchAppend request whose deadline has passed with a timeout', async () => {
    const client = connect((await double()).connectionString);
    const error = await rejectionOf(client.appendToStream(stream(), event(), { deadline: 0 }));
    expect(error.constructor.name).to.equal('DeadlineExceededError');
  });
});

describe('EventStoreDB double: reading streams', () => {
  let client: EventStoreDBClient;
  const name = stream('read');
  let appended: AppendResult;
  beforeEach(async () => {
    client = connect((await double()).connectionString);
    await client.appendToStream(name, [event('E0', { n: 0 }), event('E1', { n: 1 })]);
    await client.appendToStream(
      name,
      binaryEvent({ type: 'Bytes', data: Uint8Array.from([1, 2, 3]), metadata: Uint8Array.from([9]) }),
    );
    appended = await client.appendToStream(name, jsonEvent({ type: 'E3', data: { n: 3 }, metadata: { by: 'me' } }));
  });

  it('reads forwards with the recorded event fields', async () => {
    const read = await collect(client.readStream(name));
    expect(read.map((r) => r.event!.revision)).to.deep.equal([0n, 1n, 2n, 3n]);
    const [first, , bytes, last] = read.map((r) => r.event!);
    expect(first).to.include({ streamId: name, type: 'E0', isJson: true });
    expect(first!.data).to.deep.equal({ n: 0 });
    expect(first!.metadata).to.equal(undefined);
    expect(Math.abs(first!.created.getTime() - Date.now())).to.be.lessThan(10_000);
    expect(bytes).to.include({ type: 'Bytes', isJson: false });
    expect(Buffer.from(bytes!.data as Uint8Array)).to.deep.equal(Buffer.from([1, 2, 3]));
    expect(Buffer.from(bytes!.metadata as Uint8Array)).to.deep.equal(Buffer.from([9]));
    expect(last!.metadata).to.deep.equal({ by: 'me' });
    expect(last!.position).to.deep.equal(appended.position);
    // Stream reads carry the record's position but no "original" (link) position.
    expect(read[0]!.commitPosition).to.equal(undefined);
  });

  it('reads backwards, from a revision, and with a count', async () => {
    const backwards = await collect(client.readStream(name, { direction: BACKWARDS, fromRevision: END }));
    expect(backwards.map((r) => r.event!.revision)).to.deep.equal([3n, 2n, 1n, 0n]);

    const fromTwo = await collect(client.readStream(name, { fromRevision: 2n }));
    expect(fromTwo.map((r) => r.event!.revision)).to.deep.equal([2n, 3n]);
    const backFromTwo = await collect(client.readStream(name, { direction: BACKWARDS, fromRevision: 2n, maxCount: 2 }));
    expect(backFromTwo.map((r) => r.event!.revision)).to.deep.equal([2n, 1n]);
    const firstTwo = await collect(client.readStream(name, { direction: FORWARDS, fromRevision: START, maxCount: 2 }));
    expect(firstTwo.map((r) => r.event!.revision)).to.deep.equal([0n, 1n]);
    expect(await collect(client.readStream(name, { fromRevision: 10n }))).to.deep.equal([]);
  });

  it('reports a missing stream as StreamNotFoundError', async () => {
    const missing = stream('missing');
    const error = await rejectionOf(collect(client.readStream(missing)));
    expect(error.constructor.name).to.equal('StreamNotFoundError');
    expect(error).to.include({ streamName: missing });
  });

  it('fails a read with UnavailableError after failNext, then reads again', async () => {
    const target = await double();
    const other = connect(target.connectionString);
    await other.appendToStream(name, event());
    target.failNext('read', 1);
    expect((await rejectionOf(collect(other.readStream(name)))).constructor.name).to.equal('UnavailableError');
    expect(await collect(other.readStream(name))).to.have.length(1);
  });
});

describe('EventStoreDB double: reading $all', () => {
  let target: EsdbDouble;
  let client: EventStoreDBClient;
  beforeEach(async () => {
    target = await double();
    client = connect(target.connectionString);
    await client.appendToStream('order-1', [event('OrderPlaced'), event('OrderPaid')]);
    await client.appendToStream('user-1', event('UserRegistered'));
    await client.appendToStream('order-2', event('OrderPlaced'));
  });

  it('reads forwards with opaque, strictly increasing positions that do not start at 0', async () => {
    const read = own((await collect(client.readAll())) as AllStreamResolvedEvent[]);
    expect(read.map((r) => `${r.event!.streamId}@${r.event!.revision}`)).to.deep.equal([
      'order-1@0',
      'order-1@1',
      'user-1@0',
      'order-2@0',
    ]);
    const positions = positionsOf(read);
    expect(positions[0]! > 0n).to.equal(true);
    for (let i = 1; i < positions.length; i += 1) expect(positions[i]! > positions[i - 1]! + 1n).to.equal(true);
    for (const resolved of read) {
      expect(resolved.event!.position!.prepare).to.equal(resolved.event!.position!.commit);
      expect(resolved.commitPosition).to.equal(resolved.event!.position!.commit);
    }
  });

  it('reads backwards, and from a position (inclusive forwards, before it backwards)', async () => {
    const all = await collect(client.readAll());
    const backwards = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END }));
    expect(positionsOf(backwards)).to.deep.equal(positionsOf(all).reverse());

    const third: Position = all[2]!.event!.position!;
    const fromThird = await collect(client.readAll({ fromPosition: third, maxCount: 100 }));
    expect(positionsOf(fromThird)).to.deep.equal(positionsOf(all).slice(2));
    const beforeThird = await collect(client.readAll({ direction: BACKWARDS, fromPosition: third }));
    expect(positionsOf(beforeThird)).to.deep.equal(positionsOf(all).slice(0, 2).reverse());
    expect(await collect(client.readAll({ maxCount: 1 }))).to.have.length(1);
    expect(await collect(client.readAll({ fromPosition: END }))).to.deep.equal([]);
  });

  it('filters $all reads on stream prefixes, event-type prefixes and regexes', async () => {
    // The 6.2.1 client's readAll has no filter option: use its generated gRPC client directly.
    const port = Number(new URL(target.connectionString.replace('esdb://', 'http://')).port);
    const raw = new streamsGrpc.StreamsClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const filtered = async (
      on: 'stream' | 'type',
      expression: { prefixes?: string[]; regex?: string },
      backwards = false,
    ): Promise<string[]> => {
      const expr = new streamsPb.ReadReq.Options.FilterOptions.Expression()
        .setPrefixList(expression.prefixes ?? [])
        .setRegex(expression.regex ?? '');
      const filter = new streamsPb.ReadReq.Options.FilterOptions()
        .setCount(new sharedPb.Empty())
        .setCheckpointintervalmultiplier(1);
      if (on === 'stream') filter.setStreamIdentifier(expr);
      else filter.setEventType(expr);
      const options = new streamsPb.ReadReq.Options()
        .setAll(
          backwards
            ? new streamsPb.ReadReq.Options.AllOptions().setEnd(new sharedPb.Empty())
            : new streamsPb.ReadReq.Options.AllOptions().setStart(new sharedPb.Empty()),
        )
        .setReadDirection(backwards ? 1 : 0)
        .setCount('100')
        .setFilter(filter)
        .setUuidOption(new streamsPb.ReadReq.Options.UUIDOption().setString(new sharedPb.Empty()));
      const call: ClientReadableStream<ReadResp> = raw.read(new streamsPb.ReadReq().setOptions(options));
      const seen: string[] = [];
      for await (const response of call as AsyncIterable<ReadResp>) {
        const recorded = response.getEvent()!.getEvent()!;
        seen.push(
          `${Buffer.from(recorded.getStreamIdentifier()!.getStreamName_asU8()).toString()}:${recorded.getMetadataMap().get('type')}`,
        );
      }
      return seen;
    };
    try {
      expect(await filtered('stream', { prefixes: ['order-'] })).to.deep.equal([
        'order-1:OrderPlaced',
        'order-1:OrderPaid',
        'order-2:OrderPlaced',
      ]);
      expect(await filtered('type', { prefixes: ['OrderPl', 'User'] })).to.deep.equal([
        'order-1:OrderPlaced',
        'user-1:UserRegistered',
        'order-2:OrderPlaced',
      ]);
      expect(await filtered('type', { regex: 'Paid$|^User' }, true)).to.deep.equal([
        'user-1:UserRegistered',
        'order-1:OrderPaid',
      ]);
      expect(await filtered('stream', { regex: '-2$' })).to.deep.equal(['order-2:OrderPlaced']);
    } finally {
      raw.close();
    }
  });
});

describe('EventStoreDB double: subscriptions', () => {
  let target: EsdbDouble;
  let client: EventStoreDBClient;
  beforeEach(async () => {
    target = await double();
    client = connect(target.connectionString);
    await client.appendToStream('a-1', [event('A'), event('B')]);
    await client.appendToStream('b-1', event('A'));
  });

  it('subscribeToAll from the start: confirmation, catch-up, caughtUp, then live events in order', async () => {
    const subscription = client.subscribeToAll();
    const { seen } = watch(subscription);
    await waitFor(() => seen.includes('caughtUp'), 'caught up');
    expect(subscription.id).to.match(/^[0-9a-f-]{36}$/);
    expect(seen).to.deep.equal(['confirmation', 'a-1@0', 'a-1@1', 'b-1@0', 'caughtUp']);

    await client.appendToStream('b-1', [event('C'), event('D')]);
    await client.appendToStream('c-1', event('E'));
    await waitFor(() => seen.length === 8, 'live events');
    expect(seen.slice(5)).to.deep.equal(['b-1@1', 'b-1@2', 'c-1@0']);
    await subscription.unsubscribe();
  });

  it('subscribeToAll from a position starts after it; from the end only sees new events', async () => {
    const all = own(await collect(client.readAll()));
    const fromSecond = watch(client.subscribeToAll({ fromPosition: all[1]!.event!.position! }));
    const fromEnd = watch(client.subscribeToAll({ fromPosition: END }));
    await waitFor(() => fromSecond.seen.includes('caughtUp') && fromEnd.seen.includes('caughtUp'), 'caught up');
    expect(fromSecond.seen).to.deep.equal(['confirmation', 'b-1@0', 'caughtUp']);
    expect(fromEnd.seen).to.deep.equal(['confirmation', 'caughtUp']);

    await client.appendToStream('a-1', event('Z'));
    await waitFor(() => fromSecond.seen.length === 4 && fromEnd.seen.length === 3, 'live event');
    expect(fromEnd.seen.at(-1)).to.equal('a-1@2');
    expect(fromSecond.events.at(-1)!.event!.position).to.deep.equal(
      (await collect(client.readAll())).at(-1)!.event!.position,
    );
  });

  it('filters subscriptions by stream prefix, event-type prefix and regex', async () => {
    const byStream = watch(client.subscribeToAll({ filter: streamNameFilter({ prefixes: ['b-'] }) }));
    const byType = watch(client.subscribeToAll({ filter: eventTypeFilter({ prefixes: ['A'] }) }));
    const byRegex = watch(client.subscribeToAll({ filter: streamNameFilter({ regex: '^[ac]-' }) }));
    await waitFor(() => [byStream, byType, byRegex].every((w) => w.seen.includes('caughtUp')), 'caught up');
    await client.appendToStream('c-1', event('A'));
    await client.appendToStream('b-1', event('Q'));
    await waitFor(() => byStream.seen.length === 4 && byType.seen.length === 5 && byRegex.seen.length === 5, 'live');

    expect(byStream.seen).to.deep.equal(['confirmation', 'b-1@0', 'caughtUp', 'b-1@1']);
    expect(byType.seen).to.deep.equal(['confirmation', 'a-1@0', 'b-1@0', 'caughtUp', 'c-1@0']);
    expect(byRegex.seen).to.deep.equal(['confirmation', 'a-1@0', 'a-1@1', 'caughtUp', 'c-1@0']);
  });

  it('sends checkpoints as 24.x does: per interval and at the end of catch-up (page starts with prepare 0), then live', async () => {
    // Log: four system events, a-1@0 (A), a-1@1 (B), b-1@0 (A), then X and Y: nine events.
    await client.appendToStream('d-1', [event('X'), event('Y')]);
    const all = await collect(client.readAll());
    expect(all).to.have.length(9);
    const at = (index: number) => all[index]!.event!.position!;
    const pageStart = (index: number) => ({ commit: at(index).commit, prepare: 0n });
    const checkpoints: Position[] = [];
    const seen: string[] = [];
    const subscription = client.subscribeToAll({
      filter: eventTypeFilter({
        prefixes: ['B'],
        maxSearchWindow: 2,
        checkpointInterval: 1,
        checkpointReached: (_subscription, position) => {
          checkpoints.push(position);
          seen.push('checkpoint');
        },
      }),
    });
    subscription.on('data', (resolved: ResolvedEvent) => seen.push(resolved.event!.type));
    subscription.on('caughtUp', () => seen.push('caughtUp'));
    await waitFor(() => seen.includes('caughtUp'), 'caught up');
    // Pages of two considered events: each reaches the interval (2) and checkpoints at the later
    // of the last event sent and the page's start; the last page reaches the end and checkpoints.
    expect(seen).to.deep.equal(['checkpoint', 'checkpoint', 'B', 'checkpoint', 'checkpoint', 'checkpoint', 'caughtUp']);
    expect(checkpoints).to.deep.equal([{ commit: 0n, prepare: 0n }, pageStart(2), at(5), pageStart(6), pageStart(8)]);

    // Live: every event written since the subscription began counts, matching or not.
    await client.appendToStream('d-1', [event('Z'), event('W'), event('V')]);
    await client.appendToStream('d-1', event('U'));
    await waitFor(() => checkpoints.length === 7, 'live checkpoints');
    const live = (await collect(client.readAll())).slice(9);
    expect(checkpoints.slice(5)).to.deep.equal([live[1]!.event!.position!, live[3]!.event!.position!]);
    await subscription.unsubscribe();
  });

  it('subscribeToStream from the start, from a revision (exclusive), and before the stream exists', async () => {
    const fromStart = watch(client.subscribeToStream('a-1'));
    const fromRevision = watch(client.subscribeToStream('a-1', { fromRevision: 0n }));
    const notYet = watch(client.subscribeToStream('later-1'));
    await waitFor(() => [fromStart, fromRevision, notYet].every((w) => w.seen.includes('caughtUp')), 'caught up');
    expect(fromStart.seen).to.deep.equal(['confirmation', 'a-1@0', 'a-1@1', 'caughtUp']);
    expect(fromRevision.seen).to.deep.equal(['confirmation', 'a-1@1', 'caughtUp']);
    expect(notYet.seen).to.deep.equal(['confirmation', 'caughtUp']);

    await client.appendToStream('b-1', event());
    await client.appendToStream('later-1', event());
    await client.appendToStream('a-1', event());
    await waitFor(() => fromStart.seen.length === 5 && notYet.seen.length === 3, 'live events');
    expect(fromStart.seen.at(-1)).to.equal('a-1@2');
    expect(fromRevision.seen.at(-1)).to.equal('a-1@2');
    expect(notYet.seen.at(-1)).to.equal('later-1@0');
  });

  it('removes a subscription when the client cancels it', async () => {
    const first = client.subscribeToAll();
    const second = client.subscribeToStream('a-1');
    const w1 = watch(first);
    const w2 = watch(second);
    await waitFor(() => w1.seen.includes('caughtUp') && w2.seen.includes('caughtUp'), 'caught up');
    expect(target.openSubscriptions()).to.equal(2);
    await first.unsubscribe();
    await waitFor(() => target.openSubscriptions() === 1, 'unsubscribe to reach the server');
    await client.dispose();
    await waitFor(() => target.openSubscriptions() === 0, 'dispose to reach the server');
  });

  it('dropSubscriptions makes the subscription error; the data survives and a new one works', async () => {
    const subscription = client.subscribeToAll();
    const watched = watch(subscription);
    await waitFor(() => watched.seen.includes('caughtUp'), 'caught up');
    target.dropSubscriptions();
    await waitFor(() => watched.errors.length === 1, 'the subscription error');
    expect(watched.errors[0]!.constructor.name).to.equal('UnavailableError');
    expect(target.openSubscriptions()).to.equal(0);

    const again = watch(client.subscribeToAll());
    await waitFor(() => again.seen.includes('caughtUp'), 'caught up again');
    expect(again.seen).to.deep.equal(['confirmation', 'a-1@0', 'a-1@1', 'b-1@0', 'caughtUp']);
  });
});
