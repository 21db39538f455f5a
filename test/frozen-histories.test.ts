/**
 * Every build reads every frozen history (test/frozen-histories/*): each log, exactly as an
 * earlier build stored it, is loaded into a fresh store of each kind (embedded, and
 * EventStoreDB through the gRPC double), every projection is rebuilt from it and every stream
 * folded through the versioned store (upcasting what is old), and the outcome compared with
 * what was recorded: the read models, the aggregates' states, and the faults — the events a
 * projection must park and the streams a command must refuse to load.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { loadStream } from '../infra/eventsourcing/command-handling/handle-command.js';
import { StreamStateCache } from '../infra/eventsourcing/command-handling/stream-state-cache.js';
import { domainEvents } from '../domain/events.js';
import { emailClaim } from '../domain/identity/email-claim.js';
import { EMAIL_STREAM_PREFIX } from '../domain/identity/events.js';
import { openEsdbEventStore } from '../infra/esdb/esdb-event-store.js';
import { UnreadableEvent, type EventStore } from '../infra/eventsourcing/event-store/event-store.js';
import { parsePosition, sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';
import { versionedEventStore } from '../infra/eventsourcing/event-store/versioned-event-store.js';
import { CachedKeys } from '../infra/eventsourcing/personal-data/keys.js';
import { personalDataEventStore } from '../infra/eventsourcing/personal-data/personal-data-event-store.js';
import { openSqlitePersonalDataKeys } from '../infra/sqlite/sqlite-personal-data-keys.js';
import { personalData } from '../domain/personal-data.js';
import { compiledChecks } from '../infra/event-schemas/compiled-checks.js';
import { openSqliteReadStore } from '../infra/sqlite/read-store/sqlite-read-store.js';
import { ProjectionRunner } from '../infra/eventsourcing/subscriptions/runner.js';
import { openSqliteLeases } from '../infra/sqlite/sqlite-leases.js';
import { projections } from '../projections/index.js';
import { marketDataProjection } from '../projections/market.js';
import { market, type MarketState } from '../domain/trading/market.js';
import { orderBookOf } from '../read-api/market.js';
import { aggregateOf } from './frozen-histories/aggregates.js';
import { dumpReadModels, HISTORIES_DIR, readHistories, type FrozenHistory } from './frozen-histories/files.js';
import { startEsdbDouble, type EsdbDouble } from './support/esdb-double/index.js';
import { repoDir, tempDir, type TempDir } from './support/process.js';

const histories = readHistories(join(repoDir, HISTORIES_DIR));

describe('frozen histories: every build reads what every earlier build wrote', function () {
  this.timeout(60_000);

  it('there is at least one history, and its log is as recorded: positions ascending, revisions consecutive per stream', () => {
    expect(histories.map((h) => h.name)).to.include('01-unversioned');
    for (const history of histories) {
      const revisions = new Map<string, number>();
      let last = -1n;
      for (const event of history.events) {
        const position = parsePosition(event.position)!.commit;
        expect(position > last, `${history.name}: ${event.id} after ${last}`).to.equal(true);
        last = position;
        expect(event.revision, `${history.name}: ${event.streamId}`).to.equal(
          (revisions.get(event.streamId) ?? -1) + 1,
        );
        revisions.set(event.streamId, event.revision);
      }
    }
  });

  it('holds an event of every earlier version of every event type, so every upcaster reads real stored data', () => {
    const stored = new Set(
      histories.flatMap((h) =>
        h.events.map(
          (e) => `${e.type} v${typeof e.metadata.schemaVersion === 'number' ? e.metadata.schemaVersion : 1}`,
        ),
      ),
    );
    const missing = domainEvents
      .all()
      .flatMap((type) => type.versions.slice(0, -1).map((v) => `${type.type} v${v.version}`))
      .filter((version) => !stored.has(version));
    expect(missing, 'earlier versions no frozen history holds').to.deep.equal([]);
  });

  for (const history of histories) {
    for (const kind of ['embedded', 'esdb'] as const) {
      describe(`${history.name}, loaded into the ${kind} event store`, () => {
        let dir: TempDir;
        let double: EsdbDouble | null = null;
        let raw: EventStore;
        let store: EventStore;
        /** Sortable position in this store → the same event's sortable position as recorded. */
        let recordedAt: Map<string, string>;

        before(async () => {
          dir = tempDir('market-frozen-');
          double = kind === 'esdb' ? await startEsdbDouble() : null;
          raw = double
            ? openEsdbEventStore({ connectionString: double.connectionString })
            : openSqliteEventStore({ file: join(dir.path, 'events.db'), durability: 'normal', writer: 'inline' });
          recordedAt = await load(raw, history);
          // Read as the server reads: through the personal-data decorator (plaintext written before it, no key of anyone's).
          const keys = new CachedKeys(openSqlitePersonalDataKeys(':memory:'));
          store = versionedEventStore(
            personalDataEventStore(raw, keys, personalData),
            domainEvents.withChecks(compiledChecks()),
          );
        });
        after(async () => {
          await raw.close();
          await double?.stop();
          dir.remove();
        });

        it('reads every event, upcast to the current version, except the ones it must refuse', async () => {
          const all = await store.readAll();
          expect(all.map((e) => e.id)).to.deep.equal(history.events.map((e) => e.id));
          const refused = new Set(history.faults.parked.map((p) => p.eventId));
          for (const event of all) {
            if (refused.has(event.id)) {
              expect(event.unreadable, event.id).to.be.a('string');
              continue;
            }
            expect(event.unreadable, `${event.type} ${event.id}: ${event.unreadable}`).to.equal(undefined);
            expect(domainEvents.problemWith(event.type, event.data), event.id).to.equal(null);
          }
        });

        it('rebuilds every projection to the recorded read models, parking exactly the recorded events', async () => {
          const readDb = join(dir.path, 'read.db');
          const readStore = openSqliteReadStore({ file: readDb });
          const leases = openSqliteLeases(readDb);
          const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
          try {
            for (const projection of projections) {
              await new ProjectionRunner(projection, {
                eventStore: store,
                readStore,
                leases,
                owner: 'frozen-history',
                log,
              }).rebuild();
            }
            const actual = dumpReadModels(
              readDb,
              projections.flatMap((p) => p.collections),
            );
            expect(
              readModelDifferences(history.readModels, asRecorded(actual, recordedAt) as FrozenHistory['readModels']),
            ).to.deep.equal([]);
            const parked = (await readStore.listParked()).map((p) => ({
              ...p,
              position: recordedAt.get(sortablePosition(p.position)),
            }));
            expect(parked.map((p) => `${p.projection} ${p.eventId}`).sort()).to.deep.equal(
              history.faults.parked.map((p) => `${p.projection} ${p.eventId}`).sort(),
            );
            for (const expected of history.faults.parked) {
              const found = parked.find((p) => p.projection === expected.projection && p.eventId === expected.eventId)!;
              expect(found).to.include({
                eventType: expected.eventType,
                streamId: expected.streamId,
                position: sortablePosition(parsePosition(expected.position)!),
              });
              for (const words of expected.errorIncludes) expect(found.error).to.include(words);
            }
          } finally {
            await leases.close();
            await readStore.close();
          }
        });

        it("builds the market data (collections it never recorded) to each market's own book", async () => {
          // Collections added after a history was recorded are not in its read models: they are
          // checked against what the history's markets fold to instead.
          const file = join(dir.path, 'market-data.db');
          const readStore = openSqliteReadStore({ file });
          const leases = openSqliteLeases(file);
          const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
          try {
            const owner = 'frozen-history';
            await new ProjectionRunner(marketDataProjection, {
              eventStore: store,
              readStore,
              leases,
              owner,
              log,
            }).rebuild();
            const markets = [...new Set(history.events.map((e) => e.streamId))].filter((s) => s.startsWith('market-'));
            expect(markets, 'markets').to.not.deep.equal([]);
            for (const streamId of markets) {
              const { state } = await loadStream(
                { eventStore: store, cache: new StreamStateCache() },
                market,
                streamId,
              );
              const levels = (book: MarketState['bids'], direction: 1 | -1) =>
                [...book.entries()]
                  .sort(([a], [b]) => direction * (a - b))
                  .map(([price, orders]) => ({ price, units: orders.size, orders: orders.size }));
              expect(await orderBookOf(readStore, state.itemId, 100), streamId).to.deep.equal({
                bids: levels(state.bids, -1),
                asks: levels(state.asks, 1),
              });
            }
          } finally {
            await leases.close();
            await readStore.close();
          }
        });

        it('folds every stream to the recorded state, and refuses to load the streams it must', async () => {
          const env = { eventStore: store, cache: new StreamStateCache() };
          const unreadable = new Set(history.faults.unreadableStreams.map((u) => u.streamId));
          for (const [streamId, recorded] of Object.entries(history.states)) {
            // Its recorded state is the one before the event that makes it unreadable now.
            if (unreadable.has(streamId)) continue;
            const aggregate = aggregateOf(streamId)!;
            expect(aggregate.name, streamId).to.equal(recorded.aggregate);
            const { state } = await loadStream(env, aggregate.decider, streamId);
            const encoded = aggregate.decider.snapshot!.encode(state);
            expect(
              differences(
                inThisBuildsShape(recorded.aggregate, recorded.state, encoded, history, streamId),
                encoded,
                streamId,
              ),
            ).to.deep.equal([]);
          }
          // Email claims have no snapshot, so no recorded state: each is the claim of its one event's user.
          const claims = history.events.filter((e) => e.streamId.startsWith(EMAIL_STREAM_PREFIX));
          expect(claims, 'email claims').to.not.deep.equal([]);
          for (const claim of claims) {
            const { state, revision } = await loadStream(env, emailClaim, claim.streamId);
            expect({ state, revision }, claim.streamId).to.deep.equal({
              state: { claimant: claim.data.userId },
              revision: 0,
            });
          }
          for (const { streamId, errorIncludes } of history.faults.unreadableStreams) {
            const aggregate = aggregateOf(streamId)!;
            const error = await loadStream(env, aggregate.decider, streamId).then(
              () => null,
              (e: unknown) => e,
            );
            expect(error, streamId).to.be.instanceOf(UnreadableEvent);
            for (const words of errorIncludes) expect((error as Error).message).to.include(words);
          }
        });
      });
    }
  }
});

/**
 * Appends the log to a fresh store as it was stored (straight to the adapter: a store is
 * never rewritten on the way in), one event at a time at its recorded revision.
 */
async function load(store: EventStore, history: FrozenHistory): Promise<Map<string, string>> {
  const recordedAt = new Map<string, string>();
  for (const event of history.events) {
    const appended = await store.appendToStream(
      event.streamId,
      [{ id: event.id, type: event.type, data: event.data as never, metadata: event.metadata as never }],
      { expectedRevision: event.revision === 0 ? 'no_stream' : event.revision - 1 },
    );
    recordedAt.set(sortablePosition(appended.position), sortablePosition(parsePosition(event.position)!));
  }
  expect(recordedAt.size).to.equal(history.events.length);
  return recordedAt;
}

/** Read models with the positions of this store (`seq` fields, `<position>:<unit>`) replaced by the recorded ones. */
function asRecorded(value: unknown, recordedAt: Map<string, string>): unknown {
  if (typeof value === 'string') {
    const recorded = recordedAt.get(value.slice(0, SORTABLE_LENGTH));
    return recorded ? recorded + value.slice(SORTABLE_LENGTH) : value;
  }
  if (Array.isArray(value)) return value.map((v) => asRecorded(v, recordedAt));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asRecorded(v, recordedAt)]));
  return value;
}

const SORTABLE_LENGTH = sortablePosition({ commit: 0n, prepare: 0n }).length;

/** Every recorded collection holds exactly the recorded documents, each as recorded (see `differences`). */
function readModelDifferences(recorded: FrozenHistory['readModels'], actual: FrozenHistory['readModels']): string[] {
  return Object.entries(recorded).flatMap(([collection, docs]) => {
    const now = actual[collection] ?? {};
    const extra = Object.keys(now).filter((id) => !(id in docs));
    return [
      ...(extra.length > 0 ? [`${collection}: documents not recorded: ${extra.join(', ')}`] : []),
      ...differences(docs, now, collection),
    ];
  });
}

/**
 * Where `actual` departs from `recorded`: every recorded field must be there with the same
 * value (a later build may add fields, never change or drop one); arrays item by item.
 */
/**
 * A recorded state in the shape this build gives it. The events and the read models are what
 * is frozen; a state is a build's own view of its events, and its shape may change (with its
 * snapshot version). Each change says what a recorded field became, so that a change of what
 * the fold computes still fails.
 */
/** The time (ms) of the latest event of a stream in the history. */
function latestTimeOf(history: FrozenHistory, streamId: string): number {
  const times = history.events
    .filter((e) => e.streamId === streamId)
    .map((e) => Date.parse((e.data as { at: string }).at));
  return Math.max(...times);
}

function inThisBuildsShape(
  aggregate: string,
  state: unknown,
  now: unknown,
  history: FrozenHistory,
  streamId: string,
): unknown {
  if (state === null || typeof state !== 'object') return state;
  // Trader orders snapshot version 3: when orders were last let go, the latest event's time.
  if (aggregate === 'trader-orders' && !('forgottenBefore' in state))
    return { ...state, forgottenBefore: latestTimeOf(history, streamId) };
  // User snapshot version 2: every password change ended the user's sessions; nobody was forgotten yet.
  if (aggregate === 'user' && !('sessions' in state)) {
    const ended = history.events.filter((e) => e.streamId === streamId && e.type === 'UserPasswordChanged').length;
    return { ...state, sessions: ended, forgotten: false };
  }
  if (aggregate !== 'market' || !('latestAt' in state)) return state;
  // Market snapshot version 2: the latest event's time gave way to when orders were last let
  // go (the broker's initial units, say, are forgotten once sold): some event's time, never
  // after the latest's. Anything else stays recorded as it was, and fails.
  const { latestAt, ...rest } = state as Record<string, unknown>;
  const forgottenBefore = (now as { forgottenBefore?: unknown } | null)?.forgottenBefore;
  const plausible =
    forgottenBefore === null ||
    (typeof forgottenBefore === 'number' && typeof latestAt === 'number' && forgottenBefore <= latestAt);
  return { ...rest, forgottenBefore: plausible ? forgottenBefore : { latestAt } };
}

function differences(recorded: unknown, actual: unknown, path: string): string[] {
  const mismatch = [`${path}: recorded ${JSON.stringify(recorded)}, now ${JSON.stringify(actual)}`];
  if (recorded === null || typeof recorded !== 'object') return Object.is(recorded, actual) ? [] : mismatch;
  if (actual === null || typeof actual !== 'object' || Array.isArray(recorded) !== Array.isArray(actual))
    return mismatch;
  if (Array.isArray(recorded)) {
    const now = actual as unknown[];
    if (now.length !== recorded.length) return [`${path}: recorded ${recorded.length} items, now ${now.length}`];
    return recorded.flatMap((item, i) => differences(item, now[i], `${path}[${i}]`));
  }
  const now = actual as Record<string, unknown>;
  const added = Object.keys(now)
    .filter((key) => !(key in recorded))
    .map((key) => `${path}.${key}: not recorded, now ${JSON.stringify(now[key])}`);
  return Object.entries(recorded)
    .flatMap(([key, value]) =>
      key in now
        ? differences(value, now[key], `${path}.${key}`)
        : [`${path}.${key}: recorded ${JSON.stringify(value)}, now missing`],
    )
    .concat(added);
}
