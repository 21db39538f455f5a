import Router from '@koa/router';
import type { SubscriptionReport } from '../metrics/subscription-health.js';

export interface Dependency {
  name: string;
  ping(): Promise<void>;
}

/**
 * `/health`: the process is alive (no dependency is consulted, so a slow store never gets
 * the process restarted). `/ready`: every dependency (the stores, the read models) answered
 * within the time limit, so the instance can take traffic.
 */
export function probeRoutes(dependencies: Dependency[], timeoutMs = 2000): Router {
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    const checks = await Promise.all(dependencies.map(async (d) => [d.name, await check(d, timeoutMs)] as const));
    const ready = checks.every(([, result]) => result === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(checks) };
  });
  return router;
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
 * them is being rebuilt (its view is incomplete) or lags beyond the bounds. Process
 * managers are not read by the API: their lag shows in the metrics only.
 */
export function readModelsReadiness(
  health: { report(): Promise<SubscriptionReport[]> },
  bounds: ReadinessBounds,
): Dependency {
  return {
    name: 'readModels',
    async ping() {
      const reasons = (await health.report())
        .filter((r) => r.kind === 'projection')
        .flatMap((r) => notReady(r, bounds));
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
