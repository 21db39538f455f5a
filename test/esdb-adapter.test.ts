/**
 * What the EventStoreDB adapter adds on top of the port's contract: error mapping, retries,
 * resubscription, the `$all` filters split between server and client, system events.
 *
 * Runs over the in-process gRPC double, and over a real server when
 * EVENTSTORE_CONNECTION_STRING is set. Connection loss is produced with a TCP proxy that
 * can cut every open connection, so the same test works against both.
 */
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError,
  MaxAppendSizeExceededError,
  StreamDeletedError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
  convertToCommandError,
} from '@eventstore/db-client';
import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import net from 'node:net';
import { v4 as uuid } from 'uuid';
import {
  EventStoreRejected,
  EventStoreUnavailable,
  WrongExpectedVersion,
  type AllSubscription,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '../infra/eventsourcing/event-store/event-store.js';
import { toStoreError, toWrongExpectedVersion } from '../infra/esdb/errors.js';
import { comparePositions, type Position } from '../infra/eventsourcing/event-store/position.js';
import { startEsdbDouble, type EsdbDouble } from './support/esdb-double/index.js';
import { openedPerTest, pullUntil, rejectionOf } from './support/esdb-opened.js';

const { open } = openedPerTest({ resubscribeBackoff: { initialDelayMs: 20, maxDelayMs: 200 } });

function event(type: string, data: Record<string, number | string> = {}): EventToAppend {
  return { id: uuid(), type, data, metadata: { correlationId: 'c-1', causationId: 'c-0' } };
}

async function appendNumbered(store: EventStore, streamId: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await store.appendToStream(streamId, [event('Numbered', { i })]);
}

const numbers = (events: RecordedEvent[]) => events.map((e) => e.data.i);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** A TCP proxy whose open connections can be cut, as a server restart or a network loss would. */
class CuttableProxy {
  private readonly sockets = new Set<net.Socket>();
  private constructor(private readonly server: net.Server) {}

  static async start(host: string, port: number): Promise<CuttableProxy> {
    const server = net.createServer();
    const proxy = new CuttableProxy(server);
    server.on('connection', (client) => {
      const upstream = net.connect(port, host);
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          proxy.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Host and port of a single-node, plain-text connection string; null when a proxy cannot stand in. */
function plainTextEndpoint(
  connectionString: string,
): { host: string; port: number; rewrite(port: number): string } | null {
  const match = /^esdb:\/\/(?:[^@/]*@)?([^:/?,]+):(\d+)(\?.*)?$/.exec(connectionString.trim());
  if (!match || !/(^|[?&])tls=false(&|$)/i.test(match[3] ?? '')) return null;
  const [, host, port] = match;
  return {
    host: host!,
    port: Number(port),
    rewrite: (proxyPort) => connectionString.replace(`${host}:${port}`, `127.0.0.1:${proxyPort}`),
  };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Tests that hold for the double and for a real server. */
function describeAdapter(connectionString: () => string): void {
  let store: EventStore;
  let prefix: string;
  const stream = (name: string) => `${prefix}${name}`;
  const mine = (events: RecordedEvent[]) => events.filter((e) => e.streamId.startsWith(prefix));

  beforeEach(() => {
    prefix = `a${uuid().replaceAll('-', '').slice(0, 12)}-`;
    store = open(connectionString());
  });

  describe('wrong expected version', () => {
    it('reports the actual revision for no_stream on an existing stream', async () => {
      await store.appendToStream(stream('w'), [event('A'), event('B')]);
      const error = await rejectionOf(
        store.appendToStream(stream('w'), [event('C')], { expectedRevision: 'no_stream' }),
      );
      expect(error).to.be.instanceOf(WrongExpectedVersion);
      expect(error).to.include({ streamId: stream('w'), expected: 'no_stream', actual: 1 });
    });

    it('reports no_stream for stream_exists and for an exact revision on a missing stream', async () => {
      for (const expectedRevision of ['stream_exists', 0, 5] as const) {
        const error = await rejectionOf(store.appendToStream(stream('m'), [event('A')], { expectedRevision }));
        expect(error, String(expectedRevision)).to.be.instanceOf(WrongExpectedVersion);
        expect(error).to.include({ expected: expectedRevision, actual: 'no_stream' });
      }
    });

    it('reports the actual revision for a stale or future revision', async () => {
      await store.appendToStream(stream('s'), [event('A'), event('B'), event('C')], { expectedRevision: 'no_stream' });
      for (const expectedRevision of [0, 7]) {
        const error = await rejectionOf(store.appendToStream(stream('s'), [event('D')], { expectedRevision }));
        expect(error).to.be.instanceOf(WrongExpectedVersion);
        expect(error).to.include({ expected: expectedRevision, actual: 2 });
      }
    });
  });

  describe('requests refused before reaching the server', () => {
    it('rejects ids that are not UUIDs, invalid revisions and empty appends', async () => {
      const badId = { ...event('A'), id: 'not-a-uuid' };
      expect(await rejectionOf(store.appendToStream(stream('x'), [badId]))).to.be.instanceOf(EventStoreRejected);
      expect(
        await rejectionOf(store.appendToStream(stream('x'), [event('A')], { expectedRevision: -1 })),
      ).to.be.instanceOf(EventStoreRejected);
      expect(await rejectionOf(store.appendToStream(stream('x'), []))).to.be.instanceOf(EventStoreRejected);
      expect(await rejectionOf(store.readStream(stream('x'), { fromRevision: 1.5 }))).to.be.instanceOf(
        EventStoreRejected,
      );
      expect(await store.readStream(stream('x'))).to.deep.equal({ status: 'not_found' });
    });
  });

  describe('readStream', () => {
    it('says not_found for a missing stream, found and empty for maxCount 0 on an existing one', async () => {
      expect(await store.readStream(stream('none'))).to.deep.equal({ status: 'not_found' });
      expect(await store.readStream(stream('none'), { direction: 'backwards', maxCount: 1 })).to.deep.equal({
        status: 'not_found',
      });
      await store.appendToStream(stream('one'), [event('A')]);
      expect(await store.readStream(stream('one'), { maxCount: 0 })).to.deep.equal({ status: 'found', events: [] });
    });

    it('converts revisions to numbers and positions to bigints, and keeps the metadata', async () => {
      const result = await store.appendToStream(stream('c'), [event('A'), event('B')]);
      const read = await store.readStream(stream('c'));
      if (read.status !== 'found') throw new Error('not found');
      const last = read.events[1]!;
      expect(last.revision).to.be.a('number').and.equal(1);
      expect(last.position.commit).to.be.a('bigint');
      expect(comparePositions(last.position, result.position)).to.equal(0);
      expect(last.metadata).to.deep.equal({ correlationId: 'c-1', causationId: 'c-0' });
    });
  });

  describe('system events', () => {
    it('are left out of readAll, headPosition and subscriptions', async () => {
      const user = await store.appendToStream(stream('sys'), [event('UserThing', { i: 0 })]);
      await store.appendToStream(stream('sys'), [event('$SystemThing'), event('$OtherSystemThing')]);
      const all = mine(await store.readAll({ filter: { streamPrefixes: [prefix] } }));
      expect(all.map((e) => e.type)).to.deep.equal(['UserThing']);
      const latest = await store.readAll({ direction: 'backwards', maxCount: 5 });
      expect(latest.map((e) => e.type).filter((t) => t.startsWith('$'))).to.deep.equal([]);
      expect(comparePositions((await store.headPosition())!, user.position)).to.equal(0);

      const subscription = store.subscribeToAll({ filter: { streamPrefixes: [prefix] } });
      const { events } = await pullUntil(subscription[Symbol.asyncIterator](), (_, last) => last.caughtUp);
      await subscription.close();
      expect(events.map((e) => e.type)).to.deep.equal(['UserThing']);
    });
  });

  describe('$all filters', () => {
    it('combine stream and event type prefixes, server-side for one and client-side for the other', async () => {
      await store.appendToStream(stream('order-1'), [
        event('OrderPlaced'),
        event('PaymentTaken'),
        event('OrderShipped'),
      ]);
      await store.appendToStream(stream('invoice-1'), [event('OrderInvoiced')]);
      const filter = { streamPrefixes: [stream('order-')], eventTypePrefixes: ['Order'] };
      const read = await store.readAll({ filter });
      expect(read.map((e) => e.type)).to.deep.equal(['OrderPlaced', 'OrderShipped']);

      const subscription = store.subscribeToAll({ filter });
      const { events, batches } = await pullUntil(subscription[Symbol.asyncIterator](), (_, last) => last.caughtUp);
      await subscription.close();
      expect(events.map((e) => e.type)).to.deep.equal(['OrderPlaced', 'OrderShipped']);
      // The position moves past events the filter refused.
      const lastPosition = batches.at(-1)!.position!;
      const skipped = (await store.readAll({ filter: { streamPrefixes: [stream('order-')] } })).at(-1)!;
      expect(comparePositions(lastPosition, skipped.position)).to.be.at.least(0);
    });

    it('pages forwards from a position (included) and backwards from just before it', async () => {
      await appendNumbered(store, stream('p'), 0, 12);
      const forwards = await store.readAll({ filter: { streamPrefixes: [prefix] } });
      const from = forwards[10]!.position;
      const small = open(connectionString(), { readPageSize: 3 });
      const backwards = await small.readAll({
        direction: 'backwards',
        fromPosition: from,
        maxCount: 10,
        filter: { streamPrefixes: [prefix] },
      });
      expect(numbers(backwards)).to.deep.equal(range(0, 10).reverse());
      const fwd = await small.readAll({
        fromPosition: forwards[2]!.position,
        maxCount: 7,
        filter: { streamPrefixes: [prefix] },
      });
      expect(numbers(fwd)).to.deep.equal(range(2, 9));
    });
  });

  describe('subscriptions', () => {
    it('starts after fromPosition and delivers batches no larger than maxBatchSize', async () => {
      await appendNumbered(store, stream('b'), 0, 30);
      const all = await store.readAll({ filter: { streamPrefixes: [prefix] } });
      const subscription = store.subscribeToAll({
        fromPosition: all[9]!.position,
        filter: { streamPrefixes: [prefix] },
        maxBatchSize: 4,
      });
      const { events, batches } = await pullUntil(subscription[Symbol.asyncIterator](), (_, last) => last.caughtUp);
      await subscription.close();
      expect(numbers(events)).to.deep.equal(range(10, 30));
      expect(Math.max(...batches.map((b) => b.events.length))).to.be.at.most(4);
      expect(batches.slice(0, -1).every((b) => !b.caughtUp)).to.equal(true);
    });

    it('close() ends a pending next() as done', async () => {
      const subscription = store.subscribeToAll({ filter: { streamPrefixes: [prefix] } });
      const iterator = subscription[Symbol.asyncIterator]();
      await pullUntil(iterator, (_, last) => last.caughtUp);
      const pending = iterator.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await subscription.close();
      expect(await pending).to.deep.equal({ done: true, value: undefined });
      expect((await iterator.next()).done).to.equal(true);
    });

    it('closing the store ends its subscriptions', async () => {
      const subscription = store.subscribeToAll({ filter: { streamPrefixes: [prefix] } });
      const iterator = subscription[Symbol.asyncIterator]();
      await pullUntil(iterator, (_, last) => last.caughtUp);
      const pending = iterator.next();
      await store.close();
      expect((await pending).done).to.equal(true);
    });

    it('survives cut connections: every event once, in order', async function () {
      this.timeout(60_000);
      const endpoint = plainTextEndpoint(connectionString());
      if (!endpoint) {
        console.warn('SKIPPED connection-cut test: needs a single-node esdb://host:port?tls=false connection string');
        this.skip();
      }
      const proxy = await CuttableProxy.start(endpoint.host, endpoint.port);
      const proxied = open(endpoint.rewrite(proxy.port), { subscriptionHighWaterMark: 8 });
      try {
        const s = stream('cut');
        await appendNumbered(store, s, 0, 40);
        const subscription = proxied.subscribeToAll({ filter: { streamPrefixes: [prefix] }, maxBatchSize: 5 });
        const iterator = subscription[Symbol.asyncIterator]();
        const first = await pullUntil(iterator, (events) => events.length >= 10);
        proxy.cut();
        const writes = (async () => {
          await appendNumbered(store, s, 40, 60);
          proxy.cut();
          await appendNumbered(store, s, 60, 80);
        })();
        const rest = await pullUntil(iterator, (events) => first.events.length + events.length >= 80, 20_000);
        await writes;
        await subscription.close();
        expect(numbers([...first.events, ...rest.events])).to.deep.equal(range(0, 80));
      } finally {
        await proxied.close();
        await proxy.close();
      }
    });
  });

  it('answers ping and headPosition', async () => {
    await store.ping();
    const written = await store.appendToStream(stream('h'), [event('A')]);
    const head = await store.headPosition();
    expect(head && comparePositions(head, written.position)).to.be.at.least(0);
  });
}

/** A gRPC error as grpc-js reports it, trailers included. */
function grpcError(code: status, details: string, trailers: Record<string, string> = {}): Error {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

describe('EventStoreDB adapter', function () {
  this.timeout(30_000);

  describe('error mapping', () => {
    const mapped = (error: unknown) => toStoreError(error, 'test');

    it('maps transient client errors to EventStoreUnavailable', () => {
      const notLeader = convertToCommandError(
        grpcError(status.NOT_FOUND, 'Leader info available', {
          exception: 'not-leader',
          'leader-endpoint-host': '10.0.0.2',
          'leader-endpoint-port': '2113',
        }),
      );
      for (const error of [
        new UnavailableError(),
        new DeadlineExceededError(),
        new TimeoutError(),
        new CancelledError(),
        notLeader,
        grpcError(status.UNAVAILABLE, 'Connection dropped'),
        grpcError(status.INTERNAL, 'Received RST_STREAM with code 2'),
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      ]) {
        expect(mapped(error), error.constructor.name).to.be.instanceOf(EventStoreUnavailable);
      }
    });

    it('maps refusals to EventStoreRejected', () => {
      for (const error of [
        new AccessDeniedError(),
        StreamDeletedError.fromStreamName('s-1'),
        MaxAppendSizeExceededError.fromMaxAppendSize(1024),
        new InvalidArgumentError('bad'),
        grpcError(status.INVALID_ARGUMENT, 'bad id'),
        grpcError(status.PERMISSION_DENIED, 'Access Denied', { exception: 'access-denied' }),
      ]) {
        expect(mapped(error), error.constructor.name).to.be.instanceOf(EventStoreRejected);
      }
    });

    it('passes unknown failures through untouched', () => {
      const unknown = new UnknownError();
      expect(mapped(unknown)).to.equal(unknown);
      const bug = new TypeError('boom');
      expect(mapped(bug)).to.equal(bug);
    });

    it('turns the actual version of a wrong expected version into a number or no_stream', () => {
      const current = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 3n, current: 7n });
      expect(toWrongExpectedVersion(current, 's', 3)).to.include({ actual: 7, expected: 3, streamId: 's' });
      const missing = new WrongExpectedVersionError(undefined, {
        streamName: 's',
        expected: 'stream_exists',
        current: 'no_stream',
      });
      expect(toWrongExpectedVersion(missing, 's', 'stream_exists').actual).to.equal('no_stream');
      // Servers before 21.x put -1 in the trailers for a missing stream.
      const legacy = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: -1n });
      expect(toWrongExpectedVersion(legacy, 's', 0).actual).to.equal('no_stream');
    });
  });

  describe('over the gRPC double', () => {
    let double: EsdbDouble;
    before(async () => {
      double = await startEsdbDouble();
    });
    after(async () => double?.stop());

    describeAdapter(() => double.connectionString);

    describe('double-only faults', () => {
      let store: EventStore;
      let prefix: string;
      const stream = (name: string) => `${prefix}${name}`;
      beforeEach(() => {
        prefix = `f${uuid().replaceAll('-', '').slice(0, 12)}-`;
        store = open(double.connectionString);
      });

      it('retries a read that fails transiently, then gives up with EventStoreUnavailable', async () => {
        await store.appendToStream(stream('r'), [event('A')]);
        double.failNext('read', 2);
        const read = await store.readStream(stream('r'));
        expect(read.status).to.equal('found');
        double.failNext('read', 4);
        expect(await rejectionOf(store.readStream(stream('r')))).to.be.instanceOf(EventStoreUnavailable);
        double.failNext('read', 4);
        expect(await rejectionOf(store.readAll({ maxCount: 1 }))).to.be.instanceOf(EventStoreUnavailable);
      });

      for (const path of ['batchAppend', 'append'] as const) {
        describe(`appends over ${path}`, () => {
          let local: EsdbDouble;
          let onPath: EventStore;
          before(async () => {
            local = await startEsdbDouble({ batchAppend: path === 'batchAppend' });
          });
          after(async () => local?.stop());
          beforeEach(() => {
            onPath = open(local.connectionString);
          });

          it('retries once on Unavailable when the expected revision makes it idempotent', async () => {
            await onPath.appendToStream(stream('a'), [event('A')], { expectedRevision: 'no_stream' });
            local.failNext(path, 1);
            const result = await onPath.appendToStream(stream('a'), [event('B')], { expectedRevision: 0 });
            expect(result.nextExpectedRevision).to.equal(1);
            local.failNext(path, 1);
            await onPath.appendToStream(stream('n'), [event('A')], { expectedRevision: 'no_stream' });
            const read = await onPath.readStream(stream('a'));
            expect(read.status === 'found' && read.events.map((e) => e.type)).to.deep.equal(['A', 'B']);
          });

          it('does not retry with any / stream_exists, nor a second time', async () => {
            local.failNext(path, 1);
            expect(await rejectionOf(onPath.appendToStream(stream('b'), [event('A')]))).to.be.instanceOf(
              EventStoreUnavailable,
            );
            expect(await onPath.readStream(stream('b'))).to.deep.equal({ status: 'not_found' });
            local.failNext(path, 2);
            expect(
              await rejectionOf(onPath.appendToStream(stream('b'), [event('A')], { expectedRevision: 'no_stream' })),
            ).to.be.instanceOf(EventStoreUnavailable);
          });
        });
      }

      it('maps an oversized append to EventStoreRejected', async () => {
        const big = event('Big', { blob: 'x'.repeat(1_100_000) });
        expect(await rejectionOf(store.appendToStream(stream('big'), [big]))).to.be.instanceOf(EventStoreRejected);
      });

      it('resubscribes after dropSubscriptions(), during catch-up and live, without gaps or duplicates', async function () {
        this.timeout(60_000);
        const s = stream('drop');
        await appendNumbered(store, s, 0, 200);
        const small = open(double.connectionString, { subscriptionHighWaterMark: 8 });
        const subscription: AllSubscription = small.subscribeToAll({
          filter: { streamPrefixes: [prefix] },
          maxBatchSize: 7,
        });
        const iterator = subscription[Symbol.asyncIterator]();
        const seen: RecordedEvent[] = [];
        for (let drops = 0; drops < 5; drops++) {
          const got = await pullUntil(iterator, (events) => events.length >= 15);
          seen.push(...got.events);
          // Let the paused client stream fill up (and a filter checkpoint arrive) before the drop.
          await new Promise((resolve) => setTimeout(resolve, 30));
          double.dropSubscriptions();
        }
        const writes = (async () => {
          await appendNumbered(store, s, 200, 230);
          double.dropSubscriptions();
          await appendNumbered(store, s, 230, 260);
        })();
        // "Caught up" may come in a batch of its own, after the batch with the last event.
        const rest = await pullUntil(
          iterator,
          (events, last) => seen.length + events.length >= 260 && last.caughtUp,
          20_000,
        );
        await writes;
        seen.push(...rest.events);
        expect(numbers(seen)).to.deep.equal(range(0, 260));
        const positions: Position[] = seen.map((e) => e.position);
        for (let i = 1; i < positions.length; i++)
          expect(comparePositions(positions[i - 1]!, positions[i]!)).to.equal(-1);
        await subscription.close();
      });

      it('ends the iteration with EventStoreUnavailable when resubscribing keeps failing', async () => {
        const local = await startEsdbDouble();
        const fragile = open(local.connectionString, {
          maxResubscribeAttempts: 2,
          resubscribeBackoff: { initialDelayMs: 5, maxDelayMs: 10 },
        });
        try {
          const iterator = fragile.subscribeToAll()[Symbol.asyncIterator]();
          await pullUntil(iterator, (_, last) => last.caughtUp);
          await local.stop();
          expect(await rejectionOf(pullUntil(iterator, () => false))).to.be.instanceOf(EventStoreUnavailable);
        } finally {
          await fragile.close();
          await local.stop();
        }
      });
    });
  });

  describe('with no server listening', () => {
    it('ping and reads fail with EventStoreUnavailable', async () => {
      const store = open(`esdb://127.0.0.1:${await closedPort()}?tls=false`, { readAttempts: 2 });
      expect(await rejectionOf(store.ping())).to.be.instanceOf(EventStoreUnavailable);
      expect(await rejectionOf(store.readStream('any-stream'))).to.be.instanceOf(EventStoreUnavailable);
      expect(await rejectionOf(store.appendToStream('any-stream', [event('A')]))).to.be.instanceOf(
        EventStoreUnavailable,
      );
    });
  });

  describe('over a real EventStoreDB (EVENTSTORE_CONNECTION_STRING)', () => {
    before(function () {
      if (!process.env.EVENTSTORE_CONNECTION_STRING) {
        console.warn(
          'SKIPPED EventStoreDB adapter tests against a real server: EVENTSTORE_CONNECTION_STRING is not set ' +
            "(docker compose up -d eventstoredb, then EVENTSTORE_CONNECTION_STRING='esdb://localhost:2113?tls=false'). " +
            'Only the gRPC double was exercised.',
        );
        this.skip();
      }
    });

    describeAdapter(() => process.env.EVENTSTORE_CONNECTION_STRING!);
  });
});
