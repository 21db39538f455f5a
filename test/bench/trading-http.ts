/**
 * The HTTP client side of `npm run bench:trading` for everything but the load itself:
 * set-up calls, probes and checks (fetch, one request at a time per caller), and a small
 * worker pool. The load goes through trading-load.ts.
 */
import { performance } from 'node:perf_hooks';

import { call, type Answer } from './http-client.js';

export { call, type Answer, type CallOptions } from './http-client.js';

export function expectStatus(answer: Answer, status: number, what: string): void {
  if (answer.status !== status)
    throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** Runs `work` over `items` with at most `width` calls in flight; results in the items' order. */
export async function inPool<T, R>(
  items: T[],
  width: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!, i);
    }),
  );
  return results;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * GET with read-your-writes at `position` (X-Event-Position), repeated while the read
 * models are still catching up (503) or the resource is not there yet (404).
 */
export async function getAt(
  baseUrl: string,
  path: string,
  token: string | undefined,
  position: string | null,
  deadline: number,
): Promise<Answer> {
  const headers: Record<string, string> = position ? { 'x-event-position': position } : {};
  for (;;) {
    const answer = await call(baseUrl, 'GET', path, { token, headers });
    if (answer.status === 200) return answer;
    if ((answer.status !== 503 && answer.status !== 404) || performance.now() > deadline) {
      throw new Error(`GET ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    await sleep(100);
  }
}
