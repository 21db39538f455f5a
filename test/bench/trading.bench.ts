/**
 * npm run bench:trading — many traders on many items place crossing buy and sell orders
 * over HTTP, on the embedded default (SQLite event store, EMBEDDED_DURABILITY=full), and
 * every deal they make is followed to its end (payment, accrual, commissions, completion,
 * history, statistics), driven by the process managers and projections of the server.
 *
 * The server under test is the product as `npm start` composes it, in its own process
 * (http-server-process.ts in `api` mode, spoken to through http-child.ts); the load
 * generators and the probes run here. The broker is provisioned by the CLI on the data
 * directory before the server starts.
 *
 * Set-up (not measured): the broker lists BENCH_ITEMS items (commission 1 %, the broker's
 * units resting at 150); BENCH_TRADERS traders plus BENCH_PROBES probe traders register,
 * log in and deposit enough; the first half of the traders ("sellers") buy BENCH_UNITS
 * units of every item from the broker at 150, and those deals are waited for.
 *
 * 1. Peak run (closed loop, autocannon, BENCH_CONNECTIONS connections): every seller's
 *    units are offered at 100 and the second half of the traders bid 100 on the same
 *    items, as sell/buy pairs (which of the two goes first alternates): whichever of a
 *    pair arrives second matches the other, so about half of the placements answer with
 *    a deal (`paymentPending` / `dealPending`). Measures orders/s accepted (202s).
 * 2. Half-rate run (open loop, paced at 50 % of the peak's orders/s for BENCH_SECONDS):
 *    the same with the roles swapped (the peak's buyers sell the units they bought), plus
 *    BENCH_PROBES probe buyers measuring the lag from a 202 to the deal in the buyer's
 *    history (trading-probe.ts) for about BENCH_LAG_SAMPLES deals.
 * For each run: deals created (DealOpened events in the server's log, counted read-only
 * in its events.db; per second from the 202s) against deals completed end to end (the
 * public statistics, sampled every 250 ms: trading-progress.ts) over time, the backlog
 * when the load stops and the time to drain it.
 *
 * Checks at the end, once everything drained (reads at the event store's head with
 * X-Event-Position): money conserved (every balance, the broker's included, adds up to
 * what was deposited), every deal opened completed (DealCompleted in the log and the
 * statistics count = DealOpened, none failed, no order still in a deal), every unit
 * accounted for (portfolios add up to the units listed); and the operator's `check`
 * (domain/audit.ts, `auditLog`) over the whole log: the same rules read from the events.
 *
 * Tunables: BENCH_ITEMS (20), BENCH_TRADERS (200), BENCH_UNITS (4: units each seller buys
 * per item, which sizes the peak run at 2 × sellers × items × units orders), BENCH_CONNECTIONS
 * (50), BENCH_SECONDS (15), BENCH_LAG_SAMPLES (200), BENCH_PROBES (4), BENCH_DRAIN_TIMEOUT
 * (300 s), BENCH_RATE (orders/s of the paced run instead of half the peak's),
 * BENCH_CPU_PROF=1 (V8 CPU profile of the server for each measured window, summarised here
 * and kept on disk), BENCH_SERVER_NODE_OPTIONS (node flags of the server),
 * BENCH_SSE_CLIENTS (0: live streams open through the runs, each checked for its letters at the end),
 * BENCH_PAUSE_PROJECTIONS=1 (an experiment: what the request thread accepts without the
 * process managers, which stop for each load and catch up after it).
 * The machine is described at the start and the end (load average, the CPU check of
 * machine.ts, fdatasync latency): compare runs only where the CPU checks agree.
 * A benchmark, not a test: missed targets are printed, the exit code is 0. It is 1 only
 * when the run itself is wrong (set-up failed, or money or units do not add up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatPosition } from '../../infra/eventsourcing/event-store/position.js';
import { ServerProcess, type ServerStats } from './http-child.js';
import { printProfile } from './http-profile.js';
import { cpuCheckText, loadAverage } from './machine.js';
import { envNumber, printTable, rate } from './report.js';
import { getAt, inPool } from './trading-http.js';
import { closedLoop, paced, percentileOf, type LoadResult } from './trading-load.js';
import { runProbes, type ProbeResult } from './trading-probe.js';
import { CompletedDeals, DealEvents } from './trading-progress.js';
import {
  BROKER,
  auditLog,
  checkConservation,
  COMMISSION_PERCENT,
  DEPOSIT,
  LIST_PRICE,
  PRICE,
  Tally,
  deposit,
  fsyncLatency,
  later,
  listItems,
  live,
  logIn,
  money,
  placementRequest,
  provisionBroker,
  registerUsers,
  secondsText,
  type Placement,
  type User,
} from './trading-setup.js';
import { openLiveStreams } from './trading-sse.js';

const itemCount = envNumber('BENCH_ITEMS', 20);
const traderCount = Math.max(2, envNumber('BENCH_TRADERS', 200));
const units = envNumber('BENCH_UNITS', 4);
const connections = envNumber('BENCH_CONNECTIONS', 50);
const seconds = envNumber('BENCH_SECONDS', 15);
const lagSamples = envNumber('BENCH_LAG_SAMPLES', 200);
const probeCount = envNumber('BENCH_PROBES', 4);
const drainTimeoutMs = envNumber('BENCH_DRAIN_TIMEOUT', 300) * 1000;
const fixedRate = process.env.BENCH_RATE ? envNumber('BENCH_RATE', 1) : null;
const profiling = process.env.BENCH_CPU_PROF === '1';
const serverNodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS ?? '';
/** Live streams (`GET /notifications/stream`) kept open through the measured runs (trading-sse.ts). */
const sseClients = envNumber('BENCH_SSE_CLIENTS', 0);

const TARGET_ORDERS = 1_500;
const TARGET_LAG_P99_MS = 250;
/** Deals keep pace when they complete at ≥ 95 % of the rate they are created and the backlog at the end drains within 1 s. */
const PACE_RATIO = 0.95;
const PACE_DRAIN_S = 1;

interface RunReport {
  name: string;
  load: LoadResult;
  tally: Tally;
  startedAt: number;
  endedAt: number;
  /** Deals completed (all time, the statistics) when the load started and ended. */
  completedAtStart: number;
  completedAtEnd: number;
  /** Deals opened and not failed (all time, set-up included; DealOpened − DealFailed in the log) when the load started and ended. */
  createdAtStart: number;
  createdAtEnd: number;
  /** The same once the run's last placement (a probe's) was answered: what completion must reach. */
  createdTotal: number;
  drainedAt: number | null;
  completedAfterDrain: number;
  loadStats: ServerStats;
  drainStats: ServerStats;
  samples: CompletedDeals;
  offeredRate?: number;
  probes?: ProbeResult;
}

/**
 * One measured run: `drive` sends the load and answers once it is all answered; `tail`,
 * if any, is what still runs after it (the probes finishing their last sample).
 */
async function measuredRun(
  name: string,
  server: ServerProcess,
  counter: CompletedDeals,
  dealEvents: DealEvents,
  drive: (tally: Tally) => Promise<{ load: LoadResult; tail?: Promise<ProbeResult> }>,
): Promise<RunReport> {
  const completedAtStart = await counter.read();
  const createdAtStart = live(dealEvents.update());
  if (completedAtStart !== createdAtStart)
    console.log(`  note: ${completedAtStart} deals completed before ${name}, ${createdAtStart} opened`);
  await server.mark();
  counter.start(250);
  const startedAt = performance.now();
  const tally = new Tally(startedAt);
  const { load, tail } = await drive(tally);
  // The load's own end (its last answer), not now: a closed-loop run is reported done up to a second late.
  const endedAt = startedAt + load.seconds * 1000;
  const loadStats = await server.stats();
  await server.mark('drain');
  const completedAtEnd = await counter.read();
  const createdAtEnd = live(dealEvents.update());
  const probes = await tail;
  const createdTotal = live(dealEvents.update());
  const drained = await counter.waitFor(createdTotal, drainTimeoutMs);
  await counter.stop();
  const drainStats = await server.stats();
  return {
    name,
    load,
    tally,
    startedAt,
    endedAt,
    completedAtStart,
    completedAtEnd,
    createdAtStart,
    createdAtEnd,
    createdTotal,
    drainedAt: drained.at,
    completedAfterDrain: drained.completed,
    loadStats,
    drainStats,
    samples: counter,
    probes,
  };
}

// ---- printing ----

const ms = (value: number) => value.toFixed(1);
const per = (value: number | undefined, by: number) => (by === 0 ? '–' : ((value ?? 0) / by).toFixed(2));
const pctOfCore = (stats: ServerStats) => `${((100 * stats.cpuMs) / stats.wallMs).toFixed(0)} %`;

function runFigures(r: RunReport) {
  const loadMs = r.endedAt - r.startedAt;
  const created = r.createdTotal - r.createdAtStart;
  const createdDuringLoad = r.createdAtEnd - r.createdAtStart;
  const completedDuringLoad = r.completedAtEnd - r.completedAtStart;
  const backlog = r.createdAtEnd - r.completedAtEnd;
  const drainMs = r.drainedAt === null ? null : r.drainedAt - r.endedAt;
  const createdRate = rate(createdDuringLoad, loadMs);
  const completedRate = rate(completedDuringLoad, loadMs);
  const endToEndMs = (r.drainedAt ?? performance.now()) - r.startedAt;
  const keepsPace = completedRate >= PACE_RATIO * createdRate && drainMs !== null && drainMs <= PACE_DRAIN_S * 1000;
  return { loadMs, created, completedDuringLoad, backlog, drainMs, createdRate, completedRate, endToEndMs, keepsPace };
}

function runRows(r: RunReport): Array<[string, string | number]> {
  const f = runFigures(r);
  const { load } = r;
  const statuses = Object.entries(load.statusCounts)
    .map(([code, n]) => `${code}: ${n.toLocaleString('en-US')}`)
    .join(', ');
  const rows: Array<[string, string | number]> = [];
  if (r.offeredRate !== undefined) rows.push(['offered rate (orders/s, paced)', r.offeredRate]);
  rows.push(
    ['orders sent', load.sent],
    ['orders/s accepted (202)', rate(r.tally.acceptedAt.length, f.loadMs)],
    [
      'placement latency p50 / p99 / max (ms)',
      `${ms(percentileOf(load.latencies, 50))} / ${ms(percentileOf(load.latencies, 99))} / ${ms(load.latencies[load.latencies.length - 1] ?? 0)}`,
    ],
    ['load duration', secondsText(f.loadMs)],
    ['status codes', statuses || '–'],
    [
      '202 answering in a deal / resting',
      `${r.tally.dealAt.length.toLocaleString('en-US')} / ${r.tally.rested.toLocaleString('en-US')}`,
    ],
    ['deals opened (DealOpened in the log, probes included)', f.created],
    ['connection errors (timeouts)', `${load.errors} (${load.timeouts})`],
  );
  if (load.sendDelays) {
    rows.push([
      'send delay vs schedule p50 / p99 / max (ms)',
      `${ms(percentileOf(load.sendDelays, 50))} / ${ms(percentileOf(load.sendDelays, 99))} / ${ms(load.sendDelays[load.sendDelays.length - 1] ?? 0)}`,
    ]);
  }
  rows.push(
    ['deals created/s during the load', f.createdRate],
    ['deals completed/s during the load', f.completedRate],
    ['completion / creation rate', f.createdRate === 0 ? '–' : (f.completedRate / f.createdRate).toFixed(2)],
    ['backlog when the load stopped (deals)', f.backlog],
    [
      'time to drain it',
      f.drainMs === null
        ? `NOT DRAINED within ${secondsText(drainTimeoutMs)} (${r.createdTotal - r.completedAfterDrain} left)`
        : secondsText(f.drainMs),
    ],
    ['deals/s completed end to end (load start → drained)', rate(f.created, f.endToEndMs)],
    [
      'server CPU during load / drain (of one core, all threads)',
      `${pctOfCore(r.loadStats)} / ${pctOfCore(r.drainStats)}`,
    ],
    [
      'server event loop busy during load / drain',
      `${(100 * r.loadStats.eventLoopUtilization).toFixed(0)} % / ${(100 * r.drainStats.eventLoopUtilization).toFixed(0)} %`,
    ],
    ['server CPU per order during load (ms)', per(r.loadStats.cpuMs, load.sent)],
    ['load generator CPU (of one core)', `${((100 * load.generatorCpuMs) / f.loadMs).toFixed(0)} %`],
  );
  return rows;
}

/** Per-bucket rates over the load and the drain: accepted, created, completed, backlog. */
function timelineRows(r: RunReport): Array<[string, string]> {
  const end = r.drainedAt ?? r.samples.samples[r.samples.samples.length - 1]?.at ?? r.endedAt;
  const total = end - r.startedAt;
  const bucketMs = Math.max(1000, Math.ceil(total / 30 / 1000) * 1000);
  const rows: Array<[string, string]> = [];
  const before = r.createdAtStart;
  let created = 0;
  for (let from = r.startedAt; from < end; from += bucketMs) {
    const to = Math.min(end, from + bucketMs);
    const span = to - from;
    const a = r.tally.acceptedAt.filter((t) => t >= from && t < to).length;
    const c = r.tally.dealAt.filter((t) => t >= from && t < to).length;
    created += c;
    const doneFrom = r.samples.countAt(from, r.completedAtStart);
    const doneTo = r.samples.countAt(to, r.completedAtStart);
    const label = `${((from - r.startedAt) / 1000).toFixed(0).padStart(4)}–${((to - r.startedAt) / 1000).toFixed(0).padEnd(4)} s${to <= r.endedAt ? '' : from >= r.endedAt ? ' (drain)' : ' (load ends)'}`;
    rows.push([
      label,
      `${String(rate(a, span)).padStart(6)} ${String(rate(c, span)).padStart(8)} ${String(rate(doneTo - doneFrom, span)).padStart(10)} ${String(Math.max(0, before + created - doneTo)).padStart(8)}`,
    ]);
  }
  return [
    [
      'window',
      `${'202/s'.padStart(6)} ${'created/s'.padStart(8)} ${'completed/s'.padStart(10)} ${'backlog'.padStart(8)}`,
    ],
    ...rows,
  ];
}

function callRows(stats: ServerStats, by: number, unit: string): Array<[string, string]> {
  return Object.entries(stats.calls)
    .filter(([name]) => !name.startsWith('read store get'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => [`${name} per ${unit}`, per(n, by)]);
}

function targetLine(label: string, value: string, met: boolean): string {
  return `  ${label.padEnd(58)} ${value.padStart(14)}  ${met ? 'ok' : 'MISSED'}`;
}

// ---- main ----

const root = mkdtempSync(join(tmpdir(), 'market-bench-trading-'));
const profileDir = profiling ? mkdtempSync(join(tmpdir(), 'market-bench-trading-prof-')) : null;
const dataDir = join(root, 'api');
let server: ServerProcess | null = null;
let dealEvents: DealEvents | null = null;

try {
  const sellerCount = Math.floor(traderCount / 2);
  const peakOrders = 2 * sellerCount * itemCount * units;
  console.log(
    `bench:trading: ${traderCount} traders (${sellerCount} sellers, ${traderCount - sellerCount} buyers) + ${probeCount} probes on ${itemCount} items; ` +
      `peak run of ${peakOrders.toLocaleString('en-US')} orders over ${connections} connections, then ~${seconds} s paced at 50 % of the peak with lag probes`,
  );
  console.log(
    '  server: the product (api mode of http-server-process.ts) in its own process, EMBEDDED_DURABILITY=full (the WAL is synced on every commit)',
  );
  console.log(
    `  every placement: its own Idempotency-Key, no If-Match; asks and bids at ${PRICE}, commission ${COMMISSION_PERCENT} %; data in ${root}`,
  );
  console.log(
    `  load average now: ${loadAverage()} on ${cpus().length} cores (other work on the machine takes CPU from the server: figures are then lower bounds)`,
  );
  console.log(`  CPU check now: ${cpuCheckText()}`);
  if (process.env.BENCH_PAUSE_PROJECTIONS === '1') {
    console.log(
      '  EXPERIMENT BENCH_PAUSE_PROJECTIONS=1: the process managers stop for each load and catch up after it; only orders/s means anything, the targets do not apply',
    );
  }

  const disk = fsyncLatency(dataDir);
  console.log(
    `  fdatasync of 4 KiB in the data directory now: p50 ${disk.p50.toFixed(3)} ms, p99 ${disk.p99.toFixed(3)} ms (one per event store commit, on the server's main thread)`,
  );

  // -- set-up --
  const setupStarted = performance.now();
  await provisionBroker(dataDir);
  server = await ServerProcess.start({
    mode: 'api',
    env: {
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      EMBEDDED_DURABILITY: 'full',
      LOG_LEVEL: 'silent',
      ...(profileDir ? { BENCH_CPU_PROF_DIR: profileDir } : {}),
      ...(serverNodeOptions ? { NODE_OPTIONS: serverNodeOptions } : {}),
    },
  });
  const { baseUrl } = server;
  console.log(`server: pid ${server.pid}, ${baseUrl}`);
  const brokerToken = await logIn(baseUrl, BROKER.email, BROKER.password);
  // The broker's id from its token: the profile view may still be catching up with a fresh start.
  const brokerId = (JSON.parse(Buffer.from(brokerToken.split('.')[1]!, 'base64url').toString()) as { userId: string })
    .userId;
  const broker: User = { id: brokerId, email: BROKER.email, token: brokerToken };
  const initialCount = Math.min(10_000, sellerCount * units + 10);
  const itemIds = await listItems(baseUrl, broker, itemCount, initialCount);

  const registered = await registerUsers(baseUrl, 'trader', traderCount);
  const probesRegistered = await registerUsers(baseUrl, 'probe', probeCount);
  const traders = registered.users;
  const probeUsers = probesRegistered.users;
  const sellers = traders.slice(0, sellerCount);
  const buyers = traders.slice(sellerCount);
  // Accounts are opened by a process manager reacting to the registration: wait for them.
  const registeredAt = later(registered.position, probesRegistered.position);
  const setupDeadline = performance.now() + 120_000;
  await inPool([...traders, ...probeUsers, broker], 8, (u) =>
    getAt(
      baseUrl,
      '/api/v1/billing/account',
      u.token,
      registeredAt ? formatPosition(registeredAt) : null,
      setupDeadline,
    ),
  );

  // Enough money for every purchase with 50 % to spare: a declined payment would fail a deal.
  const buysPerTrader = Math.ceil(peakOrders / 2 / Math.min(sellers.length, buyers.length));
  const need =
    (units * itemCount * LIST_PRICE * (1 + COMMISSION_PERCENT / 100) +
      buysPerTrader * PRICE * (1 + COMMISSION_PERCENT / 100)) *
    1.5;
  const perTrader = Math.max(1, Math.ceil(need / DEPOSIT));
  const perProbe = Math.max(1, Math.ceil(((lagSamples / probeCount) * 4 * PRICE * 1.01) / DEPOSIT));
  const deposited = await deposit(baseUrl, [
    ...traders.map((user) => ({ user, count: perTrader })),
    ...probeUsers.map((user) => ({ user, count: perProbe })),
  ]);

  // The sellers buy their units from the broker (each bid at the broker's price takes one of its resting units).
  const setupTally = new Tally(performance.now());
  const setupCount = sellers.length * itemCount * units;
  const setupLoad = await closedLoop({
    baseUrl,
    connections,
    amount: setupCount,
    next: (k) =>
      placementRequest(
        {
          user: sellers[k % sellers.length]!,
          side: 'purchase',
          itemId: itemIds[Math.floor(k / sellers.length) % itemCount]!,
          price: LIST_PRICE,
        },
        `setup-${k}`,
      ),
    onAnswer: (_i, status, body, atMs) => setupTally.record(status, body, atMs),
  });
  if (setupTally.dealAt.length !== setupCount) {
    throw new Error(
      `set-up purchases: ${setupTally.dealAt.length} of ${setupCount} opened a deal (${JSON.stringify(setupLoad.statusCounts)}; ${setupLoad.firstErrors.join(' | ')})`,
    );
  }
  const counter = new CompletedDeals(baseUrl);
  dealEvents = new DealEvents(join(dataDir, 'events.db'));
  const setupOpened = dealEvents.update().opened;
  if (setupOpened !== setupCount) throw new Error(`set-up purchases opened ${setupOpened} deals, not ${setupCount}`);
  const setupLoadEnded = performance.now();
  const setupDrained = await counter.waitFor(setupCount, drainTimeoutMs);
  if (setupDrained.at === null)
    throw new Error(
      `set-up deals did not complete within ${secondsText(drainTimeoutMs)}: ${setupDrained.completed} of ${setupCount}`,
    );
  console.log(
    `set-up: broker, ${itemCount} items of ${initialCount} units, ${traderCount + probeCount} traders with ${money(deposited)} deposited, ` +
      `${setupCount.toLocaleString('en-US')} purchases from the broker (${rate(setupCount, setupLoad.seconds * 1000)} orders/s, each a deal; ` +
      `all completed ${secondsText(setupDrained.at - setupLoadEnded)} after the last 202) in ${secondsText(performance.now() - setupStarted)}`,
  );

  const streams = sseClients > 0 ? await openLiveStreams(baseUrl, traders, sseClients) : null;
  if (streams) console.log(`live streams: ${sseClients} open over ${traders.length} traders`);

  // -- 1. peak run: sellers offer every unit, buyers bid, in crossing pairs --
  const peakPairs = peakOrders / 2;
  const peakPlacement = (k: number): Placement => {
    const p = Math.floor(k / 2);
    const item = p % itemCount;
    const sellFirst = p % 2 === 0;
    const sell = (k % 2 === 0) === sellFirst;
    // Pair p: seller floor(p / items) mod sellers on item p mod items, so each seller offers each item `units` times.
    const user = sell
      ? sellers[Math.floor(p / itemCount) % sellers.length]!
      : buyers[(p + Math.floor(p / itemCount)) % buyers.length]!;
    return { user, side: sell ? 'sell' : 'purchase', itemId: itemIds[item]!, price: PRICE };
  };
  console.log(
    `\n1. peak run: ${peakOrders.toLocaleString('en-US')} orders (${peakPairs.toLocaleString('en-US')} crossing pairs), ${connections} connections, closed loop`,
  );
  const peak = await measuredRun('the peak run', server, counter, dealEvents, async (tally) => {
    const load = await closedLoop({
      baseUrl,
      connections,
      amount: peakOrders,
      next: (k) => placementRequest(peakPlacement(k), `peak-${k}`),
      onAnswer: (_i, status, body, atMs) => tally.record(status, body, atMs),
    });
    return { load };
  });
  const peakFigures = runFigures(peak);
  const peakRate = rate(peak.tally.acceptedAt.length, peakFigures.loadMs);
  console.log(
    `  ${peakRate.toLocaleString('en-US')} orders/s accepted; ${peakFigures.backlog.toLocaleString('en-US')} deals behind when the load stopped; ${peakFigures.drainMs === null ? 'not drained' : `drained in ${secondsText(peakFigures.drainMs)}`}`,
  );

  // -- 2. half-rate run: the peak's buyers sell what they bought, the sellers buy; probes measure the lag --
  let head = String(peak.drainStats.extra.eventStoreHead ?? '');
  const checkDeadline = () => performance.now() + 120_000;
  const holdings = await inPool(buyers, 8, async (user) => {
    const answer = await getAt(
      baseUrl,
      '/api/v1/trading/user-items?limit=500',
      user.token,
      head || null,
      checkDeadline(),
    );
    return (answer.body as Array<{ id: string; count: number; onSaleCount: number }>).map((h) => ({
      itemId: h.id,
      free: h.count - h.onSaleCount,
    }));
  });
  // Units free to sell, per item: a queue of sellers, one entry per unit.
  const unitsByItem = new Map<string, User[]>(itemIds.map((id) => [id, []]));
  holdings.forEach((list, b) => {
    for (const h of list)
      unitsByItem.get(h.itemId)?.push(...Array.from({ length: Math.max(0, h.free) }, () => buyers[b]!));
  });
  const freeUnits = [...unitsByItem.values()].reduce((n, q) => n + q.length, 0);
  // A few asks rest on every item for the probes to take: in the paced run a pair's second
  // order meets its first within a millisecond or so, so the books are otherwise empty and
  // a probe bid would nearly always come to rest. The pairs keep this reserve level (a buy
  // takes the oldest ask, the pair's sell rests in its place); each probe sample uses one.
  const reservePerItem = Math.ceil((1.5 * lagSamples) / itemCount) + 5;
  const reservePlan: Array<{ seller: User; itemId: string }> = [];
  for (const itemId of itemIds) {
    const queue = unitsByItem.get(itemId)!;
    for (let r = 0; r < reservePerItem && queue.length > 0; r++)
      reservePlan.push({ seller: queue.splice((r * 7919) % queue.length, 1)[0]!, itemId });
  }
  const reserveTally = new Tally(performance.now());
  const reserveLoad = await closedLoop({
    baseUrl,
    connections: Math.min(connections, reservePlan.length),
    amount: reservePlan.length,
    next: (k) =>
      placementRequest(
        { user: reservePlan[k]!.seller, side: 'sell', itemId: reservePlan[k]!.itemId, price: PRICE },
        `reserve-${k}`,
      ),
    onAnswer: (_i, status, body, atMs) => reserveTally.record(status, body, atMs),
  });
  if (reserveTally.acceptedAt.length !== reservePlan.length)
    throw new Error(`reserve asks: ${JSON.stringify(reserveLoad.statusCounts)} ${reserveLoad.firstErrors.join(' | ')}`);
  if ((await counter.waitFor(live(dealEvents.update()), drainTimeoutMs)).at === null)
    throw new Error('deals of the reserve asks did not complete');
  const unitsLeft = freeUnits - reservePlan.length;
  const halfRate = fixedRate ?? Math.max(1, Math.floor(peakRate / 2));
  const halfPairs = Math.min(Math.round((halfRate * seconds) / 2), unitsLeft);
  const halfPlan: Array<{ seller: User; buyer: User; itemId: string }> = [];
  for (let p = 0; p < halfPairs; p++) {
    // Items in turn; an item whose units ran out gives way to the one with the most left.
    let itemId = itemIds[p % itemCount]!;
    if (unitsByItem.get(itemId)!.length === 0)
      itemId = [...unitsByItem.entries()].sort((a, b) => b[1].length - a[1].length)[0]![0];
    const queue = unitsByItem.get(itemId)!;
    // Spread each item's units over its holders rather than emptying one holder first.
    const seller = queue.splice((p * 7919) % queue.length, 1)[0]!;
    halfPlan.push({ seller, buyer: sellers[p % sellers.length]!, itemId });
  }
  const halfOrders = halfPlan.length * 2;
  console.log(
    `\n2. half-rate run: ${halfOrders.toLocaleString('en-US')} orders paced at ${halfRate.toLocaleString('en-US')}/s (${fixedRate ? 'BENCH_RATE' : '50 % of the peak'}; ` +
      `${unitsLeft.toLocaleString('en-US')} units free to sell after ${reservePlan.length} asks placed as the probes' reserve), ${probeCount} probes for ~${lagSamples} lag samples`,
  );
  let loadDone = false;
  const half = await measuredRun('the half-rate run', server, counter, dealEvents, async (tally) => {
    const loadPromise = paced({
      baseUrl,
      rate: halfRate,
      maxInFlight: 512,
      amount: halfOrders,
      next: (k) => {
        const pair = halfPlan[Math.floor(k / 2)]!;
        const sell = (k % 2 === 0) === (Math.floor(k / 2) % 2 === 0);
        return placementRequest(
          {
            user: sell ? pair.seller : pair.buyer,
            side: sell ? 'sell' : 'purchase',
            itemId: pair.itemId,
            price: PRICE,
          },
          `half-${k}`,
        );
      },
      onAnswer: (_i, status, body, atMs) => tally.record(status, body, atMs),
    }).finally(() => (loadDone = true));
    const probesPromise = runProbes({
      baseUrl,
      probes: probeUsers.map((u) => ({ id: u.id, token: u.token })),
      itemIds,
      price: PRICE,
      samples: lagSamples,
      durationMs: (halfOrders / halfRate) * 1000,
      stopped: () => loadDone,
      maxWaitMs: drainTimeoutMs,
    });
    return { load: await loadPromise, tail: probesPromise };
  });
  half.offeredRate = halfRate;
  head = String(half.drainStats.extra.eventStoreHead ?? '');

  // -- checks, at the head of the event store once everything drained --
  const everyone = [...traders, ...probeUsers];
  const { balanceSum, brokerBalance, moneyOk, ordersInDeal, unitsHeld, unitsOk, completedFinal, events, dealsOk } =
    await checkConservation({
      baseUrl,
      head,
      everyone,
      broker,
      itemIds,
      initialCount,
      deposited,
      counter,
      dealEvents,
    });

  const audit = await auditLog(dataDir);
  const auditOk = audit.every((r) => r.ok);

  // -- report --
  for (const r of [peak, half]) {
    printTable(
      `${r === peak ? '1. peak run (closed loop)' : '2. half-rate run (open loop, paced)'}: POST /trading/{purchase,sell}-orders`,
      runRows(r),
    );
    printTable('   timeline (per second, completed = public statistics, sampled every 250 ms)', timelineRows(r));
    const f = runFigures(r);
    printTable(
      '   server work per order during the load (appends, reads and commits counted in the server)',
      callRows(r.loadStats, r.load.sent, 'order'),
    );
    printTable(
      '   server work per deal completed during the drain',
      callRows(r.drainStats, r.createdTotal - r.completedAtEnd, 'deal'),
    );
    const commits = r.loadStats.calls['event store commits (≈)'] ?? 0;
    console.log(
      `   event store commits (one WAL fsync each): ${rate(commits, r.loadStats.wallMs).toLocaleString('en-US')}/s during the load, ` +
        `${rate(r.drainStats.calls['event store commits (≈)'] ?? 0, r.drainStats.wallMs).toLocaleString('en-US')}/s during the drain (${f.drainMs === null ? 'not drained' : secondsText(f.drainMs)})`,
    );
  }

  const probes = half.probes!;
  const visible = Float64Array.from(probes.samples.map((s) => s.visibleMs)).sort();
  const completed = Float64Array.from(probes.samples.map((s) => s.completedMs)).sort();
  printTable(
    'lag from a 202 (a probe bid that matched) to its deal, at the half-rate load (the target is judged on "visible")',
    [
      [
        'samples',
        `${probes.samples.length} of ~${lagSamples} wanted (resting bids canceled: ${probes.canceled}; matched before the cancel, not sampled: ${probes.raced}; never seen: ${probes.lost})`,
      ],
      [
        'visible: first GET /history/deals listing it p50 / p99 / max (ms)',
        `${ms(percentileOf(visible, 50))} / ${ms(percentileOf(visible, 99))} / ${ms(visible[visible.length - 1] ?? 0)}`,
      ],
      [
        'completed: its completedAt − the 202 p50 / p99 / max (ms)',
        `${ms(percentileOf(completed, 50))} / ${ms(percentileOf(completed, 99))} / ${ms(completed[completed.length - 1] ?? 0)}`,
      ],
      [
        'probe requests (bids, cancels, history polls)',
        `${probes.requests.toLocaleString('en-US')} (${rate(probes.requests, half.endedAt - half.startedAt)}/s)`,
      ],
      ['probe errors', probes.errors.length === 0 ? '0' : probes.errors.join(' | ')],
    ],
  );

  printTable('checks (reads at the event store head once drained, X-Event-Position)', [
    [
      'money',
      `${moneyOk ? 'OK' : 'MISMATCH'}: balances of ${everyone.length} traders + broker ${money(balanceSum)} ${moneyOk ? '=' : '≠'} ${money(deposited)} deposited (broker ${money(brokerBalance)})`,
    ],
    [
      'deals',
      `${dealsOk ? 'OK' : 'NOT ALL COMPLETED'}: of ${events.opened.toLocaleString('en-US')} opened (set-up included), ${events.failed} failed, ` +
        `${events.completed.toLocaleString('en-US')} completed in the log, ${completedFinal.toLocaleString('en-US')} in the statistics; orders still in a deal: ${ordersInDeal}`,
    ],
    [
      'units',
      `${unitsOk ? 'OK' : 'MISMATCH'}: portfolios add up to ${initialCount} units per item${unitsOk ? '' : ` (${itemIds.map((id) => unitsHeld.get(id) ?? 0).join(', ')})`}`,
    ],
    ['event store head', head || '–'],
    ...audit.map((r): [string, string] => [
      `log: ${r.check}`,
      `${r.ok ? 'OK' : 'VIOLATED'}: ${r.summary}${r.ok ? '' : ` — ${r.violations.slice(0, 3).join('; ')}`}`,
    ]),
  ]);

  const diskAtEnd = fsyncLatency(dataDir);
  console.log(`\nCPU check at the end: ${cpuCheckText()}`);
  console.log(
    `load average at the end: ${loadAverage()}; fdatasync of 4 KiB: p50 ${diskAtEnd.p50.toFixed(3)} ms, p99 ${diskAtEnd.p99.toFixed(3)} ms`,
  );
  const halfFigures = runFigures(half);
  const lagP99 = percentileOf(visible, 99);
  console.log('\ntargets');
  console.log(
    targetLine('>= 1,500 orders/s accepted (peak run)', peakRate.toLocaleString('en-US'), peakRate >= TARGET_ORDERS),
  );
  for (const [label, f] of [
    ['peak', peakFigures],
    ['half-rate', halfFigures],
  ] as const) {
    const value = `${f.completedRate}/${f.createdRate}/s, ${f.drainMs === null ? 'no drain' : secondsText(f.drainMs)}`;
    console.log(targetLine(`deals complete as fast as created (${label}: done/created, drain)`, value, f.keepsPace));
  }
  console.log(
    targetLine(
      `p99 lag 202 → deal in history < ${TARGET_LAG_P99_MS} ms at 50 % of peak`,
      `${ms(lagP99)} ms`,
      probes.samples.length > 0 && lagP99 < TARGET_LAG_P99_MS,
    ),
  );
  console.log(
    targetLine(
      'money conserved, units conserved, every deal completed',
      moneyOk && unitsOk && dealsOk && auditOk ? 'yes' : 'NO',
      moneyOk && unitsOk && dealsOk && auditOk,
    ),
  );
  for (const r of [peak, half])
    if (r.load.firstErrors.length > 0) console.log(`  first failures (${r.name}): ${r.load.firstErrors.join(' | ')}`);

  if (profiling) {
    for (const r of [peak, half]) {
      for (const [window, stats] of [
        ['load', r.loadStats],
        ['drain', r.drainStats],
      ] as const) {
        const file = stats.extra.cpuProfile;
        if (typeof file === 'string')
          printProfile(`CPU profile of the server, ${r.name}, ${window} (slower for being profiled)`, file, 20);
      }
    }
    console.log(
      `\nprofiles kept in ${profileDir} (open in Chrome DevTools > Performance, or: node dist/test/bench/http-profile.js <file> [top])`,
    );
  }
  if (streams) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const streamed = await streams.report(baseUrl);
    console.log(`${streamed.ok ? 'OK' : 'MISSED'}: ${streamed.line}`);
    streams.close();
    if (!streamed.ok) process.exitCode = 1;
  }
  if (!moneyOk || !unitsOk || !auditOk) process.exitCode = 1;
  await server.stop();
  server = null;
} catch (error) {
  console.error('bench:trading failed:', error);
  process.exitCode = 1;
} finally {
  dealEvents?.close();
  server?.kill();
  rmSync(root, { recursive: true, force: true });
}
