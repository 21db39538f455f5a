/**
 * Token buckets, kept as one number each: the generic cell rate algorithm (GCRA). A bucket
 * of `perMinute` tokens, refilled at `perMinute` a minute, is the time its next token would
 * be due if every request took one (the "theoretical arrival time", `tat`): a request may
 * pass while that time is at most a minute ahead of now. Equivalent to a token bucket,
 * but a bucket is one number that a store can update with `max` and a conditional
 * increment, without a transaction (see mongo-rate-limits.ts).
 */

/** Whether a request may pass; when not, how long until it would (ms). */
export interface Taken {
  allowed: boolean;
  retryAfterMs: number;
}

/**
 * Where the buckets are kept: in this process, or (with several API processes) in a store
 * they share, so that a client cannot multiply its allowance by the number of processes.
 */
export interface BucketStore {
  /** Takes a token from the bucket `key` of `perMinute` tokens (refilled at as many a minute). */
  take(key: string, perMinute: number, now: number): Promise<Taken>;
  close(): Promise<void>;
}

/** How far ahead of now a bucket's due time may be: a minute, the time to refill a full bucket. */
export const BUCKET_SPAN_MS = 60_000;

/** The time one token takes to come back. */
export const tokenInterval = (perMinute: number): number => BUCKET_SPAN_MS / perMinute;

/** One request against a bucket due at `tat` (undefined: a full bucket): the outcome and the bucket's next due time. */
export function takeToken(tat: number | undefined, now: number, perMinute: number): Taken & { tat: number } {
  const start = Math.max(tat ?? now, now);
  const next = start + tokenInterval(perMinute);
  const ahead = next - now;
  if (ahead > BUCKET_SPAN_MS) return { allowed: false, retryAfterMs: ahead - BUCKET_SPAN_MS, tat: start };
  return { allowed: true, retryAfterMs: 0, tat: next };
}

/** Buckets past this many are swept of the full ones, then the oldest let go (memory stays bounded). */
const MAX_BUCKETS = 100_000;

/** The buckets of one process (the embedded default: one API process). */
export function inProcessBuckets(maxBuckets = MAX_BUCKETS): BucketStore {
  const due = new Map<string, number>();
  const sweep = (now: number) => {
    // A bucket due in the past is full again: the same as no bucket.
    for (const [key, tat] of due) if (tat <= now) due.delete(key);
    for (const key of due.keys()) {
      if (due.size < maxBuckets) break;
      due.delete(key);
    }
  };
  return {
    async take(key, perMinute, now) {
      const taken = takeToken(due.get(key), now, perMinute);
      if (taken.allowed) {
        if (!due.has(key) && due.size >= maxBuckets) sweep(now);
        due.set(key, taken.tat);
      }
      return { allowed: taken.allowed, retryAfterMs: taken.retryAfterMs };
    },
    close: async () => due.clear(),
  };
}
