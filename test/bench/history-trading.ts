/**
 * bench:history, part `trading`: bench:trading's crossing pairs, run long. BENCH_DEALS
 * deals (200,000) in ten rounds, each a tenth of the run: the holders offer every unit they
 * hold at PRICE and the takers bid PRICE for them, as crossing pairs (closed loop,
 * BENCH_CONNECTIONS connections); the round's deals are waited for, then the takers hold
 * the units and the roles swap. Per tenth: orders/s accepted, placement latency, deals
 * drained, and the server's RSS (highest during the round, and after it). At the end,
 * money, units and deals must add up, as in bench:trading.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ServerProcess } from './http-child.js';
import { envNumber, printTable, rate } from './report.js';
import { mb, RssSampler, startServer } from './server-watch.js';
import { getAt, inPool } from './trading-http.js';
import { closedLoop, percentileOf } from './trading-load.js';
import { CompletedDeals, DealEvents } from './trading-progress.js';
import {
  BROKER,
  checkConservation,
  COMMISSION_PERCENT,
  DEPOSIT,
  deposit,
  LIST_PRICE,
  listItems,
  live,
  logIn,
  PRICE,
  placementRequest,
  provisionBroker,
  registerUsers,
  secondsText,
  Tally,
  type User,
} from './trading-setup.js';

const ROUNDS = 10;
const TARGET_RATE_RATIO = 0.8;
const TARGET_P99_RATIO = 1.25;
const TARGET_RSS_GROWTH_MB = 100;
const TARGET_RSS_MB = 400;

interface Round {
  orders: number;
  ordersPerSecond: number;
  p50: number;
  p99: number;
  drainMs: number | null;
  rssMax: number;
  rssAfter: number;
  /** Where the memory was after the round (MB by part). */
  memory: Record<string, number>;
}

export async function tradingRun(dataDir: string): Promise<string[]> {
  const deals = envNumber('BENCH_DEALS', 200_000);
  const itemCount = envNumber('BENCH_ITEMS', 20);
  const traderCount = Math.max(4, envNumber('BENCH_TRADERS', 200));
  const connections = envNumber('BENCH_CONNECTIONS', 50);
  const holdersCount = Math.floor(traderCount / 2);
  const units = Math.max(1, Math.ceil(deals / ROUNDS / (holdersCount * itemCount)));
  const initialCount = holdersCount * units + 10;
  if (initialCount > 10_000)
    throw new Error(
      `${units} units per trader and item need ${initialCount} units per listing (at most 10,000): raise BENCH_TRADERS or BENCH_ITEMS`,
    );
  console.log(
    `\ntrading: ${(ROUNDS * holdersCount * itemCount * units).toLocaleString('en-US')} deals in ${ROUNDS} rounds of crossing pairs, ${traderCount} traders, ${itemCount} items, ${connections} connections`,
  );

  await provisionBroker(dataDir);
  const server = await startServer(dataDir);
  const rss = new RssSampler(server.pid);
  const dealEvents = new DealEvents(join(dataDir, 'events.db'));
  try {
    const { baseUrl } = server;
    const broker: User = { id: '', email: BROKER.email, token: await logIn(baseUrl, BROKER.email, BROKER.password) };
    const itemIds = await listItems(baseUrl, broker, itemCount, initialCount);
    const { users: traders } = await registerUsers(baseUrl, 'trader', traderCount);
    const sides: [User[], User[]] = [traders.slice(0, holdersCount), traders.slice(holdersCount, 2 * holdersCount)];
    await waitForAccounts(baseUrl, traders);
    // Every trader buys in half the rounds, and the first holders their units from the broker too.
    const spend = units * itemCount * ((ROUNDS / 2) * PRICE + LIST_PRICE) * (1 + COMMISSION_PERCENT / 100);
    const deposited = await deposit(
      baseUrl,
      traders.map((user) => ({ user, count: Math.ceil((spend * 1.2) / DEPOSIT) })),
    );
    const counter = new CompletedDeals(baseUrl);
    await buyFromBroker(server, sides[0], itemIds, units, connections, counter, dealEvents);
    console.log(
      `  set-up done: ${sides[0].length} holders with ${units} units of each item; server RSS ${mb(rss.sample())}`,
    );

    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const [holders, takers] = r % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
      rounds.push(
        await round(server, rss, {
          holders,
          takers,
          itemIds,
          units,
          connections,
          counter,
          dealEvents,
          label: `round-${r}`,
        }),
      );
      const last = rounds[rounds.length - 1]!;
      console.log(
        `  tenth ${r + 1}: ${last.ordersPerSecond.toLocaleString('en-US')} orders/s, p99 ${last.p99.toFixed(1)} ms, RSS ${mb(last.rssMax)} at most, ${mb(last.rssAfter)} after`,
      );
    }
    if (process.env.BENCH_HEAP_SNAPSHOT_DIR)
      console.log(`  heap snapshot of the server's main thread: ${await server.heapSnapshot()}`);
    const head = String((await server.stats()).extra.eventStoreHead ?? '');
    const checks = await checkConservation({
      baseUrl,
      head,
      everyone: traders,
      broker,
      itemIds,
      initialCount,
      deposited,
      counter,
      dealEvents,
    });
    return report(rounds, rss, checks.moneyOk && checks.unitsOk && checks.dealsOk);
  } finally {
    rss.stop();
    dealEvents.close();
    await server.stop().catch(() => server.kill());
  }
}

async function waitForAccounts(baseUrl: string, users: User[]): Promise<void> {
  const deadline = performance.now() + 120_000;
  await inPool(users, 8, (u) => getAt(baseUrl, '/api/v1/billing/account', u.token, null, deadline));
}

/** The first holders buy `units` of every item from the broker (each bid takes a resting unit), and those deals complete. */
async function buyFromBroker(
  server: ServerProcess,
  holders: User[],
  itemIds: string[],
  units: number,
  connections: number,
  counter: CompletedDeals,
  dealEvents: DealEvents,
) {
  const amount = holders.length * itemIds.length * units;
  const tally = new Tally(performance.now());
  const load = await closedLoop({
    baseUrl: server.baseUrl,
    connections,
    amount,
    next: (k) =>
      placementRequest(
        {
          user: holders[k % holders.length]!,
          side: 'purchase',
          itemId: itemIds[Math.floor(k / holders.length) % itemIds.length]!,
          price: LIST_PRICE,
        },
        `setup-${k}`,
      ),
    onAnswer: (_i, status, body, atMs) => tally.record(status, body, atMs),
  });
  if (tally.dealAt.length !== amount)
    throw new Error(
      `set-up purchases: ${tally.dealAt.length} of ${amount} opened a deal (${JSON.stringify(load.statusCounts)})`,
    );
  if ((await counter.waitFor(live(dealEvents.update()), 600_000)).at === null)
    throw new Error('set-up deals did not complete');
}

/**
 * One tenth: every holder offers each of its units of each item, each met by a taker's bid.
 * Pair p: item p mod items; holder ⌊p / items⌋ mod holders; taker (p + ⌊p / items⌋) mod
 * takers — with as many takers as holders and items + 1 prime to their number, every taker
 * gets exactly `units` of every item, ready to be the next round's holder.
 */
async function round(
  server: ServerProcess,
  rss: RssSampler,
  run: {
    holders: User[];
    takers: User[];
    itemIds: string[];
    units: number;
    connections: number;
    counter: CompletedDeals;
    dealEvents: DealEvents;
    label: string;
  },
): Promise<Round> {
  const { holders, takers, itemIds } = run;
  const items = itemIds.length;
  const pairs = holders.length * items * run.units;
  const pairOf = (p: number) => ({
    holder: holders[Math.floor(p / items) % holders.length]!,
    taker: takers[(p + Math.floor(p / items)) % takers.length]!,
    itemId: itemIds[p % items]!,
  });
  const startedAt = performance.now();
  const tally = new Tally(startedAt);
  const load = await closedLoop({
    baseUrl: server.baseUrl,
    connections: run.connections,
    amount: 2 * pairs,
    next: (k) => {
      const p = Math.floor(k / 2);
      const { holder, taker, itemId } = pairOf(p);
      const sell = (k % 2 === 0) === (p % 2 === 0);
      return placementRequest(
        { user: sell ? holder : taker, side: sell ? 'sell' : 'purchase', itemId, price: PRICE },
        `${run.label}-${k}`,
      );
    },
    onAnswer: (_i, status, body, atMs) => tally.record(status, body, atMs),
  });
  if (load.ok !== 2 * pairs)
    throw new Error(
      `${run.label}: ${load.ok} of ${2 * pairs} placements accepted (${JSON.stringify(load.statusCounts)}; ${load.firstErrors.join(' | ')})`,
    );
  const loadEnd = startedAt + load.seconds * 1000;
  const drained = await run.counter.waitFor(live(run.dealEvents.update()), 600_000);
  return {
    orders: 2 * pairs,
    ordersPerSecond: rate(tally.acceptedAt.length, load.seconds * 1000),
    p50: percentileOf(load.latencies, 50),
    p99: percentileOf(load.latencies, 99),
    drainMs: drained.at === null ? null : drained.at - loadEnd,
    rssMax: rss.max(startedAt),
    rssAfter: rss.sample(),
    memory: await server.memory(),
  };
}

function report(rounds: Round[], rss: RssSampler, conserved: boolean): string[] {
  printTable(
    'trading, per tenth of the run (orders/s accepted, placement latency p50 / p99, drain after the load, server RSS highest / after)',
    rounds.map((r, i) => [
      `tenth ${String(i + 1).padStart(2)}`,
      `${String(r.ordersPerSecond).padStart(6)} orders/s  ${r.p50.toFixed(1).padStart(6)} / ${r.p99.toFixed(1).padStart(6)} ms  drain ${r.drainMs === null ? 'NOT DRAINED' : secondsText(r.drainMs).padStart(7)}  RSS ${mb(r.rssMax).padStart(7)} / ${mb(r.rssAfter).padStart(7)}`,
    ]),
  );
  const parts = Object.keys(rounds[0]!.memory);
  printTable(
    `server memory after each tenth (MB): ${parts.join(' | ')}`,
    rounds.map((r, i) => [
      `tenth ${String(i + 1).padStart(2)}`,
      parts.map((part) => (r.memory[part] ?? 0).toFixed(0).padStart(5)).join(' '),
    ]),
  );
  const first = rounds[0]!;
  const last = rounds[rounds.length - 1]!;
  const growth = last.rssAfter - rounds[1]!.rssAfter;
  const highest = rss.max();
  const missed: string[] = [];
  const check = (label: string, value: string, met: boolean) => {
    console.log(`  ${label.padEnd(62)} ${value.padStart(16)}  ${met ? 'ok' : 'MISSED'}`);
    if (!met) missed.push(`${label}: ${value}`);
  };
  console.log('\ntrading targets');
  check(
    `last tenth ≥ ${TARGET_RATE_RATIO}× the first tenth's orders/s`,
    `${(last.ordersPerSecond / first.ordersPerSecond).toFixed(2)}×`,
    last.ordersPerSecond >= TARGET_RATE_RATIO * first.ordersPerSecond,
  );
  check(
    `last tenth's p99 ≤ ${TARGET_P99_RATIO}× the first tenth's`,
    `${(last.p99 / first.p99).toFixed(2)}×`,
    last.p99 <= TARGET_P99_RATIO * first.p99,
  );
  check(
    `RSS growth from the second tenth to the end ≤ ${TARGET_RSS_GROWTH_MB} MB`,
    `${growth.toFixed(0)} MB`,
    growth <= TARGET_RSS_GROWTH_MB,
  );
  check(`server RSS ≤ ${TARGET_RSS_MB} MB all along`, mb(highest), highest <= TARGET_RSS_MB);
  check('money, units and every deal add up', conserved ? 'yes' : 'NO', conserved);
  return missed;
}
