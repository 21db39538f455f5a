/**
 * What the trading benchmarks share (bench:trading, bench:history): the set-up over HTTP
 * (broker, items, traders, deposits), placements as requests, a tally of their answers,
 * and the checks that money, units and deals add up at the end.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CheckResult } from '../../domain/audit.js';
import { auditEventStore } from '../../infra/cli/check.js';
import { comparePositions, parsePosition, type Position } from '../../infra/eventsourcing/event-store/position.js';
import { openSqliteEventStore } from '../../infra/sqlite/event-store/sqlite-event-store.js';
import { cleanEnv, distDir, runNode } from '../support/process.js';
import { call, expectStatus, getAt, inPool } from './trading-http.js';
import type { CompletedDeals, DealEvents } from './trading-progress.js';
import { percentileOf, type TradeRequest } from './trading-load.js';

export const PRICE = 100; // what sellers ask and buyers bid in the runs
export const LIST_PRICE = 150; // the broker's units rest here, out of the runs' way
export const COMMISSION_PERCENT = 1;
export const DEPOSIT = 10_000; // the most one deposit may be
export const PASSWORD = 'bench-password';
export const BROKER = { email: 'broker@bench.test', password: 'broker-password' };
export const IN_DEAL = new Set(['paymentPending', 'paymentSucceeded', 'dealPending', 'accrualPending']);

export interface User {
  id: string;
  email: string;
  token: string;
}

/** Deals that were opened and have not failed: the ones that must complete. */
export const live = (counts: { opened: number; failed: number }) => counts.opened - counts.failed;
export const later = (a: Position | null, b: Position | null) =>
  !a ? b : !b ? a : comparePositions(a, b) >= 0 ? a : b;
export const positionOf = (answer: { headers: Headers }) => parsePosition(answer.headers.get('x-event-position') ?? '');
export const cents = (money: number) => Math.round(money * 100);
export const money = (c: number) =>
  (c / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const secondsText = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * fdatasync latency of a 4 KiB write in the data directory now (a quiet disk's, for
 * comparison: docs/PERFORMANCE.md, "Why the code is as it is", "Benchmarks"): every event
 * store commit waits for one, on the server's main thread.
 */
export function fsyncLatency(dir: string, times = 200): { p50: number; p99: number } {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'fsync-probe.bin');
  const fd = openSync(file, 'w');
  const page = Buffer.alloc(4096, 1);
  const took: number[] = [];
  try {
    for (let i = 0; i < times; i++) {
      writeSync(fd, page, 0, page.length, (i % 16) * 4096);
      const t0 = performance.now();
      fdatasyncSync(fd);
      took.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    unlinkSync(file);
  }
  const sorted = Float64Array.from(took).sort();
  return { p50: percentileOf(sorted, 50), p99: percentileOf(sorted, 99) };
}

export async function provisionBroker(dataDir: string): Promise<void> {
  const cli = join(distDir, 'infra', 'cli', 'main.js');
  const env = cleanEnv({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'full', LOG_LEVEL: 'silent' });
  const done = await runNode(
    cli,
    ['broker', 'provision', '--email', BROKER.email, '--password', BROKER.password],
    env,
    60_000,
  );
  if (done.code !== 0) throw new Error(`broker provision failed (${done.code}): ${done.stdout}${done.stderr}`);
}

export async function logIn(baseUrl: string, email: string, password: string): Promise<string> {
  const login = await call(baseUrl, 'POST', '/api/v1/identity/login', { body: { email, password } });
  expectStatus(login, 200, `log in ${email}`);
  return (login.body as { accessToken: string }).accessToken;
}

export async function registerUsers(
  baseUrl: string,
  prefix: string,
  count: number,
): Promise<{ users: User[]; position: Position | null }> {
  let position: Position | null = null;
  // Register + log in hash a password each (scrypt on the thread pool): a few at a time.
  const users = await inPool(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (i) => {
      const email = `${prefix}-${i}@bench.test`;
      const registered = await call(baseUrl, 'POST', '/api/v1/identity/register', {
        body: { email, password: PASSWORD, firstName: 'Bench', lastName: `${prefix} ${i}` },
      });
      expectStatus(registered, 201, `register ${email}`);
      position = later(position, positionOf(registered));
      return { id: (registered.body as { id: string }).id, email, token: await logIn(baseUrl, email, PASSWORD) };
    },
  );
  return { users, position };
}

export async function listItems(
  baseUrl: string,
  broker: User,
  itemCount: number,
  initialCount: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < itemCount; i++) {
    const body = {
      name: `bench item ${String(i).padStart(3, '0')}`,
      initialCount,
      initialPrice: LIST_PRICE,
      commissionPercent: COMMISSION_PERCENT,
    };
    const listed = await call(baseUrl, 'POST', '/api/v1/trading/items', {
      token: broker.token,
      body,
      headers: { 'idempotency-key': `list-${i}` },
    });
    expectStatus(listed, 201, `list item ${i}`);
    ids.push((listed.body as { id: string }).id);
  }
  return ids;
}

/** Deposits `count` × DEPOSIT for every user; the cents deposited (2xx only). */
export async function deposit(baseUrl: string, users: Array<{ user: User; count: number }>): Promise<number> {
  let deposited = 0;
  await inPool(users, 16, async ({ user, count }) => {
    for (let j = 0; j < count; j++) {
      const answer = await call(baseUrl, 'POST', '/api/v1/billing/account/deposit', {
        token: user.token,
        body: { amount: DEPOSIT },
        headers: { 'idempotency-key': `deposit-${j}` },
      });
      expectStatus(answer, 204, `deposit for ${user.email}`);
      deposited += cents(DEPOSIT);
    }
  });
  return deposited;
}

export interface Placement {
  user: User;
  side: 'purchase' | 'sell';
  itemId: string;
  price: number;
}

export function placementRequest(p: Placement, key: string): TradeRequest {
  return {
    method: 'POST',
    path: p.side === 'purchase' ? '/api/v1/trading/purchase-orders' : '/api/v1/trading/sell-orders',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${p.user.token}`, 'idempotency-key': key },
    body: JSON.stringify({ itemId: p.itemId, price: p.price }),
  };
}

/**
 * What the answers of one run said, as they arrived: for the timeline. A 202 whose order is
 * in a deal nearly always means that placement opened it; the exact count of deals comes
 * from the log (DealEvents).
 */
export class Tally {
  /** performance.now() of every 202, and of every 202 answering with the order in a deal. */
  readonly acceptedAt: number[] = [];
  readonly dealAt: number[] = [];
  rested = 0;
  constructor(readonly startedAt: number) {}

  record(status: number, body: string, atMs: number): void {
    if (status !== 202) return;
    const at = this.startedAt + atMs;
    this.acceptedAt.push(at);
    const order = JSON.parse(body) as { status: string };
    if (order.status === 'paymentPending' || order.status === 'dealPending') this.dealAt.push(at);
    else this.rested += 1;
  }
}

/**
 * What must add up once every deal drained, read at the event store's `head`: every
 * balance (the broker's included) against what was deposited, no order left in a deal,
 * every unit in some portfolio, and every deal opened completed (log and statistics).
 */
export async function checkConservation(run: {
  baseUrl: string;
  head: string;
  everyone: User[];
  broker: User;
  itemIds: string[];
  initialCount: number;
  deposited: number;
  counter: CompletedDeals;
  dealEvents: DealEvents;
}) {
  const { baseUrl, head, everyone, broker } = run;
  const deadline = () => performance.now() + 120_000;
  const balances = await inPool([...everyone, broker], 8, async (u) => {
    const answer = await getAt(baseUrl, '/api/v1/billing/account', u.token, head || null, deadline());
    return cents((answer.body as { amount: number }).amount);
  });
  const balanceSum = balances.reduce((a, b) => a + b, 0);
  const inDeal = await inPool(everyone, 8, async (u) => {
    let count = 0;
    for (const side of ['purchase-orders', 'sell-orders']) {
      const answer = await getAt(baseUrl, `/api/v1/trading/${side}?limit=500`, u.token, head || null, deadline());
      count += (answer.body as Array<{ status: string }>).filter((o) => IN_DEAL.has(o.status)).length;
    }
    return count;
  });
  const ordersInDeal = inDeal.reduce((a, b) => a + b, 0);
  const unitsHeld = new Map<string, number>();
  await inPool([...everyone, broker], 8, async (u) => {
    const answer = await getAt(baseUrl, '/api/v1/trading/user-items?limit=500', u.token, head || null, deadline());
    for (const h of answer.body as Array<{ id: string; count: number }>)
      unitsHeld.set(h.id, (unitsHeld.get(h.id) ?? 0) + h.count);
  });
  const completedFinal = await run.counter.read();
  const events = run.dealEvents.update();
  const createdFinal = live(events);
  return {
    balanceSum,
    brokerBalance: balances[balances.length - 1]!,
    moneyOk: balanceSum === run.deposited,
    ordersInDeal,
    unitsHeld,
    unitsOk: run.itemIds.every((id) => unitsHeld.get(id) === run.initialCount),
    completedFinal,
    events,
    dealsOk:
      completedFinal === createdFinal && events.completed === createdFinal && events.failed === 0 && ordersInDeal === 0,
  };
}

/**
 * The operator's consistency check (`npm run cli -- check`, domain/audit.ts) over the
 * server's whole log, read from its events.db once everything drained: the same rules as the
 * HTTP checks above, from the events instead of the read models, every deal settled (no grace).
 */
export async function auditLog(dataDir: string): Promise<CheckResult[]> {
  const store = openSqliteEventStore({ file: join(dataDir, 'events.db'), durability: 'normal' });
  try {
    return await auditEventStore(store, new Date(), 0);
  } finally {
    await store.close();
  }
}
