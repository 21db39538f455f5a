/**
 * How busy and how fast the machine is while a benchmark runs. A benchmark's figures are
 * comparable only between runs on a machine as fast: the reference machine's speed drifts
 * by a third and more over hours (docs/PERFORMANCE.md, "Why the code is as it is",
 * "Benchmarks"), and the load average does not show it. The CPU check is meant to: a fixed workload of the kind
 * the server's threads run, timed in one thread.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

export const loadAverage = (): string =>
  `${loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')} (1 / 5 / 15 min)`;

/** One pass: what a request and a projection mostly do — build small objects, JSON both ways, Map sets, gets and deletes. */
function workload(): number {
  const byId = new Map<string, { id: string; price: number; side: string }>();
  let checksum = 0;
  for (let i = 0; i < 20_000; i++) {
    const order = {
      id: `order-${i}`,
      price: i % 997,
      side: i % 2 === 0 ? 'buy' : 'sell',
      at: '2026-01-01T00:00:00.000Z',
    };
    const copy = JSON.parse(JSON.stringify(order)) as typeof order;
    byId.set(copy.id, copy);
    if (i >= 100) byId.delete(`order-${i - 100}`);
    checksum += byId.get(copy.id)!.price;
  }
  return checksum;
}

/** Milliseconds one thread takes for the fixed workload now (median of 7 passes, after a warm-up): lower is faster. */
export function cpuCheckMs(): number {
  let checksum = workload();
  const took: number[] = [];
  for (let pass = 0; pass < 7; pass++) {
    const started = performance.now();
    checksum += workload();
    took.push(performance.now() - started);
  }
  // The checksum is used, so the passes cannot be optimised away.
  if (checksum < 0) throw new Error('unreachable');
  return took.sort((a, b) => a - b)[3]!;
}

export const cpuCheckText = (): string =>
  `${cpuCheckMs().toFixed(1)} ms (a fixed JSON and Map workload in one thread; lower is faster)`;
