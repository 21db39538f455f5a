/** A retry loop for idempotent operations (reads), with the shared backoff. */
import { backoffDelay, sleep, type BackoffPolicy } from '../eventsourcing/backoff.js';
import { isTransient, toStoreError } from './errors.js';

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
