/**
 * Waiting between retries: exponential backoff with "equal jitter" (half the delay fixed,
 * half random), so many clients retrying after the same outage spread out over time.
 */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialDelayMs: number;
  /** Upper bound on any single delay. */
  maxDelayMs: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts (shutdown must not wait out a backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
