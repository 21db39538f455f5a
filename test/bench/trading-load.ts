/**
 * The load generators of `npm run bench:trading`, both run in this process against the
 * server in its own:
 *
 * - `closedLoop`: autocannon, `connections` connections each sending its next request as
 *   soon as the previous one is answered: the most the server can take (the peak run).
 *   Sized by a number of requests (autocannon's `amount`), not a duration, so every
 *   request sent is answered and counted (see http-load.ts for why).
 * - `paced`: an open-loop generator on node:http with keep-alive sockets that sends request
 *   i at start + i / rate, whether or not earlier ones were answered (at most `maxInFlight`
 *   outstanding): a steady offered load, as clients arriving independently make it.
 *   autocannon's own `overallRate` is not used: it sends each connection's share of a
 *   second back to back at the start of that second, a burst, then nothing.
 *
 * Every answer is reported with its request's index and body (the caller reads the
 * order's status from it), when it arrived and how long it took.
 */
import { Agent, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

export interface TradeRequest {
  method: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  baseUrl: string;
  /** Requests to send; each is built by `next(i)`, i counting from 0. */
  amount: number;
  next(i: number): TradeRequest;
  /** Every answer: the request's index, status, body, ms since the run started when it arrived, and its latency in ms. */
  onAnswer(i: number, status: number, body: string, atMs: number, latencyMs: number): void;
}

export interface LoadResult {
  seconds: number;
  sent: number;
  answered: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCounts: Record<string, number>;
  /** Latencies of 2xx answers in ms, sorted. */
  latencies: Float64Array;
  /** CPU this process (the load generator) used during the run, in ms. */
  generatorCpuMs: number;
  /** The first few connection errors and non-2xx answers, to say what went wrong. */
  firstErrors: string[];
  /** Paced runs: how late sends were against their schedule (sorted, ms), and how many waited for a free slot. */
  sendDelays?: Float64Array;
  heldBack?: number;
}

// ---- closed loop: autocannon (no types ship with it, so the members used are declared here) ----

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?(request: AutocannonRequest, context: Record<string, unknown>): AutocannonRequest;
  onResponse?(
    status: number,
    body: string,
    context: Record<string, unknown>,
    headers: Record<string, string | string[]>,
  ): void;
}

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  requests: { sent: number };
  statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonInstance {
  on(event: 'reqError', listener: (error: Error) => void): void;
}

type Autocannon = (
  options: { url: string; connections: number; amount: number; timeout: number; requests: AutocannonRequest[] },
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

class Latencies {
  private values = new Float64Array(1 << 14);
  private count = 0;
  add(ms: number): void {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = ms;
  }
  sorted(): Float64Array {
    return this.values.slice(0, this.count).sort();
  }
}

export function closedLoop(options: LoadOptions & { connections: number }): Promise<LoadResult> {
  let sent = 0;
  const latencies = new Latencies();
  const firstErrors: string[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let lastAnswerAt = started;
  const request: AutocannonRequest = {
    method: 'POST',
    path: '/',
    // autocannon builds a connection's next request just before sending it, with a fresh
    // context for it; the answer comes back with that same context.
    setupRequest: (base, context) => {
      const i = sent++;
      const built = options.next(i);
      context.i = i;
      context.sentAt = performance.now();
      return {
        ...base,
        method: built.method,
        path: built.path,
        headers: { ...base.headers, ...built.headers },
        body: built.body ?? '',
      };
    },
    onResponse: (status, body, context) => {
      const now = performance.now();
      lastAnswerAt = now;
      const latency = now - Number(context.sentAt);
      if (status >= 200 && status <= 299) latencies.add(latency);
      else if (firstErrors.length < 5) firstErrors.push(`${status} ${body.slice(0, 300)}`);
      options.onAnswer(Number(context.i), status, body, now - started, latency);
    },
  };
  return new Promise((resolve, reject) => {
    const connections = Math.min(options.connections, options.amount);
    const instance = autocannon(
      { url: options.baseUrl, connections, amount: options.amount, timeout: 30, requests: [request] },
      (error, result) => {
        if (error) return reject(error);
        const cpu = process.cpuUsage(cpuBefore);
        const statusCounts: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCounts[code] = Number(count);
        resolve({
          // Until the last answer: autocannon reports the end of an `amount` run at its next
          // once-a-second tick, which would add up to a second of idle to the run.
          seconds: (lastAnswerAt - started) / 1000,
          sent: result.requests.sent,
          answered: result['2xx'] + result.non2xx,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCounts,
          latencies: latencies.sorted(),
          generatorCpuMs: (cpu.user + cpu.system) / 1000,
          firstErrors,
        });
      },
    );
    instance.on('reqError', (error) => {
      if (firstErrors.length < 5) firstErrors.push(error.message);
    });
  });
}

// ---- open loop: paced sends on node:http ----

export function paced(options: LoadOptions & { rate: number; maxInFlight: number }): Promise<LoadResult> {
  const url = new URL(options.baseUrl);
  // Idle keep-alive sockets are closed by the server after 5 s (Node's keepAliveTimeout);
  // reusing one just as it closes fails with ECONNRESET. So: sockets used in turn (fifo,
  // none sits idle for long) and dropped here after 3 s idle, before the server does.
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxInFlight, scheduling: 'fifo', timeout: 3000 });
  const latencies = new Latencies();
  const delays = new Latencies();
  const firstErrors: string[] = [];
  const statusCounts: Record<string, number> = {};
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const interval = 1000 / options.rate;
  let sent = 0;
  let inFlight = 0;
  let answered = 0;
  let ok = 0;
  let errors = 0;
  let heldBack = 0;
  let blocked = false;

  return new Promise((resolve) => {
    const finish = () => {
      agent.destroy();
      const cpu = process.cpuUsage(cpuBefore);
      resolve({
        seconds: (performance.now() - started) / 1000,
        sent,
        answered,
        ok,
        non2xx: answered - ok,
        errors,
        timeouts: 0,
        statusCounts,
        latencies: latencies.sorted(),
        generatorCpuMs: (cpu.user + cpu.system) / 1000,
        firstErrors,
        sendDelays: delays.sorted(),
        heldBack,
      });
    };
    const settled = () => {
      inFlight -= 1;
      if (sent === options.amount && inFlight === 0) finish();
    };
    const send = (i: number, due: number) => {
      const built = options.next(i);
      const body = built.body ?? '';
      const sentAt = performance.now();
      delays.add(sentAt - due);
      inFlight += 1;
      const req = httpRequest(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: built.method,
          path: built.path,
          headers: { ...built.headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const now = performance.now();
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString();
            answered += 1;
            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
            if (status >= 200 && status <= 299) {
              ok += 1;
              latencies.add(now - sentAt);
            } else if (firstErrors.length < 5) firstErrors.push(`${status} ${text.slice(0, 300)}`);
            options.onAnswer(i, status, text, now - started, now - sentAt);
            settled();
          });
        },
      );
      req.on('error', (error) => {
        errors += 1;
        if (firstErrors.length < 5) firstErrors.push(error.message);
        settled();
      });
      req.end(body);
    };
    const tick = () => {
      const now = performance.now();
      const due = Math.min(options.amount, Math.floor((now - started) / interval) + 1);
      while (sent < due) {
        if (inFlight >= options.maxInFlight) {
          if (!blocked) heldBack += 1;
          blocked = true;
          break;
        }
        blocked = false;
        const i = sent++;
        send(i, started + i * interval);
      }
      if (sent < options.amount)
        setTimeout(tick, Math.max(0, Math.min(5, started + sent * interval - performance.now())));
    };
    tick();
  });
}

/** Percentile of sorted values (same rule as report.ts). */
export function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}
