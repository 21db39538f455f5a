/**
 * bench:history, part `store`: the embedded event store grown to BENCH_STORE_EVENTS
 * (5,000,000). The same window of BENCH_STORE_WINDOW appends (16 writers, one event each,
 * expected revisions, 10,000 streams) is timed on the empty store and again at the end;
 * `$all` is read from the start at both points; the files are measured; then the server
 * is started on the grown store twice (the first start lets every projection pass the
 * events, which are none of theirs) and the second start is timed to `/ready`.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteEventStore } from '../../infra/sqlite/event-store/sqlite-event-store.js';
import type { EventStore } from '../../infra/eventsourcing/event-store/event-store.js';
import { loadConfig } from '../../infra/config/config.js';
import { pageCaches } from '../../infra/composition-root/system.js';
import { cleanEnv } from '../support/process.js';
import { catchUp } from './event-store-runs.js';
import { envNumber, printTable, rate } from './report.js';
import { startServer, untilReady } from './server-watch.js';
import { percentileOf } from './trading-load.js';

const STREAMS = 10_000;
const rateOf = (read: { events: number; ms: number }) => rate(read.events, read.ms);
const WRITERS = 16;
const TARGET_APPEND_RATIO = 0.8;
const TARGET_READY_MS = 5_000;

interface Window {
  appendsPerSecond: number;
  p99: number;
  bytesWrittenPerEvent: number;
}

export async function storeRun(dataDir: string): Promise<string[]> {
  const total = envNumber('BENCH_STORE_EVENTS', 5_000_000);
  const window = envNumber('BENCH_STORE_WINDOW', 100_000);
  console.log(
    `\nstore: ${total.toLocaleString('en-US')} events in ${STREAMS.toLocaleString('en-US')} streams; windows of ${window.toLocaleString('en-US')} appends by ${WRITERS} writers`,
  );
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'events.db');
  // The page caches a server process gives its event store (EMBEDDED_PAGE_CACHE_MB's default, shared out by role).
  const store = openSqliteEventStore({
    file,
    durability: 'full',
    pageCacheMb: pageCaches(loadConfig(cleanEnv()), 'api').events,
  });
  const revisions = new Map<string, number>();
  const empty = await appendWindow(store, revisions, window);
  const readEmpty = rateOf(await catchUp(store));
  const growStarted = performance.now();
  await grow(store, revisions, total - 2 * window);
  const growMs = performance.now() - growStarted;
  const full = await appendWindow(store, revisions, window);
  const readFull = rateOf(await catchUp(store));
  await store.close();
  const sizes = ['events.db', 'events.db-wal'].map((name) => `${name} ${fileMb(join(dataDir, name))}`).join(', ');

  let server = await startServer(dataDir);
  const firstReadyMs = await untilReady(server.baseUrl);
  await server.stop();
  const restartedAt = performance.now();
  server = await startServer(dataDir);
  const readyMs = performance.now() - restartedAt + (await untilReady(server.baseUrl));
  await server.stop();

  const ratio = full.appendsPerSecond / empty.appendsPerSecond;
  printTable('store: the embedded event store as it grows', [
    [
      'appends/s, p99 (ms), bytes written per event — empty store',
      `${empty.appendsPerSecond.toLocaleString('en-US')}, ${empty.p99.toFixed(2)}, ${empty.bytesWrittenPerEvent.toFixed(0)}`,
    ],
    [
      `— at ${total.toLocaleString('en-US')} events`,
      `${full.appendsPerSecond.toLocaleString('en-US')}, ${full.p99.toFixed(2)}, ${full.bytesWrittenPerEvent.toFixed(0)}`,
    ],
    [
      '$all catch-up from the start (events/s): empty / full',
      `${readEmpty.toLocaleString('en-US')} / ${readFull.toLocaleString('en-US')}`,
    ],
    ['growing the rest (100-event appends)', `${rate(total - 2 * window, growMs).toLocaleString('en-US')} events/s`],
    ['files', sizes],
    [
      'server start to /ready: first (projections pass every event) / restart',
      `${(firstReadyMs / 1000).toFixed(1)} s / ${(readyMs / 1000).toFixed(1)} s`,
    ],
  ]);
  const missed: string[] = [];
  if (ratio < TARGET_APPEND_RATIO) missed.push(`appends/s at ${total} events ${ratio.toFixed(2)}× an empty store's`);
  if (readyMs > TARGET_READY_MS) missed.push(`restart to /ready ${(readyMs / 1000).toFixed(1)} s`);
  console.log(
    `  targets: appends/s ≥ ${TARGET_APPEND_RATIO}× empty (${ratio.toFixed(2)}×), restart to /ready ≤ ${TARGET_READY_MS / 1000} s: ${missed.length === 0 ? 'ok' : 'MISSED'}`,
  );
  return missed;
}

/** `count` single-event appends with expected revisions by WRITERS writers, each on streams of its own. */
async function appendWindow(store: EventStore, revisions: Map<string, number>, count: number): Promise<Window> {
  const latencies = new Float64Array(count);
  let next = 0;
  const writtenBefore = bytesWritten();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = next++; i < count; i = next++) {
        const stream = `bench-${(i * WRITERS + w) % STREAMS}`;
        const t0 = performance.now();
        const result = await store.appendToStream(stream, [event(i)], {
          expectedRevision: revisions.get(stream) ?? 'no_stream',
        });
        latencies[i] = performance.now() - t0;
        revisions.set(stream, result.nextExpectedRevision);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort();
  return {
    appendsPerSecond: rate(count, elapsed),
    p99: percentileOf(latencies, 99),
    bytesWrittenPerEvent: (bytesWritten() - writtenBefore) / count,
  };
}

/** Appends `count` events in appends of 100 to the same streams, as fast as the store takes them. */
async function grow(store: EventStore, revisions: Map<string, number>, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = next; i < count; i = next) {
        next += 100;
        const stream = `bench-${(Math.floor(i / 100) * WRITERS + w) % STREAMS}`;
        const events = Array.from({ length: Math.min(100, count - i) }, (_, k) => event(i + k));
        const result = await store.appendToStream(stream, events, {
          expectedRevision: revisions.get(stream) ?? 'no_stream',
        });
        revisions.set(stream, result.nextExpectedRevision);
      }
    }),
  );
}

function event(i: number) {
  return {
    id: crypto.randomUUID(),
    type: 'BenchCredited',
    data: { accountId: `acc-${i % STREAMS}`, amount: 1000 + (i % 977), at: '2026-12-07T12:00:00.000Z' },
  };
}

/** Bytes this process (all its threads) has caused to be written to storage so far (/proc/self/io). */
function bytesWritten(): number {
  try {
    const line = readFileSync('/proc/self/io', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('write_bytes:'));
    return line ? Number(line.split(/\s+/)[1]) : 0;
  } catch {
    return 0;
  }
}

function fileMb(path: string): string {
  try {
    return `${(statSync(path).size / 1024 / 1024).toFixed(0)} MB`;
  } catch {
    return '–';
  }
}
