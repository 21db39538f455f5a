import { json, type SnapshotCodec } from '../snapshot.js';
import { WindowMap } from '../window-map.js';
import type { SubmittedOrder, TraderOrdersState } from './trader-orders.js';

const sides = ['purchase', 'sell'] as const;

function submittedOrder(value: unknown, path: string): SubmittedOrder {
  const o = json.object(value, path);
  return {
    itemId: json.string(o.itemId, `${path}.itemId`),
    side: json.oneOf(o.side, `${path}.side`, sides),
    price: json.integer(o.price, `${path}.price`),
    at: json.string(o.at, `${path}.at`),
    rememberUntil: json.number(o.rememberUntil, `${path}.rememberUntil`),
  };
}

export const traderOrdersSnapshot: SnapshotCodec<TraderOrdersState> = {
  // 2: submitted orders remember until when (their rejection is kept as long).
  // 3: `forgottenBefore` (a retry older than that memory is refused, not submitted again).
  version: 3,
  encode: (state) => ({
    orders: state.orders.toJSON(),
    rejected: state.rejected.toJSON(),
    forgottenBefore: Number.isFinite(state.forgottenBefore) ? state.forgottenBefore : null,
  }),
  decode(value) {
    const o = json.object(value, 'traderOrders');
    return {
      orders: WindowMap.fromJSON(json.windowMap(o.orders, 'orders', submittedOrder)),
      rejected: WindowMap.fromJSON(json.windowMap(o.rejected, 'rejected', json.yes)),
      forgottenBefore: json.nullableNumber(o.forgottenBefore, 'forgottenBefore') ?? Number.NEGATIVE_INFINITY,
    };
  },
};
