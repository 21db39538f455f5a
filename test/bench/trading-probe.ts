/**
 * Lag probes of `npm run bench:trading`: how long after a placement's 202 its deal shows in
 * the buyer's `GET /history/deals`, for a sample of deals made under the run's load.
 *
 * A probe is a trader of its own who only buys, one deal at a time, so the first deal in
 * its history it has not seen before is the one it is waiting for (the 202 carries the
 * order, not the deal's id). It bids the load's price on the items in turn: a bid that
 * matched (202 `paymentPending`) is a sample; one that came to rest in the book (`pending`)
 * is canceled at once and another item tried; if a seller took it before the cancel
 * (422), that deal is waited for but not sampled (its creation time is not known).
 *
 * Two figures per sample, both against the time the 202 arrived here:
 * - visible: when a GET of the history first listed the deal. The history is polled every
 *   10 ms at first, then every tenth of the time waited so far (resolution ≤ 10 %), so
 *   the polling stays light: ~10 GETs for a 100 ms lag, ~35 for 1 s.
 * - completed: the entry's `completedAt` (the time the deal's `DealCompleted` was decided,
 *   same machine, same clock) minus the 202's wall-clock time; it leaves out the
 *   history projection's own delay and the polling resolution.
 */
import { performance } from 'node:perf_hooks';
import { call, sleep } from './trading-http.js';

export interface Probe {
  id: string;
  token: string;
}

export interface LagSample {
  /** ms from the 202 to the first GET that listed the deal. */
  visibleMs: number;
  /** ms from the 202 to the deal's `completedAt`. */
  completedMs: number;
  /** ms from the start of the probes when the 202 arrived. */
  startedAtMs: number;
}

export interface ProbeResult {
  samples: LagSample[];
  /** Bids that came to rest and were canceled (no ask to match). */
  canceled: number;
  /** Resting bids a seller matched before the cancel arrived: waited for, not sampled. */
  raced: number;
  /** Deals not seen in the history within the time allowed. */
  lost: number;
  /** Requests the probes sent (placements, cancels, history polls), to judge their own load. */
  requests: number;
  errors: string[];
}

export interface ProbeOptions {
  baseUrl: string;
  probes: Probe[];
  itemIds: string[];
  price: number;
  /** Samples wanted over `durationMs`: each probe spaces its samples to get its share. */
  samples: number;
  durationMs: number;
  /** The probes stop starting samples once this is true. */
  stopped(): boolean;
  /** How long one deal may take to show before it is counted lost. */
  maxWaitMs: number;
}

export async function runProbes(options: ProbeOptions): Promise<ProbeResult> {
  const result: ProbeResult = { samples: [], canceled: 0, raced: 0, lost: 0, requests: 0, errors: [] };
  const started = performance.now();
  const gapMs = (options.durationMs * options.probes.length) / Math.max(1, options.samples);
  const fail = (text: string) => {
    if (result.errors.length < 5) result.errors.push(text);
  };

  async function request(method: string, path: string, probe: Probe, body?: unknown, key?: string) {
    result.requests += 1;
    return call(options.baseUrl, method, path, {
      token: probe.token,
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });
  }

  /** Waits for a deal this probe has not seen yet; the time the GET that listed it arrived, and the entry. */
  async function nextDeal(probe: Probe, seen: Set<string>, since: number) {
    for (;;) {
      const answer = await request('GET', '/api/v1/history/deals?limit=5', probe);
      const now = performance.now();
      if (answer.status === 200) {
        const entries = answer.body as Array<{ id: string; completedAt: string }>;
        const fresh = entries.find((e) => !seen.has(e.id));
        if (fresh) {
          for (const e of entries) seen.add(e.id);
          return { seenAt: now, entry: fresh };
        }
      } else fail(`GET history: ${answer.status} ${JSON.stringify(answer.body)}`);
      if (now - since > options.maxWaitMs) return null;
      await sleep(Math.max(10, (now - since) / 10));
    }
  }

  await Promise.all(
    options.probes.map(async (probe, p) => {
      const seen = new Set<string>();
      let attempt = 0;
      let nextStart = started + (p * gapMs) / options.probes.length;
      while (!options.stopped()) {
        const wait = nextStart - performance.now();
        if (wait > 0) await sleep(wait);
        if (options.stopped()) break;
        const itemId = options.itemIds[(attempt * options.probes.length + p) % options.itemIds.length]!;
        attempt += 1;
        const placed = await request(
          'POST',
          '/api/v1/trading/purchase-orders',
          probe,
          { itemId, price: options.price },
          `probe-${p}-${attempt}`,
        );
        const at202 = performance.now();
        const wallAt202 = Date.now();
        if (placed.status !== 202) {
          fail(`probe bid: ${placed.status} ${JSON.stringify(placed.body)}`);
          nextStart = performance.now() + 100;
          continue;
        }
        const order = placed.body as { id: string; status: string };
        if (order.status === 'pending') {
          const canceled = await request('POST', `/api/v1/trading/purchase-orders/${order.id}/cancel`, probe);
          if (canceled.status === 200) {
            result.canceled += 1;
            nextStart = performance.now() + 20;
            continue;
          }
          if (canceled.status !== 422) {
            fail(`probe cancel: ${canceled.status} ${JSON.stringify(canceled.body)}`);
            nextStart = performance.now() + 100;
            continue;
          }
          // 422 `cannot cancel order`: a seller matched it in between (their 202 opened that
          // deal). Let the deal pass, unmeasured, before the next sample.
          result.raced += 1;
          if (!(await nextDeal(probe, seen, performance.now()))) result.lost += 1;
          continue;
        }
        const found = await nextDeal(probe, seen, at202);
        if (!found) {
          result.lost += 1;
          continue;
        }
        result.samples.push({
          visibleMs: found.seenAt - at202,
          completedMs: Date.parse(found.entry.completedAt) - wallAt202,
          startedAtMs: at202 - started,
        });
        nextStart += gapMs;
      }
    }),
  );
  return result;
}
