/**
 * The answers given to requests that carried an `Idempotency-Key`, kept so that a later
 * request with the same key gets the same answer again.
 *
 * They are not business facts, so they do not go to the event store: a keyed request's
 * effect is already applied once by the operation id derived from its key (see
 * infra/http/idempotency.ts); what is kept here is only the answer to replay, for a
 * limited time (the specification asks for at least 24 hours). That is one indexed read
 * and one insert per keyed request, next to the read models, instead of an event stream
 * per key that would be read, appended and synced and then kept forever.
 */
export interface KeptAnswer {
  /** Method, path and canonical body of the request (a different request with the key is refused). */
  fingerprint: string;
  status: number;
  /** The body as JSON text; null when there was none. */
  body: string | null;
  headers: Record<string, string>;
  /** When it was answered, in ms since the epoch: what its expiry counts from. */
  at: number;
}

export interface IdempotencyRecords {
  /** The answer kept for this caller's key, if any. */
  find(scope: string, key: string): Promise<KeptAnswer | null>;
  /**
   * Records that a request with this key is being attempted at `at` (ms) unless one was
   * before, and returns when the first attempt was: a request that finds no kept answer but
   * an earlier attempt is a retry of one that may have changed things without answering.
   * Committed before it returns (synced to disk only where the store is told to: `syncClaims`).
   */
  claim(scope: string, key: string, at: number): Promise<number>;
  /**
   * Keeps the answer unless one is kept for the key already (a copy of the request that
   * finished first): then that one is returned and this one dropped.
   */
  keep(scope: string, key: string, answer: KeptAnswer): Promise<KeptAnswer | null>;
  /** Forgets the answers and claims older than the retention; returns how many. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

export interface RecordsOptions {
  /** How long an answer is kept, in ms. */
  retentionMs: number;
  /** Whether a claim is synced to disk before it returns (an embedded store synced like the event store). */
  syncClaims?: boolean;
  now?: () => number;
  /** How often a store that expires nothing by itself purges (tests shorten it). */
  purgeEveryMs?: number;
  /** Told when a scheduled purge fails (it is tried again at the next). */
  onPurgeError?: (error: unknown) => void;
}
