/**
 * The orders one trader has submitted, across all items. Every placement is recorded here
 * before it reaches an item's market, so the stream's revision is the ETag of the trader's
 * order collection (If-Match on a placement) and a placement cut short by a crash can be
 * finished from this record.
 *
 * An order is remembered until its `rememberUntil` (the request's idempotency retention):
 * only a retry of the same request can submit the same order id again, and only until then.
 */
import type { Decider } from '../decider.js';
import type { Cents } from '../money.js';
import { LEGACY_MEMORY_MS } from '../operation-memory.js';
import { WindowMap } from '../window-map.js';
import type { Side, TraderOrdersEvent } from './events.js';
import { traderOrdersSnapshot } from './trader-orders-snapshot.js';
import { msOf } from '../time.js';

export interface SubmittedOrder {
  itemId: string;
  side: Side;
  price: Cents;
  /** When it was submitted: a retried placement is entered in the market as of then. */
  at: string;
  /** Until when (ms) a retry can submit it again: its rejection is remembered as long. */
  rememberUntil: number;
}

export interface TraderOrdersState {
  orders: WindowMap<string, SubmittedOrder>;
  /** Orders the market turned down, remembered as long as the order itself. */
  rejected: WindowMap<string, true>;
}

export type TraderOrdersCommand =
  | {
      type: 'SubmitOrder';
      userId: string;
      orderId: string;
      side: Side;
      itemId: string;
      price: Cents;
      rememberUntil?: string;
      at: string;
    }
  | { type: 'RejectOrder'; userId: string; orderId: string; reason: string; at: string };

function rememberUntilOf(data: { rememberUntil?: string; at: string }): number {
  return data.rememberUntil ? msOf(data.rememberUntil) : msOf(data.at) + LEGACY_MEMORY_MS;
}

export const traderOrders: Decider<TraderOrdersState, TraderOrdersCommand, TraderOrdersEvent> = {
  initialState: () => ({ orders: WindowMap.empty(), rejected: WindowMap.empty() }),
  snapshot: traderOrdersSnapshot,
  weigh: (state) => 300 + 260 * state.orders.size + 90 * state.rejected.size,
  evolve(state, event) {
    const now = msOf(event.data.at);
    if (event.type === 'OrderSubmitted') {
      const { orderId, itemId, side, price, at } = event.data;
      const rememberUntil = rememberUntilOf(event.data);
      const orders = state.orders
        .add(orderId, { itemId, side, price, at, rememberUntil }, rememberUntil)
        .forgetBefore(now);
      return { orders, rejected: state.rejected.forgetBefore(now) };
    }
    // An order rejects only once it was submitted (decide checks), so it is known here.
    const until = state.orders.get(event.data.orderId)?.rememberUntil ?? rememberUntilOf(event.data);
    return {
      orders: state.orders.forgetBefore(now),
      rejected: state.rejected.add(event.data.orderId, true, until).forgetBefore(now),
    };
  },
  decide(command, state) {
    const known = state.orders.get(command.orderId);
    if (command.type === 'SubmitOrder') {
      if (known) return [];
      const { type: _type, ...data } = command;
      return [{ type: 'OrderSubmitted', data }];
    }
    if (!known || state.rejected.has(command.orderId)) return [];
    return [
      {
        type: 'OrderRejected',
        data: { userId: command.userId, orderId: command.orderId, reason: command.reason, at: command.at },
      },
    ];
  },
};
