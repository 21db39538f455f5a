/**
 * Watching a server under test from outside: its resident memory (all threads: V8 heaps,
 * SQLite page caches, buffers) read from /proc, sampled over a run; and how long it takes
 * to answer `/ready` after a start.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ServerProcess } from './http-child.js';
import { call, sleep } from './trading-http.js';

/** The process's resident set now, in MiB (0 when it is gone). */
export function rssMb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `everyMs` until stopped: the highest seen, and every sample. */
export class RssSampler {
  readonly samples: Array<{ at: number; mb: number }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 500,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    const mb = rssMb(this.pid);
    this.samples.push({ at: performance.now(), mb });
    return mb;
  }

  /** The highest sample taken at or after `from` (performance.now() time), and overall by default. */
  max(from = 0): number {
    return this.samples.filter((s) => s.at >= from).reduce((m, s) => Math.max(m, s.mb), 0);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The product's server on `dataDir`, durable, silent, on a free loopback port. */
export function startServer(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return ServerProcess.start({
    mode: 'api',
    env: { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', EMBEDDED_DURABILITY: 'full', LOG_LEVEL: 'silent', ...env },
  });
}

/** Polls `/ready` until it answers 200; how long that took (ms). */
export async function untilReady(baseUrl: string, timeoutMs = 600_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const answer = await call(baseUrl, 'GET', '/ready').catch(() => null);
    if (answer?.status === 200) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`/ready not 200 within ${timeoutMs} ms (last: ${answer?.status ?? 'no answer'})`);
    await sleep(50);
  }
}

export const mb = (value: number) => `${value.toFixed(0)} MB`;
