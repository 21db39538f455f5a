/**
 * The plain ordering flow: a user orders something for a price, the price is paid from
 * their balance afterwards, and the order ends succeeded or failed. One stream per user,
 * whose revision is the ETag of their order list.
 */
import { Map as IMap } from 'immutable';
import type { Decider } from '../decider.js';
import type { Cents } from '../money.js';
import type { CustomerOrderEvent, PlainOrderStatus } from './events.js';

export interface CustomerOrdersState {
  orders: IMap<string, { price: Cents; status: PlainOrderStatus }>;
}

export type CustomerOrdersCommand =
  | { type: 'CreateOrder'; userId: string; orderId: string; price: Cents; at: string }
  | { type: 'MarkOrderPaid'; userId: string; orderId: string; at: string }
  | { type: 'MarkOrderUnpaid'; userId: string; orderId: string; reason: string; at: string };

export const customerOrders: Decider<CustomerOrdersState, CustomerOrdersCommand, CustomerOrderEvent> = {
  initialState: () => ({ orders: IMap() }),
  evolve(state, event) {
    const { orderId, price } = event.data;
    const status: PlainOrderStatus = event.type === 'OrderCreated' ? 'pending' : event.type === 'OrderSucceeded' ? 'succeeded' : 'failed';
    return { orders: state.orders.set(orderId, { price, status }) };
  },
  decide(command, state) {
    const order = state.orders.get(command.orderId);
    const { userId, orderId, at } = command;
    switch (command.type) {
      case 'CreateOrder':
        return order ? [] : [{ type: 'OrderCreated', data: { userId, orderId, price: command.price, at } }];
      case 'MarkOrderPaid':
        return order?.status === 'pending' ? [{ type: 'OrderSucceeded', data: { userId, orderId, price: order.price, at } }] : [];
      case 'MarkOrderUnpaid':
        return order?.status === 'pending' ? [{ type: 'OrderFailed', data: { userId, orderId, price: order.price, reason: command.reason, at } }] : [];
    }
  },
};
