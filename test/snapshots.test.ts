/**
 * Loading a stream with snapshots, on both event stores (the embedded one with its
 * snapshots table, EventStoreDB over the gRPC double with `snapshot-<stream>` streams):
 * a restarted process reads the snapshot and the events after it only, and gets exactly
 * the state of a full fold; a snapshot of another version, an unreadable one, or one the
 * stream does not confirm is ignored, and so is a store that cannot be read — never a
 * wrong state, never a failed command. Also: conflicts catch up from the cached revision,
 * and long streams are read in pages.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import { depositMoney, openAccount, type BillingEnvironment } from '../command-handlers/billing.js';
import { loadStream } from '../infra/eventsourcing/command-handling/handle-command.js';
import type { SnapshotObservation, Snapshotting } from '../infra/eventsourcing/command-handling/snapshots.js';
import { StreamStateCache } from '../infra/eventsourcing/command-handling/stream-state-cache.js';
import { account } from '../domain/billing/account.js';
import { accountStream, type AccountEvent } from '../domain/billing/events.js';
import { fold } from '../domain/decider.js';
import type {
  AppendOptions,
  EventStore,
  EventToAppend,
  JsonObject,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
} from '../infra/eventsourcing/event-store/event-store.js';
import { openEsdbEventStore } from '../infra/esdb/esdb-event-store.js';
import { SNAPSHOT_EVENT_TYPE, SNAPSHOT_STREAM_PREFIX, streamSnapshotStore } from '../infra/esdb/snapshots.js';
import type { SnapshotStore, StoredSnapshot } from '../infra/eventsourcing/event-store/snapshot-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { startEsdbDouble, type EsdbDouble } from './support/esdb-double/index.js';

/** An event store that records every stream read: from where, how many at most, how many came back. */
class CountingEventStore implements EventStore {
  reads: Array<{
    streamId: string;
    fromRevision: ReadStreamOptions['fromRevision'];
    maxCount: number | undefined;
    returned: number;
  }> = [];
  constructor(private readonly inner: EventStore) {}
  eventsRead(streamId: string): number {
    return this.reads.filter((r) => r.streamId === streamId).reduce((sum, r) => sum + r.returned, 0);
  }
  appendToStream(streamId: string, events: EventToAppend[], options?: AppendOptions) {
    return this.inner.appendToStream(streamId, events, options);
  }
  async readStream(streamId: string, options?: ReadStreamOptions) {
    const read = await this.inner.readStream(streamId, options);
    this.reads.push({
      streamId,
      fromRevision: options?.fromRevision,
      maxCount: options?.maxCount,
      returned: read.status === 'found' ? read.events.length : 0,
    });
    return read;
  }
  readAll(options?: ReadAllOptions) {
    return this.inner.readAll(options);
  }
  subscribeToAll(options?: SubscribeToAllOptions) {
    return this.inner.subscribeToAll(options);
  }
  headPosition() {
    return this.inner.headPosition();
  }
  ping() {
    return this.inner.ping();
  }
  close() {
    return this.inner.close();
  }
}

/** A snapshot store that can be made to fail, and whose writes can be waited for. */
class TestSnapshotStore implements SnapshotStore {
  failReads = false;
  failWrites = false;
  private readonly writing = new Set<Promise<void>>();
  constructor(readonly inner: SnapshotStore) {}
  async read(streamId: string) {
    if (this.failReads) throw new Error('snapshot store unreachable');
    return this.inner.read(streamId);
  }
  write(snapshot: StoredSnapshot): Promise<void> {
    const write = this.failWrites ? Promise.reject(new Error('snapshot store full')) : this.inner.write(snapshot);
    const settled = write.catch(() => undefined).finally(() => this.writing.delete(settled));
    this.writing.add(settled);
    return write;
  }
  async settled(): Promise<void> {
    while (this.writing.size > 0) await Promise.all([...this.writing]);
  }
}

/** What `observe` was told, and a way to wait for a particular observation. */
class Observations {
  readonly seen: SnapshotObservation[] = [];
  private waiting: Array<{ match: (o: SnapshotObservation) => boolean; resolve: (o: SnapshotObservation) => void }> =
    [];
  readonly observe = (observation: SnapshotObservation) => {
    this.seen.push(observation);
    this.waiting = this.waiting.filter((w) => {
      if (!w.match(observation)) return true;
      w.resolve(observation);
      return false;
    });
  };
  of(streamId: string, kind?: SnapshotObservation['kind']): SnapshotObservation[] {
    return this.seen.filter((o) => o.streamId === streamId && (!kind || o.kind === kind));
  }
  /** The first observation from the `from`-th on that matches, when it comes. */
  when(match: (o: SnapshotObservation) => boolean, from = 0): Promise<SnapshotObservation> {
    const already = this.seen.slice(from).find(match);
    return already ? Promise.resolve(already) : new Promise((resolve) => this.waiting.push({ match, resolve }));
  }
  /** Resolves once `count` observations of this kind were made for the stream. */
  async count(streamId: string, kind: SnapshotObservation['kind'], count: number): Promise<void> {
    for (let from = 0; this.of(streamId, kind).length < count; from = this.seen.length)
      await this.when((o) => o.streamId === streamId && o.kind === kind, from);
  }
}

interface StoresUnderTest {
  events: EventStore;
  snapshots: SnapshotStore;
  close(): Promise<void>;
}

function describeSnapshots(
  name: string,
  open: () => Promise<StoresUnderTest>,
  options: { snapshotStreams?: boolean } = {},
): void {
  describe(`loading streams with snapshots: ${name}`, function () {
    this.timeout(120_000);
    let stores: StoresUnderTest;
    let events: CountingEventStore;
    let snapshotStore: TestSnapshotStore;
    let observations: Observations;
    let clock: number;

    before(async () => {
      stores = await open();
    });
    after(async () => stores.close());
    beforeEach(() => {
      events = new CountingEventStore(stores.events);
      snapshotStore = new TestSnapshotStore(stores.snapshots);
      observations = new Observations();
      clock = Date.parse('2026-11-21T10:00:00Z');
    });
    afterEach(async () => snapshotStore.settled());

    /** Each reading of the clock is a second later than the last. */
    const tick = (): number => {
      clock += 1000;
      return clock;
    };
    /** A process: its own cache (new = restarted), the shared stores. */
    const process = (every = 100, cache = new StreamStateCache()): BillingEnvironment => {
      const snapshots: Snapshotting = { store: snapshotStore, every, observe: observations.observe };
      return { eventStore: events, cache, newId: uuid, now: () => new Date(tick()), snapshots };
    };
    const deposit = (env: BillingEnvironment, userId: string, amount = 1) =>
      depositMoney(env, { userId, amount, operationId: uuid(), retriable: false });
    const wholeStream = async (streamId: string): Promise<RecordedEvent[]> => {
      const read = await stores.events.readStream(streamId);
      return read.status === 'found' ? read.events : [];
    };
    const fullFold = async (streamId: string) =>
      fold(
        account,
        (await wholeStream(streamId)).map((e) => ({ type: e.type, data: e.data }) as unknown as AccountEvent),
      );
    const encoded = (state: Parameters<typeof account.decide>[1]) => account.snapshot!.encode(state);

    /** A fresh account with `deposits` deposits, every `every`-th event snapshotted (each snapshot waited for). */
    async function accountWith(deposits: number, every: number): Promise<{ userId: string; streamId: string }> {
      const userId = `u-${uuid()}`;
      const streamId = accountStream(userId);
      const env = process(every);
      await openAccount(env, userId);
      for (let i = 0; i < deposits; i++) {
        const { revision } = await deposit(env, userId);
        if ((revision + 1) % every === 0)
          await observations.when((o) => o.streamId === streamId && o.kind === 'written' && o.revision === revision);
      }
      return { userId, streamId };
    }

    /**
     * Loads the stream in a restarted process: what it observed, the stream reads it made,
     * and (checked) whether the state is the full fold's. A snapshot the load schedules is waited for.
     */
    async function restartAndLoad(streamId: string, every = 100) {
      events.reads = [];
      const before = observations.seen.length;
      const loaded = await loadStream(process(every), account, streamId);
      const reads = events.reads.filter((r) => r.streamId === streamId);
      expect(encoded(loaded.state), 'the state of a full fold').to.deep.equal(encoded(await fullFold(streamId)));
      if (loaded.revision - loaded.snapshotRevision >= every)
        await observations.when(
          (o) => o.streamId === streamId && (o.kind === 'written' || o.kind === 'write_failed'),
          before,
        );
      return {
        loaded,
        observed: observations.seen.slice(before).map((o) => o.kind),
        eventsRead: reads.reduce((sum, r) => sum + r.returned, 0),
        foldedFromStart: reads.some((r) => r.fromRevision === 0 && r.returned === loaded.revision + 1),
      };
    }

    it('1,050 deposits: snapshots are written every 100 events; a restarted process reads at most 101 events and gets the full fold’s state', async () => {
      const { streamId } = await accountWith(1_050, 100);
      expect(observations.of(streamId, 'written').map((o) => (o.kind === 'written' ? o.revision : -1))).to.deep.equal([
        99, 199, 299, 399, 499, 599, 699, 799, 899, 999,
      ]);
      const stored = await stores.snapshots.read(streamId);
      expect(stored).to.deep.include({ streamId, revision: 999, version: account.snapshot!.version });
      const { loaded, observed, eventsRead } = await restartAndLoad(streamId);
      expect(eventsRead).to.be.at.most(101);
      expect(
        events.reads.every((r) => typeof r.fromRevision === 'number' && r.fromRevision >= 999),
        JSON.stringify(events.reads),
      ).to.equal(true);
      expect(observed).to.deep.equal(['loaded']);
      expect(loaded.revision).to.equal(1_050);
      expect(loaded.state.balance).to.equal(1_050);
      const last = (await wholeStream(streamId)).at(-1)!;
      expect(loaded.position).to.deep.equal(last.position);
    });

    it('a snapshot of another shape version is ignored: full fold, correct state', async () => {
      const { streamId } = await accountWith(25, 10);
      const stored = (await stores.snapshots.read(streamId))!;
      await stores.snapshots.write({ ...stored, version: stored.version + 1 });
      const { observed, foldedFromStart } = await restartAndLoad(streamId, 10);
      expect(observed[0]).to.equal('ignored');
      expect(observations.of(streamId, 'ignored').at(-1))
        .to.have.property('reason')
        .that.matches(/version/);
      expect(foldedFromStart).to.equal(true);
    });

    it('a snapshot whose state is not JSON, or has fields of the wrong type, is ignored: correct state', async () => {
      const { streamId } = await accountWith(25, 10);
      const good = JSON.parse((await stores.snapshots.read(streamId))!.state) as JsonObject;
      for (const state of [
        '{"open":tru',
        '',
        JSON.stringify({ ...good, balance: 'lots' }),
        JSON.stringify({ ...good, operations: null }),
        JSON.stringify([good]),
      ]) {
        // The load before took a good snapshot again: spoil that one.
        const current = (await stores.snapshots.read(streamId))!;
        await stores.snapshots.write({ ...current, state });
        const { observed, foldedFromStart } = await restartAndLoad(streamId, 10);
        expect(observed[0], state).to.equal('ignored');
        expect(observations.of(streamId, 'ignored').at(-1))
          .to.have.property('reason')
          .that.matches(/cannot be read/);
        expect(foldedFromStart).to.equal(true);
      }
    });

    it('a snapshot the stream does not confirm (another position, another stream’s, past the end) is ignored: correct state', async () => {
      const { streamId } = await accountWith(25, 10);
      const stored = (await stores.snapshots.read(streamId))!;
      const stream = await wholeStream(streamId);
      // The same revision with the position of another event of the stream.
      await stores.snapshots.write({ ...stored, position: stream[3]!.position });
      let loaded = await restartAndLoad(streamId, 10);
      expect([loaded.observed[0], loaded.foldedFromStart]).to.deep.equal(['ignored', true]);
      expect(observations.of(streamId, 'ignored').at(-1))
        .to.have.property('reason')
        .that.matches(/was taken after revision 19/);
      // A revision the stream does not have yet (a snapshot of a stream deleted and started again).
      await stores.snapshots.write({ ...stored, revision: 500 });
      loaded = await restartAndLoad(streamId, 10);
      expect([loaded.observed[0], loaded.foldedFromStart]).to.deep.equal(['ignored', true]);
      expect(observations.of(streamId, 'ignored').at(-1))
        .to.have.property('reason')
        .that.matches(/no such event/);

      // Another stream's snapshot, copied to a stream whose event at that revision is not the one it was taken after.
      const other = await accountWith(3, 10);
      const copied = {
        ...stored,
        streamId: other.streamId,
        revision: 2,
        position: stream[2]!.position,
        state: JSON.stringify(
          encoded(
            fold(
              account,
              stream.slice(0, 3).map((e) => ({ type: e.type, data: e.data }) as unknown as AccountEvent),
            ),
          ),
        ),
      };
      await stores.snapshots.write(copied);
      const foreign = await restartAndLoad(other.streamId, 10);
      expect([foreign.observed[0], foreign.foldedFromStart]).to.deep.equal(['ignored', true]);
      expect(foreign.loaded.state.userId).to.equal(other.userId);
      expect(foreign.loaded.state.balance).to.equal(3);
    });

    it('a snapshot store that cannot be read: unavailable, full fold, correct state', async () => {
      const { streamId } = await accountWith(25, 10);
      snapshotStore.failReads = true;
      const { observed, foldedFromStart } = await restartAndLoad(streamId, 10);
      expect(observed[0]).to.equal('unavailable');
      expect(foldedFromStart).to.equal(true);
    });

    it('a snapshot write that fails: write_failed, and every command still succeeds', async () => {
      snapshotStore.failWrites = true;
      const userId = `u-${uuid()}`;
      const streamId = accountStream(userId);
      const env = process(10);
      await openAccount(env, userId);
      for (let i = 0; i < 25; i++) await deposit(env, userId, 2);
      // Due after revisions 9 and 19.
      await observations.count(streamId, 'write_failed', 2);
      expect(observations.of(streamId, 'written')).to.deep.equal([]);
      expect((await loadStream(process(10), account, streamId)).state.balance).to.equal(50);
    });

    it('a conflict keeps the cached state: the retry reads only what came after the cached revision', async () => {
      const userId = `u-${uuid()}`;
      const streamId = accountStream(userId);
      const mine = process(100);
      const theirs: BillingEnvironment = { ...process(100), eventStore: stores.events };
      await openAccount(mine, userId);
      await deposit(mine, userId, 1);
      // Another process appends meanwhile: our cache is at revision 1, the stream at 4.
      for (let i = 0; i < 3; i++) await deposit(theirs, userId, 10);
      events.reads = [];
      const result = await deposit(mine, userId, 100);
      expect(result.revision).to.equal(5);
      expect(result.state.balance).to.equal(131);
      expect(events.reads.map((r) => r.fromRevision)).to.deep.equal([2]);
      expect(events.eventsRead(streamId)).to.equal(3);
    });

    it('a stream of 3,500 events without snapshots is read in pages of at most 1,000', async () => {
      const userId = `u-${uuid()}`;
      const streamId = accountStream(userId);
      const at = new Date(clock).toISOString();
      const all: EventToAppend[] = [{ id: uuid(), type: 'AccountOpened', data: { accountId: 'a', userId, at } }];
      for (let i = 1; i < 3_500; i++)
        all.push({
          id: uuid(),
          type: 'MoneyDeposited',
          data: { accountId: 'a', userId, operationId: `op-${i}`, amount: 1, memory: { until: at }, balance: i, at },
        });
      for (let i = 0; i < all.length; i += 500) await stores.events.appendToStream(streamId, all.slice(i, i + 500));
      events.reads = [];
      const loaded = await loadStream({ eventStore: events, cache: new StreamStateCache() }, account, streamId);
      expect(loaded.revision).to.equal(3_499);
      expect(loaded.state.balance).to.equal(3_499);
      expect(events.reads.map((r) => [r.fromRevision, r.maxCount, r.returned])).to.deep.equal([
        [0, 1_000, 1_000],
        [1_000, 1_000, 1_000],
        [2_000, 1_000, 1_000],
        [3_000, 1_000, 500],
      ]);
    });

    it('snapshots never show among the events of $all (readAll, subscribeToAll)', async () => {
      const { streamId } = await accountWith(12, 10);
      expect(observations.of(streamId, 'written')).to.have.length(1);
      const isSnapshot = (e: RecordedEvent) => e.streamId.startsWith(SNAPSHOT_STREAM_PREFIX) || e.type.startsWith('$');
      const all = await stores.events.readAll();
      expect(all.filter((e) => e.streamId === streamId)).to.have.length(13);
      expect(all.filter(isSnapshot)).to.deep.equal([]);
      const subscription = stores.events.subscribeToAll({ fromPosition: 'start' });
      const delivered: RecordedEvent[] = [];
      for await (const batch of subscription) {
        delivered.push(...batch.events);
        if (batch.caughtUp) break;
      }
      await subscription.close();
      expect(delivered.filter((e) => e.streamId === streamId)).to.have.length(13);
      expect(delivered.filter(isSnapshot)).to.deep.equal([]);
    });

    if (options.snapshotStreams) {
      it('a snapshot stream keeps only its last snapshot readable ($maxCount 1), of type $snapshot', async () => {
        const { streamId } = await accountWith(35, 10);
        const read = await stores.events.readStream(SNAPSHOT_STREAM_PREFIX + streamId);
        const kept = read.status === 'found' ? read.events : [];
        expect(kept.map((e) => [e.type, e.data.revision, e.revision])).to.deep.equal([[SNAPSHOT_EVENT_TYPE, 29, 2]]);
        expect((await stores.snapshots.read(streamId))!.revision).to.equal(29);
      });
    }
  });
}

const dir = mkdtempSync(join(tmpdir(), 'market-snapshots-'));

describeSnapshots('embedded (SQLite) event store', async () => {
  const store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal' });
  return {
    events: store,
    snapshots: store.snapshots,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let double: EsdbDouble;
describeSnapshots(
  'EventStoreDB (gRPC double)',
  async () => {
    double = await startEsdbDouble();
    const store = openEsdbEventStore({ connectionString: double.connectionString });
    return {
      events: store,
      snapshots: streamSnapshotStore(store, store),
      async close() {
        await store.close();
        await double.stop();
      },
    };
  },
  { snapshotStreams: true },
);
