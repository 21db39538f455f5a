/**
 * The orders one trader has submitted, across all items. Every placement is recorded here
 * before it reaches an item's market, so the stream's revision is the ETag of the trader's
 * order collection (If-Match on a placement) and a placement cut short by a crash can be
 * finished from this record.
 */
import { Map as IMap } from 'immutable';
import type { Decider } from '../decider.js';
import type { Cents } from '../money.js';
import type { Side, TraderOrdersEvent } from './events.js';

export interface SubmittedOrder {
  itemId: string;
  side: Side;
  price: Cents;
  rejected: boolean;
}

export interface TraderOrdersState {
  orders: IMap<string, SubmittedOrder>;
}

export type TraderOrdersCommand =
  | { type: 'SubmitOrder'; userId: string; orderId: string; side: Side; itemId: string; price: Cents; at: string }
  | { type: 'RejectOrder'; userId: string; orderId: string; reason: string; at: string };

export const traderOrders: Decider<TraderOrdersState, TraderOrdersCommand, TraderOrdersEvent> = {
  initialState: () => ({ orders: IMap() }),
  evolve(state, event) {
    if (event.type === 'OrderSubmitted') {
      const { orderId, itemId, side, price } = event.data;
      return { orders: state.orders.set(orderId, { itemId, side, price, rejected: false }) };
    }
    return { orders: state.orders.update(event.data.orderId, (o) => o && { ...o, rejected: true }) };
  },
  decide(command, state) {
    const known = state.orders.get(command.orderId);
    if (command.type === 'SubmitOrder') {
      if (known) return [];
      const { type: _type, ...data } = command;
      return [{ type: 'OrderSubmitted', data }];
    }
    if (!known || known.rejected) return [];
    return [{ type: 'OrderRejected', data: { userId: command.userId, orderId: command.orderId, reason: command.reason, at: command.at } }];
  },
};
