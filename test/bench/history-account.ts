/**
 * bench:history, part `account`: one account given BENCH_ACCOUNT_EVENTS deposits through
 * the command path (`depositMoney`, as the API calls it, 256 at a time, in this process on
 * the server's data directory, with the server's snapshot settings), as a long-lived
 * account accumulates them: operations whose retries can no longer come, nothing the
 * account must remember. Then the server catches up with them, is restarted, and the first
 * deposit on that account over HTTP is timed, with the server's RSS before and after.
 * Without snapshots that first command folded the whole stream on the request thread
 * (docs/PERFORMANCE.md, "Why the code is as it is", "Snapshots of heavy states, by weight").
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { envNumber, printTable, rate } from './report.js';
import { mb, rssMb, startServer, untilReady } from './server-watch.js';
import { call, expectStatus, getAt } from './trading-http.js';
import { depositMoney } from '../../command-handlers/billing.js';
import { loadConfig } from '../../infra/config/config.js';
import { formatPosition } from '../../infra/eventsourcing/event-store/position.js';
import { createLogger } from '../../infra/log/log.js';
import { openSystem } from '../../infra/composition-root/system.js';
import { cleanEnv } from '../support/process.js';

const TARGET_FIRST_COMMAND_MS = 20;
const TARGET_RSS_GROWTH_MB = 20;

export async function accountRun(dataDir: string): Promise<string[]> {
  const events = envNumber('BENCH_ACCOUNT_EVENTS', 1_000_000);
  console.log(
    `\naccount: ${events.toLocaleString('en-US')} deposits on one account through the command path, then a restart and the first deposit timed`,
  );
  let server = await startServer(dataDir);
  const heavy = await registerAndLogIn(server.baseUrl, 'heavy@bench.test');
  // A second account, to warm the restarted server up (a first request also pays for JIT, keys, statements).
  const light = await registerAndLogIn(server.baseUrl, 'light@bench.test');
  await server.stop();
  const appended = await depositThroughCommands(dataDir, heavy.userId, events);
  server = await startServer(dataDir);
  // The projections follow every deposit before the restart that is measured.
  await getAt(server.baseUrl, '/api/v1/billing/account', heavy.token, appended.head, performance.now() + 600_000);
  const rssBeforeStop = rssMb(server.pid);
  await server.stop();

  const startedAt = performance.now();
  server = await startServer(dataDir);
  const listeningMs = performance.now() - startedAt;
  const readyMs = listeningMs + (await untilReady(server.baseUrl));
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) warm.push(await timedDeposit(server.baseUrl, light.token, `warm-${i}`));
  const rssBefore = rssMb(server.pid);
  const timed: number[] = [];
  for (let i = 0; i < 3; i++) timed.push(await timedDeposit(server.baseUrl, heavy.token, `timed-${i}`));
  const rssAfter = rssMb(server.pid);
  const snapshot = snapshotOf(join(dataDir, 'events.db'), heavy.userId);
  await server.stop();

  const growth = rssAfter - rssBefore;
  printTable('account: one stream with a long history', [
    [
      'deposits through the command path',
      `${events.toLocaleString('en-US')} at ${rate(events, appended.ms).toLocaleString('en-US')}/s`,
    ],
    ['server RSS once its projections caught up with them', mb(rssBeforeStop)],
    ['restart: listening / ready', `${(listeningMs / 1000).toFixed(1)} s / ${(readyMs / 1000).toFixed(1)} s`],
    [
      'the account snapshot at the restart',
      snapshot ? `revision ${snapshot.revision} of ${events}, ${(snapshot.bytes / 1024).toFixed(1)} KiB` : 'none',
    ],
    [
      'first deposit on it after the restart (client side, ms; the server warmed up on another account)',
      timed[0]!.toFixed(1),
    ],
    ['second / third (ms)', `${timed[1]!.toFixed(1)} / ${timed[2]!.toFixed(1)}`],
    ['the warm-up deposits on another account before them (ms)', warm.map((w) => w.toFixed(1)).join(' / ')],
    [
      'server RSS before / after the first deposits',
      `${mb(rssBefore)} / ${mb(rssAfter)} (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB)`,
    ],
  ]);
  const missed: string[] = [];
  if (timed[0]! > TARGET_FIRST_COMMAND_MS)
    missed.push(`first command ${timed[0]!.toFixed(1)} ms > ${TARGET_FIRST_COMMAND_MS}`);
  if (growth > TARGET_RSS_GROWTH_MB) missed.push(`RSS +${growth.toFixed(1)} MB > ${TARGET_RSS_GROWTH_MB}`);
  console.log(
    `  targets: first command ≤ ${TARGET_FIRST_COMMAND_MS} ms, RSS ≤ +${TARGET_RSS_GROWTH_MB} MB: ${missed.length === 0 ? 'ok' : `MISSED (${missed.join('; ')})`}`,
  );
  return missed;
}

async function registerAndLogIn(baseUrl: string, email: string): Promise<{ userId: string; token: string }> {
  const registered = await call(baseUrl, 'POST', '/api/v1/identity/register', {
    body: { email, password: 'bench-password', firstName: 'Bench', lastName: 'History' },
  });
  expectStatus(registered, 201, `register ${email}`);
  const login = await call(baseUrl, 'POST', '/api/v1/identity/login', { body: { email, password: 'bench-password' } });
  expectStatus(login, 200, `log in ${email}`);
  const token = (login.body as { accessToken: string }).accessToken;
  await getAt(
    baseUrl,
    '/api/v1/billing/account',
    token,
    registered.headers.get('x-event-position'),
    performance.now() + 60_000,
  );
  return { userId: (registered.body as { id: string }).id, token };
}

/** A keyed deposit of 1 over HTTP: how long until its answer (ms). */
async function timedDeposit(baseUrl: string, token: string, key: string): Promise<number> {
  const t0 = performance.now();
  const answer = await call(baseUrl, 'POST', '/api/v1/billing/account/deposit', {
    token,
    body: { amount: 1 },
    headers: { 'idempotency-key': key },
  });
  const took = performance.now() - t0;
  expectStatus(answer, 204, 'timed deposit');
  return took;
}

/** Appends `count` deposits to the user's account through `depositMoney`, 256 in flight (they share appends). */
async function depositThroughCommands(
  dataDir: string,
  userId: string,
  count: number,
): Promise<{ ms: number; head: string }> {
  const config = loadConfig({ ...cleanEnv(), DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'full', LOG_LEVEL: 'silent' });
  const system = await openSystem(config, createLogger('silent'), 'cli');
  const started = performance.now();
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        // Not retriable (no idempotency key): a long history of operations nothing can repeat.
        for (let i = next++; i < count; i = next++)
          await depositMoney(system.services, {
            userId,
            amount: 1,
            operationId: crypto.randomUUID(),
            retriable: false,
          });
      }),
    );
    const head = await system.eventStore.headPosition();
    return { ms: performance.now() - started, head: head ? formatPosition(head) : '' };
  } finally {
    await system.close();
  }
}

/** The snapshot row of the user's account, read-only from the events file. */
function snapshotOf(file: string, userId: string): { revision: number; bytes: number } | null {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare<[string], { revision: number; bytes: number }>(
        'SELECT revision, length(state) AS bytes FROM snapshots WHERE stream = ?',
      )
      .get(`account-${userId}`);
    return row ?? null;
  } finally {
    db.close();
  }
}
