/**
 * bench:history, part `account`: one account given BENCH_ACCOUNT_EVENTS deposits through
 * the API (no idempotency key: nothing for the account to remember), the server restarted,
 * then the first deposit on that account timed, with the server's RSS before and after.
 * Without snapshots that first command folded the whole stream on the request thread
 * (1.2 s and +523 MB at 200,000 events).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { envNumber, printTable, rate } from './report.js';
import { mb, rssMb, startServer, untilReady } from './server-watch.js';
import { call, expectStatus, getAt } from './trading-http.js';
import { closedLoop } from './trading-load.js';

const TARGET_FIRST_COMMAND_MS = 20;
const TARGET_RSS_GROWTH_MB = 20;

export async function accountRun(dataDir: string): Promise<string[]> {
  const events = envNumber('BENCH_ACCOUNT_EVENTS', 1_000_000);
  console.log(`\naccount: ${events.toLocaleString('en-US')} deposits on one account through the API, then a restart and the first deposit timed`);
  let server = await startServer(dataDir);
  const email = 'heavy@bench.test';
  const registered = await call(server.baseUrl, 'POST', '/api/v1/identity/register', { body: { email, password: 'bench-password', firstName: 'Heavy', lastName: 'History' } });
  expectStatus(registered, 201, 'register');
  const login = await call(server.baseUrl, 'POST', '/api/v1/identity/login', { body: { email, password: 'bench-password' } });
  expectStatus(login, 200, 'log in');
  const token = (login.body as { accessToken: string }).accessToken;
  await getAt(server.baseUrl, '/api/v1/billing/account', token, registered.headers.get('x-event-position'), performance.now() + 60_000);
  const deposit = { method: 'POST' as const, path: '/api/v1/billing/account/deposit', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"amount":0.01}' };
  const load = await closedLoop({ baseUrl: server.baseUrl, connections: 64, amount: events, next: () => deposit, onAnswer: () => undefined });
  if (load.ok !== events) throw new Error(`deposits: ${load.ok} of ${events} accepted (${JSON.stringify(load.statusCounts)}; ${load.firstErrors.join(' | ')})`);
  const readyAfterLoad = await untilReady(server.baseUrl);
  const rssBeforeStop = rssMb(server.pid);
  await server.stop();

  const startedAt = performance.now();
  server = await startServer(dataDir);
  const listeningMs = performance.now() - startedAt;
  const readyMs = listeningMs + (await untilReady(server.baseUrl));
  const rssBefore = rssMb(server.pid);
  const timed: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const answer = await call(server.baseUrl, 'POST', '/api/v1/billing/account/deposit', { token, body: { amount: 0.01 } });
    timed.push(performance.now() - t0);
    expectStatus(answer, 204, 'timed deposit');
  }
  const rssAfter = rssMb(server.pid);
  const snapshot = snapshotOf(join(dataDir, 'events.db'), (registered.body as { id: string }).id);
  await server.stop();

  const growth = rssAfter - rssBefore;
  printTable('account: one stream with a long history', [
    ['deposits through the API', `${events.toLocaleString('en-US')} at ${rate(events, load.seconds * 1000).toLocaleString('en-US')}/s (projections caught up ${(readyAfterLoad / 1000).toFixed(1)} s after the last)`],
    ['server RSS after the load', mb(rssBeforeStop)],
    ['restart: listening / ready', `${(listeningMs / 1000).toFixed(1)} s / ${(readyMs / 1000).toFixed(1)} s`],
    ['the account snapshot at the restart', snapshot ? `revision ${snapshot.revision} of ${events}, ${(snapshot.bytes / 1024).toFixed(1)} KiB` : 'none'],
    ['first deposit after the restart (client side, ms)', timed[0]!.toFixed(1)],
    ['second / third (ms)', `${timed[1]!.toFixed(1)} / ${timed[2]!.toFixed(1)}`],
    ['server RSS before / after the first deposits', `${mb(rssBefore)} / ${mb(rssAfter)} (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB)`],
  ]);
  const missed: string[] = [];
  if (timed[0]! > TARGET_FIRST_COMMAND_MS) missed.push(`first command ${timed[0]!.toFixed(1)} ms > ${TARGET_FIRST_COMMAND_MS}`);
  if (growth > TARGET_RSS_GROWTH_MB) missed.push(`RSS +${growth.toFixed(1)} MB > ${TARGET_RSS_GROWTH_MB}`);
  console.log(`  targets: first command ≤ ${TARGET_FIRST_COMMAND_MS} ms, RSS ≤ +${TARGET_RSS_GROWTH_MB} MB: ${missed.length === 0 ? 'ok' : `MISSED (${missed.join('; ')})`}`);
  return missed;
}

/** The snapshot row of the user's account, read-only from the events file. */
function snapshotOf(file: string, userId: string): { revision: number; bytes: number } | null {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare<[string], { revision: number; bytes: number }>('SELECT revision, length(state) AS bytes FROM snapshots WHERE stream = ?').get(`account-${userId}`);
    return row ?? null;
  } finally {
    db.close();
  }
}
