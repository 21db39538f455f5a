/**
 * npm run bench:http — deposits over HTTP with JWT auth on many accounts, on the embedded
 * default (SQLite event store, EMBEDDED_DURABILITY=full unless told otherwise), against the
 * same requests to a baseline Koa route that does the deposit as one plain SQLite UPDATE
 * behind the same authentication, in the same run: the ratio is the cost of event sourcing.
 *
 * The server under test runs in its own process (http-server-process.ts), the load
 * generator (autocannon) here: on 2 cores, one each. The API and the baseline run one
 * after the other, never together.
 *
 * Set-up (not measured): BENCH_USERS users registered and logged in through the API, their
 * accounts awaited (GET with X-Event-Position). Then, per server, a warm-up and a measured
 * run: BENCH_CONNECTIONS connections, each request a deposit of 1 for the next user
 * round-robin, with that user's token and its own Idempotency-Key, no If-Match (how real
 * clients send concurrent deposits). The measured run is sized from the warm-up's rate to
 * last about BENCH_SECONDS (a count, not a deadline: see http-load.ts), and its actual
 * duration is what rates are computed over. Afterwards the sum of the balances (read from
 * the API at the last X-Event-Position; from the table for the baseline) must equal the
 * 2xx deposits (warm-up + measured) × 1.
 *
 * Baselines: at the API's durability (the like-for-like one, which the ratio target is
 * judged against), and when that is `full` also at synchronous=NORMAL, for what the
 * route costs without a synced commit per request (docs/PERFORMANCE.md, "Why the code is
 * as it is", "Benchmarks").
 *
 * Tunables: BENCH_USERS (200), BENCH_CONNECTIONS (50), BENCH_SECONDS (10),
 * BENCH_WARMUP_REQUESTS (5000; a second warm-up of ~2 s follows when it was quicker),
 * BENCH_DURABILITY (full | normal: the API and the first baseline), BENCH_BASELINES
 * (both | same | none), BENCH_CPU_PROF=1 (V8 CPU profile of each server over its
 * measured run, summarised here and kept on disk),
 * BENCH_SERVER_NODE_OPTIONS (node flags of the servers, e.g. --perf-basic-prof for `perf`),
 * BENCH_EXPERIMENT (comma-separated; each takes one cost out to measure it, so the targets
 * no longer apply): projections-paused (the API's process managers, the runners of its main thread, stopped during the
 * measured run, started again before the balances are read).
 * The machine is described at the start and the end (load average, the CPU check of
 * machine.ts): compare runs only where the CPU checks agree.
 * A benchmark, not a test: missed targets are printed, the exit code is 0. It is 1 only
 * when the run itself is wrong (set-up failed, or the balances do not add up).
 */
import { call, type Answer } from './http-client.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  comparePositions,
  formatPosition,
  parsePosition,
  type Position,
} from '../../infra/eventsourcing/event-store/position.js';
import { ServerProcess, type ServerStats } from './http-child.js';
import { percentileOf, runLoad, type LoadRequest, type LoadResult } from './http-load.js';
import { printProfile } from './http-profile.js';
import { cpuCheckText, loadAverage } from './machine.js';
import { envNumber, printTable, rate } from './report.js';

const userCount = envNumber('BENCH_USERS', 200);
const connections = envNumber('BENCH_CONNECTIONS', 50);
const seconds = envNumber('BENCH_SECONDS', 10);
const warmupRequests = Math.max(envNumber('BENCH_WARMUP_REQUESTS', 5000), connections);
const durability = oneOf('BENCH_DURABILITY', ['full', 'normal'] as const, 'full');
const baselineChoice = oneOf('BENCH_BASELINES', ['both', 'same', 'none'] as const, 'both');
const profiling = process.env.BENCH_CPU_PROF === '1';
/** For perf-style sampling of the servers, e.g. `--perf-basic-prof` (then `perf record -g -p <pid>`). */
const serverNodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS ?? '';
/** Experiments that take one cost out to measure it (not the workload the targets are about). */
const EXPERIMENTS = ['projections-paused'] as const;
const experiments = (process.env.BENCH_EXPERIMENT ?? '').split(',').filter(Boolean);
for (const e of experiments) {
  if (!(EXPERIMENTS as readonly string[]).includes(e)) {
    console.error(`BENCH_EXPERIMENT takes a comma-separated list of ${EXPERIMENTS.join(', ')}; got "${e}"`);
    process.exit(2);
  }
}

const TARGET_RATE = 3_000;
const TARGET_RATIO = 0.4;
const DEPOSIT = 1;
const DEPOSIT_PATH = '/api/v1/billing/account/deposit';
const PASSWORD = 'bench-password';

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    console.error(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    process.exit(2);
  }
  return raw as T;
}

interface User {
  id: string;
  email: string;
  token: string;
}

// ---- HTTP client for set-up and checks (fetch; the load itself goes through autocannon) ----

function expectStatus(answer: Answer, status: number, what: string): void {
  if (answer.status !== status)
    throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
}

async function inPool<T, R>(items: T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!, i);
    }),
  );
  return results;
}

const later = (a: Position | null, b: Position | null) => (!a ? b : !b ? a : comparePositions(a, b) >= 0 ? a : b);

/** GET the account with read-your-writes at `position`, until the read models have caught up (503 means not yet). */
async function accountAt(
  baseUrl: string,
  user: User,
  position: Position | null,
  deadline: number,
): Promise<{ amount: number }> {
  const headers: Record<string, string> = position ? { 'x-event-position': formatPosition(position) } : {};
  for (;;) {
    const answer = await call(baseUrl, 'GET', '/api/v1/billing/account', { token: user.token, headers });
    if (answer.status === 200) return answer.body as { amount: number };
    if ((answer.status !== 503 && answer.status !== 404) || performance.now() > deadline) {
      throw new Error(`GET account of ${user.email}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---- set-up ----

async function setUp(api: ServerProcess): Promise<User[]> {
  const started = performance.now();
  let lastRegistration: Position | null = null;
  // Register + log in hash a password each (scrypt on the thread pool): a few at a time.
  const users = await inPool(
    Array.from({ length: userCount }, (_, i) => i),
    8,
    async (i) => {
      const email = `bench-${i}@bench.test`;
      const registered = await call(api.baseUrl, 'POST', '/api/v1/identity/register', {
        body: { email, password: PASSWORD, firstName: 'Bench', lastName: `User ${i}` },
      });
      expectStatus(registered, 201, `register ${email}`);
      lastRegistration = later(lastRegistration, parsePosition(registered.headers.get('x-event-position') ?? ''));
      const login = await call(api.baseUrl, 'POST', '/api/v1/identity/login', { body: { email, password: PASSWORD } });
      expectStatus(login, 200, `log in ${email}`);
      return {
        id: (registered.body as { id: string }).id,
        email,
        token: (login.body as { accessToken: string }).accessToken,
      };
    },
  );
  // Accounts are opened by a process manager reacting to the registration: wait for them.
  const deadline = performance.now() + 60_000;
  await inPool(users, 8, async (user) => {
    const account = await accountAt(api.baseUrl, user, lastRegistration, deadline);
    if (account.amount !== 0) throw new Error(`account of ${user.email} starts at ${account.amount}, not 0`);
  });
  console.log(
    `set-up: ${userCount} users registered, logged in and their accounts open in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return users;
}

// ---- runs ----

interface ServerRun {
  /** The warm-up (and, when it was short, a second one that sized the measured run). */
  warmups: LoadResult[];
  run: LoadResult;
  stats: ServerStats;
  lastPosition: Position | null;
}

async function depositRuns(name: string, server: ServerProcess, users: User[]): Promise<ServerRun> {
  const body = JSON.stringify({ amount: DEPOSIT });
  const authorizations = users.map((u) => `Bearer ${u.token}`);
  let lastPosition: Position | null = null;
  const requests =
    (phase: string) =>
    (i: number): LoadRequest => ({
      method: 'POST',
      path: DEPOSIT_PATH,
      headers: {
        'content-type': 'application/json',
        authorization: authorizations[i % users.length]!,
        'idempotency-key': `bench-${phase}-${i}`,
      },
      body,
    });
  const onHeaders = (status: number, headers: Record<string, string>) => {
    const text = headers['x-event-position'];
    if (status >= 200 && status < 300 && text) lastPosition = later(lastPosition, parsePosition(text));
  };
  const base = { baseUrl: server.baseUrl, connections, onHeaders };
  const warmups = [await runLoad({ ...base, amount: warmupRequests, next: requests('warmup') })];
  // A first warm-up over in a moment measured a cold server: a second, of about 2 s, measures a warm one.
  if (warmups[0]!.seconds < 2)
    warmups.push(await runLoad({ ...base, amount: Math.round(warmups[0]!.lateRate * 2), next: requests('warmup2') }));
  const sizing = warmups[warmups.length - 1]!.lateRate;
  const amount = Math.round(Math.max(sizing, 1) * seconds);
  const warmOk = warmups.reduce((n, w) => n + w.ok, 0);
  console.log(
    `  ${name}: warm-up ${warmOk.toLocaleString('en-US')} deposits; measured run of ${amount.toLocaleString('en-US')} deposits started (pid ${server.pid})`,
  );
  await server.mark();
  const run = await runLoad({ ...base, amount, next: requests('run') });
  const stats = await server.stats();
  return { warmups, run, stats, lastPosition };
}

/** Every 2xx deposit of a server, warm-ups included: what its balances must add up to. */
const okOf = (r: ServerRun) => r.warmups.reduce((n, w) => n + w.ok, r.run.ok);

interface Check {
  ok: boolean;
  text: string;
}

function sumCheck(sumCents: number, acknowledged: number, where: string): Check {
  const expected = acknowledged * DEPOSIT * 100;
  const ok = sumCents === expected;
  return {
    ok,
    text: `${ok ? 'OK' : 'MISMATCH'}: sum of balances ${(sumCents / 100).toLocaleString('en-US')} ${ok ? '=' : '≠'} ${acknowledged.toLocaleString('en-US')} 2xx deposits × ${DEPOSIT} (${where})`,
  };
}

/** The API's balances, read through the API at the last position any deposit answered with. */
async function apiCheck(
  api: ServerProcess,
  users: User[],
  result: ServerRun,
): Promise<{ check: Check; catchUpSeconds: number }> {
  const loadEnded = performance.now();
  const deadline = loadEnded + 300_000;
  const first = users[0]!;
  await accountAt(api.baseUrl, first, result.lastPosition, deadline);
  const catchUpSeconds = (performance.now() - loadEnded) / 1000;
  const accounts = await inPool(users, 8, (user) => accountAt(api.baseUrl, user, result.lastPosition, deadline));
  const sumCents = accounts.reduce((sum, a) => sum + Math.round(a.amount * 100), 0);
  const acknowledged = okOf(result);
  const where = `GET /api/v1/billing/account ×${users.length} at X-Event-Position ${result.lastPosition ? formatPosition(result.lastPosition) : 'none'}`;
  return { check: sumCheck(sumCents, acknowledged, where), catchUpSeconds };
}

// ---- printing ----

const ms = (value: number) => value.toFixed(2);
const perDeposit = (value: number | undefined, deposits: number) =>
  deposits === 0 ? '–' : ((value ?? 0) / deposits).toFixed(2);
/** Where the main thread's wall time went: blocked = in a syscall such as fsync (or idle, when the loop was not busy). */
function mainThreadSplit(stats: ServerStats): string {
  const main = stats.mainThread;
  if (!main) return 'not available';
  const pct = (ms: number) => `${((100 * ms) / stats.wallMs).toFixed(0)} %`;
  return `${pct(main.onCpuMs)} / ${pct(main.waitingForCpuMs)} / ${pct(Math.max(0, stats.wallMs - main.onCpuMs - main.waitingForCpuMs))}`;
}
const pctOfCore = (stats: ServerStats) => `${((100 * stats.cpuMs) / stats.wallMs).toFixed(0)} %`;

function loadRows(result: ServerRun): Array<[string, string | number]> {
  const { run } = result;
  const statuses = Object.entries(run.statusCounts)
    .map(([code, n]) => `${code}: ${n.toLocaleString('en-US')}`)
    .join(', ');
  return [
    ['deposits/s (2xx)', rate(run.ok, run.seconds * 1000)],
    ['latency p50 (ms)', ms(percentileOf(run.latencies, 50))],
    ['latency p99 (ms)', ms(percentileOf(run.latencies, 99))],
    ['latency max (ms)', ms(run.latencies[run.latencies.length - 1] ?? 0)],
    ['measured run (s)', run.seconds.toFixed(1)],
    ['2xx deposits', run.ok],
    ['non-2xx answers', run.non2xx],
    ['connection errors (timeouts)', `${run.errors} (${run.timeouts})`],
    ['status codes', statuses || '–'],
    ['server CPU (all threads, of one core)', pctOfCore(result.stats)],
    ['server CPU per deposit (ms)', perDeposit(result.stats.cpuMs, run.ok)],
    ['server event loop busy', `${(100 * result.stats.eventLoopUtilization).toFixed(0)} %`],
    ['server main thread: on CPU / waiting for a CPU / blocked or idle', mainThreadSplit(result.stats)],
    ['load generator CPU (of one core)', `${((100 * run.generatorCpuMs) / (run.seconds * 1000)).toFixed(0)} %`],
    [
      'token cache hits / misses',
      `${result.stats.tokenCache.hits.toLocaleString('en-US')} / ${result.stats.tokenCache.misses.toLocaleString('en-US')}`,
    ],
  ];
}

function callRows(stats: ServerStats, deposits: number): Array<[string, string | number]> {
  return Object.entries(stats.calls)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => [`${name} per deposit`, perDeposit(n, deposits)]);
}

function targetLine(label: string, value: string, met: boolean): string {
  return `  ${label.padEnd(44)} ${value.padStart(12)}  ${met ? 'met' : 'MISSED'}`;
}

// ---- main ----

interface Baseline {
  durability: 'full' | 'normal';
  label: string;
  run: ServerRun;
  sum: Check;
}

const root = mkdtempSync(join(tmpdir(), 'market-bench-http-'));
const profileDir = profiling ? mkdtempSync(join(tmpdir(), 'market-bench-http-prof-')) : null;
const apiDataDir = join(root, 'api');
const serverEnv = (dataDir: string, sync: 'full' | 'normal'): Record<string, string> => ({
  DATA_DIR: dataDir,
  PORT: '0',
  HOST: '127.0.0.1',
  EMBEDDED_DURABILITY: sync,
  LOG_LEVEL: 'silent',
  ...(profileDir ? { BENCH_CPU_PROF_DIR: profileDir } : {}),
  ...(serverNodeOptions ? { NODE_OPTIONS: serverNodeOptions } : {}),
  ...(experiments.includes('projections-paused') ? { BENCH_PAUSE_PROJECTIONS: '1' } : {}),
});
const running: ServerProcess[] = [];
const durableText =
  durability === 'full'
    ? 'EMBEDDED_DURABILITY=full (durable: the WAL is synced on every commit, an acknowledged deposit survives a power cut)'
    : 'EMBEDDED_DURABILITY=normal (NOT durable against a power cut: survives a killed process only)';
const baselineDurabilities: Array<'full' | 'normal'> =
  baselineChoice === 'none'
    ? []
    : baselineChoice === 'same' || durability === 'normal'
      ? [durability]
      : [durability, 'normal'];
const syncText = (sync: 'full' | 'normal') =>
  sync === 'full' ? 'synchronous=FULL, durable' : 'synchronous=NORMAL, not durable';

try {
  console.log(
    `bench:http: deposits of ${DEPOSIT} with JWT auth, ${userCount} users round-robin, ${connections} connections, ~${seconds} s measured` +
      ` after ${warmupRequests.toLocaleString('en-US')} warm-up requests, per server; each server in its own process, the load generator in this one`,
  );
  console.log(`  API: ${durableText}`);
  console.log(
    `  baselines: ${baselineDurabilities.map((d) => `${syncText(d)} (one commit per UPDATE)`).join('; ') || 'none'}`,
  );
  console.log(
    `  every request: its own Idempotency-Key, no If-Match (the API answers 428 without one of the two); data in ${root}`,
  );
  if (experiments.length > 0)
    console.log(
      `  EXPERIMENT ${experiments.join(', ')}: not the product's workload or configuration; the targets do not apply`,
    );
  console.log(
    `  load average now: ${loadAverage()} on ${cpus().length} cores (other work on the machine takes CPU from the servers: figures are then lower bounds)`,
  );
  console.log(`  CPU check now: ${cpuCheckText()}`);

  const api = await ServerProcess.start({ mode: 'api', env: serverEnv(apiDataDir, durability) });
  running.push(api);
  console.log(`API server: pid ${api.pid}, ${api.baseUrl}`);
  const users = await setUp(api);
  const apiRun = await depositRuns('API', api, users);
  const { check: apiSum, catchUpSeconds } = await apiCheck(api, users, apiRun);
  await api.stop();
  running.pop();

  const baselines: Baseline[] = [];
  const usersFile = join(root, 'users.json');
  writeFileSync(usersFile, JSON.stringify(users.map((u) => u.id)));
  for (const sync of baselineDurabilities) {
    const dataDir = join(root, `baseline-${sync}`);
    mkdirSync(dataDir);
    const baseline = await ServerProcess.start({
      mode: 'baseline',
      env: { ...serverEnv(dataDir, sync), BENCH_KEYS_DIR: apiDataDir, BENCH_USERS_FILE: usersFile },
    });
    running.push(baseline);
    console.log(`baseline server (${syncText(sync)}): pid ${baseline.pid}, ${baseline.baseUrl}`);
    const run = await depositRuns(`baseline ${sync}`, baseline, users);
    const sumCents = Number((await baseline.stats()).extra.sumOfBalancesCents ?? 0);
    await baseline.stop();
    running.pop();
    const sum = sumCheck(sumCents, okOf(run), 'SELECT sum(amount) FROM accounts');
    baselines.push({ durability: sync, label: `baseline (${syncText(sync)})`, run, sum });
  }

  const rateOf = (r: ServerRun) => rate(r.run.ok, r.run.seconds * 1000);
  const apiRate = rateOf(apiRun);
  printTable(
    `API: POST ${DEPOSIT_PATH} (event-sourced: embedded SQLite event store, ${durableText.split(' (')[0]}; read models in the same process)`,
    [
      ...loadRows(apiRun),
      ['events appended per deposit', perDeposit(apiRun.stats.calls['events appended (asked)'], apiRun.run.ok)],
      [
        'appends per event store commit (≈)',
        perDeposit(
          apiRun.stats.calls['event store appendToStream'],
          apiRun.stats.calls['event store commits (≈)'] ?? 0,
        ),
      ],
      ...callRows(apiRun.stats, apiRun.run.ok).filter(([name]) => name !== 'events appended (asked) per deposit'),
      ['read models caught up after the load (s)', catchUpSeconds.toFixed(1)],
      ['event store head after the checks', String(apiRun.stats.extra.eventStoreHead ?? '–')],
      ['correctness', apiSum.text],
    ],
  );
  for (const b of baselines) {
    printTable(
      `${b.label}: the same requests; Koa route + the same JWT auth and validation + plain SQLite UPDATE (no events, no idempotency record)`,
      [...loadRows(b.run), ...callRows(b.run.stats, b.run.run.ok), ['correctness', b.sum.text]],
    );
  }
  if (baselines.length > 0) {
    const rows: Array<[string, string]> = [];
    for (const b of baselines) {
      const name = b.durability === durability ? `same durability (${b.durability})` : `baseline ${b.durability}`;
      rows.push([`API / baseline deposits/s, ${name}`, (apiRate / rateOf(b.run)).toFixed(2)]);
      rows.push([
        `API / baseline server CPU per deposit, ${name}`,
        (apiRun.stats.cpuMs / apiRun.run.ok / (b.run.stats.cpuMs / b.run.run.ok)).toFixed(2),
      ]);
      rows.push([
        `API / baseline latency p50, ${name}`,
        (percentileOf(apiRun.run.latencies, 50) / percentileOf(b.run.run.latencies, 50)).toFixed(2),
      ]);
      rows.push([
        `API / baseline latency p99, ${name}`,
        (percentileOf(apiRun.run.latencies, 99) / percentileOf(b.run.run.latencies, 99)).toFixed(2),
      ]);
    }
    printTable('ratios', rows);
  }

  console.log(`\nCPU check at the end: ${cpuCheckText()}`);
  console.log(`load average at the end: ${loadAverage()}`);
  const clean = (r: ServerRun) => [r.run, ...r.warmups].every((l) => l.non2xx === 0 && l.errors === 0);
  const allRuns: Array<[string, ServerRun]> = [
    ['API', apiRun],
    ...baselines.map((b): [string, ServerRun] => [b.label, b.run]),
  ];
  const allClean = allRuns.every(([, r]) => clean(r));
  const allSums = apiSum.ok && baselines.every((b) => b.sum.ok);
  console.log(
    `\ntargets${experiments.length > 0 ? ` (EXPERIMENT ${experiments.join(', ')}: for reference only)` : ''}`,
  );
  console.log(
    targetLine('>= 3,000 deposits/s on 2 cores (API)', apiRate.toLocaleString('en-US'), apiRate >= TARGET_RATE),
  );
  const same = baselines.find((b) => b.durability === durability);
  if (!same) console.log('  >= 0.4 x the baseline: not measured (BENCH_BASELINES=none)');
  for (const b of baselines) {
    const ratio = apiRate / rateOf(b.run);
    const label =
      b === same
        ? `>= 0.4 x baseline, same durability (${b.durability})`
        : `(also) >= 0.4 x baseline ${b.durability}, not durable`;
    console.log(targetLine(label, ratio.toFixed(2), ratio >= TARGET_RATIO));
  }
  console.log(targetLine('errors and non-2xx = 0 (every server)', allClean ? '0' : 'not 0', allClean));
  console.log(targetLine('sum of balances = 2xx deposits (every server)', allSums ? 'equal' : 'NOT EQUAL', allSums));
  for (const [name, r] of allRuns) {
    const errors = [...r.warmups, r.run].flatMap((l) => l.firstErrors);
    if (errors.length > 0) console.log(`  first failures (${name}): ${errors.slice(0, 5).join(' | ')}`);
  }

  if (profiling) {
    for (const [name, r] of allRuns) {
      const file = r.stats.extra.cpuProfile;
      if (typeof file === 'string')
        printProfile(`CPU profile of the ${name} server over its measured run (slower for being profiled)`, file, 25);
    }
    console.log(
      `\nprofiles kept in ${profileDir} (open in Chrome DevTools > Performance, or: node dist/test/bench/http-profile.js <file> [top])`,
    );
  }
  if (!allSums) process.exitCode = 1;
} catch (error) {
  console.error('bench:http failed:', error);
  process.exitCode = 1;
} finally {
  for (const server of running) server.kill();
  rmSync(root, { recursive: true, force: true });
}
