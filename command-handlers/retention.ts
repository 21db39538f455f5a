/**
 * How long this product's aggregates recognise a repeated command (see
 * domain/operation-memory.ts): a policy of the product (its idempotency keys, its markets'
 * order memory), given to the handlers that record it beside the generic command
 * environment of infra/eventsourcing/.
 */
import { isoOf } from '../domain/time.js';

export interface Retention {
  /** A retried request with an idempotency key: the keys' retention. */
  retriesMs: number;
  /** A repeated placement in a market: a racing copy of the request, a redelivered submission. */
  marketOrdersMs: number;
}

export const defaultRetention: Retention = { retriesMs: 24 * 3_600_000, marketOrdersMs: 60_000 };

/** What a handler that records how long a command is remembered is given. */
export interface RetentionSetting {
  /** Default: `defaultRetention`. */
  retention?: Retention;
}

/** Until when (ISO time) a command decided `now` is recognised if repeated: `retriable` ones for the retention, others not at all. */
export function rememberUntil(
  env: RetentionSetting,
  now: Date | number,
  retriable: boolean,
  kind: keyof Retention = 'retriesMs',
): string {
  const ms = retriable ? (env.retention ?? defaultRetention)[kind] : 0;
  return isoOf((typeof now === 'number' ? now : now.getTime()) + ms);
}
