import { Map as IMap } from 'immutable';
import { json, sortedEntries, type SnapshotCodec } from '../snapshot.js';
import { WindowMap } from '../window-map.js';
import type { CustomerOrder, CustomerOrdersState } from './customer-orders.js';

const statuses = ['pending', 'succeeded', 'failed'] as const;

function endedOrder(value: unknown, path: string): CustomerOrder {
  const o = json.object(value, path);
  return { price: json.integer(o.price, `${path}.price`), status: json.oneOf(o.status, `${path}.status`, statuses) };
}

function pendingOrder(value: unknown, path: string): { price: number; rememberUntil: number } {
  const o = json.object(value, path);
  return {
    price: json.integer(o.price, `${path}.price`),
    rememberUntil: json.number(o.rememberUntil, `${path}.rememberUntil`),
  };
}

export const customerOrdersSnapshot: SnapshotCodec<CustomerOrdersState> = {
  version: 1,
  encode: (state) => ({ pending: sortedEntries(state.pending.entries()), ended: state.ended.toJSON() }),
  decode(value) {
    const o = json.object(value, 'customerOrders');
    return {
      pending: IMap(json.entries(o.pending, 'pending', pendingOrder)),
      ended: WindowMap.fromJSON(json.windowMap(o.ended, 'ended', endedOrder)),
    };
  },
};
