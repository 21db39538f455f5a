/**
 * The orders one trader has submitted, across all items. Every placement is recorded here
 * before it reaches an item's market, so the stream's revision is the ETag of the trader's
 * order collection (If-Match on a placement) and a placement cut short by a crash can be
 * finished from this record.
 *
 * An order is remembered until its `rememberUntil` (the market order memory after it was
 * submitted): only a copy or a retry of the same request can submit the same order id
 * again. A retry that comes later carries when its request was first attempted: once this
 * stream has forgotten past that attempt's memory, an order it does not know may have been
 * submitted and forgotten, so it is refused as expired rather than submitted twice. So the
 * stream holds a minute of orders, not a day of them (the request's kept answer, outside
 * the event store, replays it for the idempotency retention).
 */
import { BusinessRuleViolation, type Decider } from '../decider.js';
import { messages } from '../messages.js';
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
  /** The time up to which orders have been let go (the latest event's time): an order remembered until before it may be forgotten. */
  forgottenBefore: number;
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
      /**
       * Until when an order submitted by the first attempt of this request is surely still
       * remembered (that attempt's time plus the memory); absent: a first attempt.
       */
      firstAttemptRememberedUntil?: string;
      at: string;
    }
  | { type: 'RejectOrder'; userId: string; orderId: string; reason: string; at: string };

function rememberUntilOf(data: { rememberUntil?: string; at: string }): number {
  return data.rememberUntil ? msOf(data.rememberUntil) : msOf(data.at) + LEGACY_MEMORY_MS;
}

export const traderOrders: Decider<TraderOrdersState, TraderOrdersCommand, TraderOrdersEvent> = {
  initialState: () => ({
    orders: WindowMap.empty(),
    rejected: WindowMap.empty(),
    forgottenBefore: Number.NEGATIVE_INFINITY,
  }),
  snapshot: traderOrdersSnapshot,
  weigh: (state) => 300 + 260 * state.orders.size + 90 * state.rejected.size,
  // A submission of an order already here: a copy or a retry of the same placement, which changes nothing.
  isRepeat: (command, state) => command.type === 'SubmitOrder' && state.orders.has(command.orderId),
  evolve(state, event) {
    const now = msOf(event.data.at);
    if (event.type === 'OrderSubmitted') {
      const { orderId, itemId, side, price, at } = event.data;
      const rememberUntil = rememberUntilOf(event.data);
      const orders = state.orders.add(orderId, { itemId, side, price, at, rememberUntil }, rememberUntil);
      return forget({ ...state, orders }, now);
    }
    // An order rejects only once it was submitted (decide checks), so it is known here.
    const until = state.orders.get(event.data.orderId)?.rememberUntil ?? rememberUntilOf(event.data);
    return forget({ ...state, rejected: state.rejected.add(event.data.orderId, true, until) }, now);
  },
  decide(command, state) {
    const known = state.orders.get(command.orderId);
    if (command.type === 'SubmitOrder') {
      if (known) return [];
      refuseIfForgotten(state, command.firstAttemptRememberedUntil);
      const { type: _type, firstAttemptRememberedUntil: _first, ...data } = command;
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

function forget(state: TraderOrdersState, now: number): TraderOrdersState {
  return {
    orders: state.orders.forgetBefore(now),
    rejected: state.rejected.forgetBefore(now),
    forgottenBefore: Math.max(state.forgottenBefore, now),
  };
}

/** A retry whose first attempt's order, if it submitted one, may be forgotten by now: placing it could place it twice. */
function refuseIfForgotten(state: TraderOrdersState, firstAttemptRememberedUntil: string | undefined): void {
  if (firstAttemptRememberedUntil !== undefined && msOf(firstAttemptRememberedUntil) < state.forgottenBefore) {
    throw new BusinessRuleViolation('order_expired', messages.orderExpired);
  }
}
