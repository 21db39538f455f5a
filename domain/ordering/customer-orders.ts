/**
 * The plain ordering flow: a user orders something for a price, the price is paid from
 * their balance afterwards, and the order ends succeeded or failed. One stream per user,
 * whose revision is the ETag of their order list.
 *
 * Pending orders are held until they end; an ended order only until its `rememberUntil`
 * (the request's idempotency retention), the last moment a retry could create it again.
 */
import { Map as IMap } from 'immutable';
import type { FailureReason } from '../billing/events.js';
import type { Decider } from '../decider.js';
import type { Cents } from '../money.js';
import { LEGACY_MEMORY_MS } from '../operation-memory.js';
import { WindowMap } from '../window-map.js';
import { customerOrdersSnapshot } from './customer-orders-snapshot.js';
import type { CustomerOrderEvent, PlainOrderStatus } from './events.js';
import { msOf } from '../time.js';

export interface CustomerOrder {
  price: Cents;
  status: PlainOrderStatus;
}

export interface CustomerOrdersState {
  pending: IMap<string, { price: Cents; rememberUntil: number }>;
  ended: WindowMap<string, CustomerOrder>;
}

export type CustomerOrdersCommand =
  | { type: 'CreateOrder'; userId: string; orderId: string; price: Cents; rememberUntil?: string; at: string }
  | { type: 'MarkOrderPaid'; userId: string; orderId: string; at: string }
  | { type: 'MarkOrderUnpaid'; userId: string; orderId: string; reason: FailureReason; at: string };

/** The order as it stands, while it is remembered. */
export function customerOrderOf(state: CustomerOrdersState, orderId: string): CustomerOrder | undefined {
  const pending = state.pending.get(orderId);
  return pending ? { price: pending.price, status: 'pending' } : state.ended.get(orderId);
}

function evolve(state: CustomerOrdersState, event: CustomerOrderEvent): CustomerOrdersState {
  const now = msOf(event.data.at);
  const { orderId, price } = event.data;
  if (event.type === 'OrderCreated') {
    const rememberUntil = event.data.rememberUntil ? msOf(event.data.rememberUntil) : now + LEGACY_MEMORY_MS;
    return { pending: state.pending.set(orderId, { price, rememberUntil }), ended: state.ended.forgetBefore(now) };
  }
  const status: PlainOrderStatus = event.type === 'OrderSucceeded' ? 'succeeded' : 'failed';
  const rememberUntil = state.pending.get(orderId)?.rememberUntil ?? now;
  return {
    pending: state.pending.delete(orderId),
    ended: state.ended.add(orderId, { price, status }, rememberUntil).forgetBefore(now),
  };
}

export const customerOrders: Decider<CustomerOrdersState, CustomerOrdersCommand, CustomerOrderEvent> = {
  initialState: () => ({ pending: IMap(), ended: WindowMap.empty() }),
  snapshot: customerOrdersSnapshot,
  weigh: (state) => 300 + 160 * (state.pending.size + state.ended.size),
  // An order already created (a retry of the same keyed request) is not created again.
  isRepeat: (command, state) => command.type === 'CreateOrder' && customerOrderOf(state, command.orderId) !== undefined,
  evolve,
  decide(command, state) {
    const order = customerOrderOf(state, command.orderId);
    const { userId, orderId, at } = command;
    switch (command.type) {
      case 'CreateOrder': {
        if (order) return [];
        const memory = command.rememberUntil ? { rememberUntil: command.rememberUntil } : {};
        return [{ type: 'OrderCreated', data: { userId, orderId, price: command.price, ...memory, at } }];
      }
      case 'MarkOrderPaid':
        return order?.status === 'pending'
          ? [{ type: 'OrderSucceeded', data: { userId, orderId, price: order.price, at } }]
          : [];
      case 'MarkOrderUnpaid':
        return order?.status === 'pending'
          ? [{ type: 'OrderFailed', data: { userId, orderId, price: order.price, reason: command.reason, at } }]
          : [];
    }
  },
};
