/**
 * npm run bench:history — whether cost and memory stay flat as history grows, in three
 * parts (BENCH_PARTS, default `account,trading,store`), each on the embedded default with
 * EMBEDDED_DURABILITY=full and the server as `npm start` composes it, in its own process:
 *
 * - `account`: one account given BENCH_ACCOUNT_EVENTS (1,000,000) deposits through the API;
 *   then the server is restarted and the first deposit on that account is timed, with the
 *   server's RSS read before and after it (history-account.ts).
 * - `trading`: bench:trading's crossing pairs run long: BENCH_DEALS (200,000) deals in ten
 *   rounds (the tenths), holders and takers swapping roles each round; per tenth, orders/s,
 *   placement latency and the server's RSS (history-trading.ts).
 * - `store`: the event store grown to BENCH_STORE_EVENTS (5,000,000) events: appends/s and
 *   `$all` catch-up at the end against the start, file sizes, and a restart to `/ready`
 *   (history-store.ts).
 *
 * Targets (issue 14): first command on the long stream ≤ 20 ms and ≤ +20 MB of RSS; the
 * server's RSS ≤ 400 MB all along; last tenth ≥ 0.8× the orders/s and ≤ 1.25× the p99 of
 * the first, RSS growth from the second tenth to the end ≤ 100 MB; appends/s at 5,000,000
 * events ≥ 0.8× an empty store's; restart to `/ready` ≤ 5 s. A benchmark, not a test:
 * missed targets are printed, the exit code is 1 only when a run itself went wrong.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountRun } from './history-account.js';
import { storeRun } from './history-store.js';
import { tradingRun } from './history-trading.js';
import { cpuCheckText, loadAverage } from './machine.js';

const parts = (process.env.BENCH_PARTS ?? 'account,trading,store').split(',').map((p) => p.trim());
const known = ['account', 'trading', 'store'];
const unknown = parts.filter((p) => !known.includes(p));
if (unknown.length > 0) {
  console.error(`BENCH_PARTS: unknown part(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(2);
}

const root = mkdtempSync(join(tmpdir(), 'market-bench-history-'));
const missed: string[] = [];
try {
  console.log(`bench:history: ${parts.join(', ')}; data in ${root}`);
  console.log(`  load average now: ${loadAverage()} on ${cpus().length} cores`);
  console.log(`  CPU check now: ${cpuCheckText()}`);
  if (parts.includes('account')) missed.push(...(await accountRun(join(root, 'account'))));
  if (parts.includes('trading')) missed.push(...(await tradingRun(join(root, 'trading'))));
  if (parts.includes('store')) missed.push(...(await storeRun(join(root, 'store'))));
  console.log(`\nCPU check at the end: ${cpuCheckText()}; load average ${loadAverage()}`);
  console.log(missed.length === 0 ? '\nevery target met' : `\nMISSED: ${missed.join('; ')}`);
} catch (error) {
  console.error('bench:history failed:', error);
  process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
