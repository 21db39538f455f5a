/**
 * The load generator of `npm run bench:http`: autocannon (no types ship with it, so the
 * few members used are declared here), run in this process against a server in another.
 * Every request is built by `next(i)` (a global counter, so users are picked round-robin
 * across all connections); latencies of 2xx answers are kept at full resolution.
 *
 * Runs are sized by a number of requests (autocannon's `amount`), not a duration: with a
 * duration autocannon drops its connections when the time is up, and the requests then
 * in flight (one per connection) are still carried out by the server without their
 * answers ever being counted, so balances could not be checked against the 2xx count.
 * With `amount` every request sent is answered and counted.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?(request: AutocannonRequest, context: object): AutocannonRequest;
  onResponse?(status: number, body: string, context: object, headers: Record<string, string | string[]>): void;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  amount: number;
  timeout?: number;
  requests: AutocannonRequest[];
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  totalCompletedRequests: number;
  requests: { sent: number };
  statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonInstance {
  on(
    event: 'response',
    listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void,
  ): void;
  on(event: 'reqError', listener: (error: Error) => void): void;
}

type Autocannon = (
  options: AutocannonOptions,
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  /** Requests to send (at least `connections`); each connection sends its share, one at a time. */
  amount: number;
  /** The i-th request of the run (i counts from 0 across every connection). */
  next(i: number): LoadRequest;
  /** Sees every answer's headers (names in lower case), e.g. to keep the last event position. */
  onHeaders?(status: number, headers: Record<string, string>): void;
}

export interface LoadResult {
  seconds: number;
  /** Requests sent (autocannon's count), all answered unless `errors` say otherwise. */
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCounts: Record<string, number>;
  /** Latencies of 2xx answers in ms, sorted. */
  latencies: Float64Array;
  /** 2xx answers per second over the second half of the run (warmer than the first). */
  lateRate: number;
  /** CPU this process (the load generator) used during the run, in ms. */
  generatorCpuMs: number;
  /** The first few connection errors and non-2xx answers (status and body), to say what went wrong. */
  firstErrors: string[];
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  let sent = 0;
  let latencies = new Float64Array(1 << 16);
  let arrivals = new Float64Array(1 << 16);
  let recorded = 0;
  const firstErrors: string[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let lastAnswerAt = started;
  const request: AutocannonRequest = {
    method: 'POST',
    path: '/',
    setupRequest: (base) => {
      const built = options.next(sent++);
      return {
        ...base,
        method: built.method,
        path: built.path,
        headers: { ...base.headers, ...built.headers },
        body: built.body ?? '',
      };
    },
  };
  request.onResponse = (status, body, _context, headers) => {
    if ((status < 200 || status > 299) && firstErrors.length < 5) firstErrors.push(`${status} ${body.slice(0, 300)}`);
    if (!options.onHeaders) return;
    const lower: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers))
      lower[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    options.onHeaders(status, lower);
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        amount: Math.max(options.amount, options.connections),
        timeout: 30,
        requests: [request],
      },
      (error, result) => {
        if (error) return reject(error);
        const cpu = process.cpuUsage(cpuBefore);
        const sorted = latencies.subarray(0, recorded).sort();
        const half = Math.floor(recorded / 2);
        const lateSpan = recorded > 1 ? arrivals[recorded - 1]! - arrivals[half]! : 0;
        const statusCounts: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCounts[code] = Number(count);
        resolve({
          // Until the last answer: autocannon reports the end of an `amount` run at its next
          // once-a-second tick, which would add up to a second of idle to the run.
          seconds: (lastAnswerAt - started) / 1000,
          sent: result.requests.sent,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCounts,
          latencies: sorted,
          lateRate: lateSpan > 0 ? ((recorded - 1 - half) / lateSpan) * 1000 : 0,
          generatorCpuMs: (cpu.user + cpu.system) / 1000,
          firstErrors,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastAnswerAt = performance.now();
      if (statusCode < 200 || statusCode > 299) return;
      if (recorded === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
        const later = new Float64Array(arrivals.length * 2);
        later.set(arrivals);
        arrivals = later;
      }
      arrivals[recorded] = performance.now();
      latencies[recorded++] = responseTime;
    });
    instance.on('reqError', (error) => {
      if (firstErrors.length < 5) firstErrors.push(error.message);
    });
  });
}

/** Percentile of sorted latencies (same rule as report.ts). */
export function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}
