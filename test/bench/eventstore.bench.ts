/**
 * npm run bench:eventstore — the embedded event store under 16 concurrent writers on many
 * streams, against the same writes done as plain SQLite inserts, in the same run.
 * Tunables: BENCH_EVENTS (default 200000), BENCH_STREAMS (10000), BENCH_WRITERS (16).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { v4 as uuid } from 'uuid';
import { openSqliteEventStore } from '../../infra/sqlite/event-store/sqlite-event-store.js';
import { configure } from '../../infra/sqlite/event-store/schema.js';
import { catchUp } from './event-store-runs.js';
import { envNumber, percentile, printTable, rate } from './report.js';

const totalEvents = envNumber('BENCH_EVENTS', 200_000);
const streamCount = envNumber('BENCH_STREAMS', 10_000);
const writers = envNumber('BENCH_WRITERS', 16);
const dir = mkdtempSync(join(tmpdir(), 'market-bench-es-'));

function payload(i: number) {
  return {
    accountId: `acc-${i % streamCount}`,
    amount: 1000 + (i % 977),
    description: 'money deposit by user',
    at: '2026-11-21T20:00:00.000Z',
  };
}

async function eventStoreRun() {
  const store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'full' });
  const revisions = new Map<string, number>();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      // Each writer owns the streams congruent to it, so appends never conflict and every one counts.
      for (;;) {
        const i = next++;
        if (i >= totalEvents) return;
        const stream = `account-${(i * writers + w) % streamCount}`;
        const expected = revisions.get(stream) ?? 'no_stream';
        const t0 = performance.now();
        const result = await store.appendToStream(stream, [{ id: uuid(), type: 'AccountCredited', data: payload(i) }], {
          expectedRevision: expected,
        });
        latencies.push(performance.now() - t0);
        revisions.set(stream, result.nextExpectedRevision);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);

  const { events: read, ms: readElapsed } = await catchUp(store);
  await store.close();
  return { elapsed, latencies, read, readElapsed };
}

function plainInsertRun(perTransaction: number) {
  const db = new Database(join(dir, `plain-${perTransaction}.db`));
  configure(db, 'full');
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL,
    id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (stream, revision))`);
  const insert = db.prepare('INSERT INTO events (stream, revision, id, type, data) VALUES (?, ?, ?, ?, ?)');
  const many = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++)
      insert.run(
        `account-${i % streamCount}`,
        Math.floor(i / streamCount),
        uuid(),
        'AccountCredited',
        JSON.stringify(payload(i)),
      );
  });
  const started = performance.now();
  for (let i = 0; i < totalEvents; i += perTransaction) many(i, Math.min(totalEvents, i + perTransaction));
  const elapsed = performance.now() - started;
  db.close();
  return elapsed;
}

try {
  console.log(
    `bench:eventstore: ${totalEvents.toLocaleString('en-US')} events, ${streamCount.toLocaleString('en-US')} streams, ${writers} concurrent writers, synchronous=FULL (durable), data in ${dir}`,
  );
  const es = await eventStoreRun();
  const plain1 = plainInsertRun(1);
  const plain16 = plainInsertRun(writers);
  const esRate = rate(totalEvents, es.elapsed);
  const plainRate = rate(totalEvents, plain1);
  printTable('embedded event store (expected-revision appends, 1 event each)', [
    ['appends/s', esRate],
    ['events/s', esRate],
    ['append latency p50 (ms)', percentile(es.latencies, 50).toFixed(2)],
    ['append latency p99 (ms)', percentile(es.latencies, 99).toFixed(2)],
    ['$all catch-up read (events/s)', rate(es.read, es.readElapsed)],
    ['events read on catch-up', es.read],
  ]);
  printTable('baseline: the same writes as plain SQLite inserts', [
    ['1 insert per transaction (events/s)', plainRate],
    [`${writers} inserts per transaction (events/s)`, rate(totalEvents, plain16)],
  ]);
  printTable('ratios', [
    ['event store / plain inserts (1 per tx)', (esRate / plainRate).toFixed(2)],
    [`event store / plain inserts (${writers} per tx)`, (esRate / rate(totalEvents, plain16)).toFixed(2)],
  ]);
  console.log('\ntargets: >= 20,000 events/s, >= 0.5 x plain inserts, catch-up >= 200,000 events/s');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
