import Router from '@koa/router';
import type { SubscriptionReport } from '../metrics/subscription-health.js';

export interface Dependency {
  name: string;
  ping(): Promise<void>;
}

/** What a readiness check found: whether every dependency answered, and each one's `ok` or `failed: <why>`. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, string>;
}

/** Where a dependency turning unready, and ready again, is told (pino's signature). */
export interface ProbeLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface ProbeOptions {
  /** How long each dependency may take to answer (default 2 s). */
  timeoutMs?: number;
  /** Told, with why, when a dependency turns unready or ready again (and every minute it stays unready). */
  log?: ProbeLog;
  /** Publishes each dependency's state when scraped (`marketplace_ready`). */
  metrics?: { followReadiness(check: () => Promise<ReadinessReport>): void };
}

/** While a dependency stays unready, its reason is logged again this often (lag figures change all the time). */
const REPEAT_UNREADY_MS = 60_000;

/**
 * `/health`: the process is alive (no dependency is consulted, so a slow store never gets
 * the process restarted). `/ready`: every dependency (the stores, the read models) answered
 * within the time limit, so the instance can take traffic.
 *
 * `/ready` is public, so it says only ready or not (200 `{ status: 'ready' }`, 503
 * `{ status: 'unavailable' }`): which store failed and how (an address, a driver's
 * message, how far a read model lags) is for operators, in the log (a line when a
 * dependency turns unready, with why, and when it is back) and in `/metrics`
 * (`marketplace_ready{dependency}`, beside the read models' lag and rebuild gauges).
 */
export function probeRoutes(dependencies: Dependency[], options: ProbeOptions = {}): Router {
  const readiness = new Readiness(dependencies, options.timeoutMs ?? 2000, options.log);
  options.metrics?.followReadiness(() => readiness.check());
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    const { ready } = await readiness.check();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable' };
  });
  return router;
}

/** Checks the dependencies and tells the log of every change in what they answer. */
export class Readiness {
  /** Per dependency: what it last answered, and when its failure was last logged. */
  readonly #last = new Map<string, { result: string; loggedAt: number }>();

  constructor(
    private readonly dependencies: Dependency[],
    private readonly timeoutMs: number,
    private readonly log?: ProbeLog,
  ) {}

  async check(): Promise<ReadinessReport> {
    const checks = await Promise.all(
      this.dependencies.map(async (d) => [d.name, await check(d, this.timeoutMs)] as const),
    );
    for (const [name, result] of checks) this.#tell(name, result);
    return { ready: checks.every(([, result]) => result === 'ok'), checks: Object.fromEntries(checks) };
  }

  #tell(dependency: string, result: string): void {
    const now = Date.now();
    const last = this.#last.get(dependency);
    if (result === 'ok') {
      if (last && last.result !== 'ok') this.log?.info({ dependency }, `ready again: ${dependency} answers`);
      this.#last.set(dependency, { result, loggedAt: now });
      return;
    }
    const news = !last || last.result === 'ok' || now - last.loggedAt >= REPEAT_UNREADY_MS;
    if (news) this.log?.warn({ dependency, reason: result }, `not ready: ${dependency} ${result}`);
    this.#last.set(dependency, { result, loggedAt: news ? now : last.loggedAt });
  }
}

async function check(dependency: Dependency, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      dependency.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

export interface ReadinessBounds {
  /** Most events a projection the API reads may have yet to handle. */
  maxLagEvents: number;
  /** Longest the oldest of those events may have waited, in milliseconds. */
  maxLagMs: number;
}

/**
 * The read models the API answers from, as a dependency of `/ready`: unready while one of
 * them is being rebuilt (its view is incomplete) or lags beyond the bounds, and while any
 * runner this process follows — a process manager's too — waits out a failure (a full
 * disk, a store that refuses writes: the stores may still answer a ping). Process
 * managers are not read by the API: their lag shows in the metrics only.
 */
export function readModelsReadiness(
  health: { report(): Promise<SubscriptionReport[]> },
  bounds: ReadinessBounds,
): Dependency {
  return {
    name: 'readModels',
    async ping() {
      const reasons = (await health.report()).flatMap((r) =>
        r.retrying ? [`${r.name} is retrying: ${r.retrying}`] : r.kind === 'projection' ? notReady(r, bounds) : [],
      );
      if (reasons.length > 0) throw new Error(reasons.join('; '));
    },
  };
}

function notReady(report: SubscriptionReport, bounds: ReadinessBounds): string[] {
  if (report.rebuilding) return [`${report.name} is being rebuilt`];
  const lagMs = Math.round(report.lagSeconds * 1000);
  if (report.lagEvents > bounds.maxLagEvents)
    return [`${report.name} is ${report.lagEvents} events behind (at most ${bounds.maxLagEvents} allowed)`];
  if (lagMs > bounds.maxLagMs) return [`${report.name} is ${lagMs} ms behind (at most ${bounds.maxLagMs} allowed)`];
  return [];
}

/** The projector thread as a dependency of `/ready`: unready while it is down (dead, waiting to be restarted). */
export function projectorReadiness(process: { projectorDown(): string | null }): Dependency {
  return {
    name: 'projector',
    async ping() {
      const down = process.projectorDown();
      if (down) throw new Error(down);
    },
  };
}
