import Router from '@koa/router';

export interface Dependency {
  name: string;
  ping(): Promise<void>;
}

/**
 * `/health`: the process is alive (no dependency is consulted, so a slow store never gets
 * the process restarted). `/ready`: every store answered within the time limit, so the
 * instance can take traffic.
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
