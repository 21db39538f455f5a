/**
 * Exponential backoff with jitter, and a retry loop for idempotent operations (reads).
 * Jitter spreads the reconnections of many clients after a server restart.
 */
import { isTransient, toStoreError } from './errors.js';

export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialDelayMs: number;
  /** Upper bound on any single delay. */
  maxDelayMs: number;
}

/** "Equal jitter": half the exponential delay, plus a random part up to the other half. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `operation` up to `attempts` times while it fails transiently; the last transient
 * failure becomes `EventStoreUnavailable`. Only for operations that are safe to repeat.
 */
export async function withRetries<T>(
  action: string,
  attempts: number,
  policy: BackoffPolicy,
  operation: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error) || attempt + 1 >= attempts) throw toStoreError(error, action);
      await sleep(backoffDelay(attempt, policy));
    }
  }
}
