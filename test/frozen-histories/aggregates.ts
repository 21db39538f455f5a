/**
 * Which decider folds the streams of each prefix, for recording and checking the states a
 * frozen history must produce. Email claims are left out: their decider keeps no snapshot,
 * so no state of theirs is recorded (the test folds each claim on its own).
 */
import { account } from '../../domain/billing/account.js';
import { ACCOUNT_STREAM_PREFIX } from '../../domain/billing/events.js';
import type { Decider, DomainEvent } from '../../domain/decider.js';
import { USER_STREAM_PREFIX } from '../../domain/identity/events.js';
import { user } from '../../domain/identity/user.js';
import { customerOrders } from '../../domain/ordering/customer-orders.js';
import { CUSTOMER_ORDERS_STREAM_PREFIX } from '../../domain/ordering/events.js';
import { MARKET_STREAM_PREFIX, TRADER_ORDERS_STREAM_PREFIX } from '../../domain/trading/events.js';
import { market } from '../../domain/trading/market.js';
import { traderOrders } from '../../domain/trading/trader-orders.js';

// Deciders of different state types in one table: each is only ever used with its own streams.
type AnyDecider = Decider<unknown, never, DomainEvent>;

const aggregates: ReadonlyArray<{ prefix: string; name: string; decider: AnyDecider }> = [
  { prefix: ACCOUNT_STREAM_PREFIX, name: 'account', decider: account as unknown as AnyDecider },
  { prefix: USER_STREAM_PREFIX, name: 'user', decider: user as unknown as AnyDecider },
  { prefix: MARKET_STREAM_PREFIX, name: 'market', decider: market as unknown as AnyDecider },
  { prefix: TRADER_ORDERS_STREAM_PREFIX, name: 'trader-orders', decider: traderOrders as unknown as AnyDecider },
  { prefix: CUSTOMER_ORDERS_STREAM_PREFIX, name: 'customer-orders', decider: customerOrders as unknown as AnyDecider },
];

/** The decider of a stream, or null for a stream whose state is not recorded (an email claim). */
export function aggregateOf(streamId: string): { name: string; decider: AnyDecider } | null {
  return aggregates.find((a) => streamId.startsWith(a.prefix)) ?? null;
}
