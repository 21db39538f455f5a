import { List, Map as IMap } from 'immutable';
import { finiteOrNull, json, sortedEntries, type SnapshotCodec } from '../snapshot.js';
import { WindowMap } from '../window-map.js';
import type { ActiveOrder, ClosedOrder, Holding, MarketState, OpenDeal } from './market.js';
import type { OrderStatus } from './events.js';

const sides = ['purchase', 'sell'] as const;
const statuses = [
  'pending',
  'paymentPending',
  'paymentSucceeded',
  'paymentFailed',
  'approved',
  'canceled',
  'dealPending',
  'accrualPending',
] as const satisfies readonly OrderStatus[];

function activeOrder(value: unknown, path: string): ActiveOrder {
  const o = json.object(value, path);
  return {
    orderId: json.string(o.orderId, `${path}.orderId`),
    side: json.oneOf(o.side, `${path}.side`, sides),
    ownerId: json.string(o.ownerId, `${path}.ownerId`),
    price: json.integer(o.price, `${path}.price`),
    commission: json.integer(o.commission, `${path}.commission`),
    seq: json.integer(o.seq, `${path}.seq`),
    status: json.oneOf(o.status, `${path}.status`, statuses),
    placedAs: json.oneOf(o.placedAs, `${path}.placedAs`, statuses),
    dealId: json.nullableString(o.dealId, `${path}.dealId`),
    createdAt: json.string(o.createdAt, `${path}.createdAt`),
    rememberUntil: json.number(o.rememberUntil, `${path}.rememberUntil`),
  };
}

function closedOrder(value: unknown, path: string): ClosedOrder {
  const o = json.object(value, path);
  return {
    orderId: json.string(o.orderId, `${path}.orderId`),
    ownerId: json.string(o.ownerId, `${path}.ownerId`),
    side: json.oneOf(o.side, `${path}.side`, sides),
    status: json.oneOf(o.status, `${path}.status`, statuses),
    placedAs: json.oneOf(o.placedAs, `${path}.placedAs`, statuses),
    price: json.integer(o.price, `${path}.price`),
    commission: json.integer(o.commission, `${path}.commission`),
    createdAt: json.string(o.createdAt, `${path}.createdAt`),
    closedAt: json.string(o.closedAt, `${path}.closedAt`),
  };
}

function holding(value: unknown, path: string): Holding {
  const o = json.object(value, path);
  return { owned: json.integer(o.owned, `${path}.owned`), onSale: json.integer(o.onSale, `${path}.onSale`) };
}

function openDeal(value: unknown, path: string): OpenDeal {
  const o = json.object(value, path);
  const text = (key: string) => json.string(o[key], `${path}.${key}`);
  const cents = (key: string) => json.integer(o[key], `${path}.${key}`);
  return {
    dealId: text('dealId'),
    itemId: text('itemId'),
    itemName: text('itemName'),
    purchaseOrderId: text('purchaseOrderId'),
    sellOrderId: text('sellOrderId'),
    buyerId: text('buyerId'),
    sellerId: text('sellerId'),
    brokerId: text('brokerId'),
    price: cents('price'),
    buyerCommission: cents('buyerCommission'),
    sellerCommission: cents('sellerCommission'),
    paid: json.boolean(o.paid, `${path}.paid`),
  };
}

/** A side of the book: price levels, each a list of order ids in time order. */
function encodeBook(book: IMap<number, List<string>>): Array<[number, string[]]> {
  return [...book.entries()].sort(([a], [b]) => a - b).map(([price, ids]) => [price, ids.toArray()]);
}

function decodeBook(value: unknown, path: string): IMap<number, List<string>> {
  return IMap(
    json.array(value, path).map((level, i) => {
      const [price, ids] = json.array(level, `${path}[${i}]`);
      return [
        json.integer(price, `${path}[${i}][0]`),
        List(json.array(ids, `${path}[${i}][1]`).map((id, j) => json.string(id, `${path}[${i}][1][${j}]`))),
      ];
    }),
  );
}

export const marketSnapshot: SnapshotCodec<MarketState> = {
  // 2: `forgottenBefore` (when orders were last let go) instead of the latest event's time.
  version: 2,
  encode: (state) => ({
    ...state,
    active: sortedEntries(state.active.entries()).map(([, order]) => order),
    asks: encodeBook(state.asks),
    bids: encodeBook(state.bids),
    holdings: sortedEntries(state.holdings.entries()),
    deals: sortedEntries(state.deals.entries()).map(([, deal]) => deal),
    closed: state.closed.toJSON(),
    refused: state.refused.toJSON(),
    forgottenBefore: finiteOrNull(state.forgottenBefore),
  }),
  decode(value) {
    const o = json.object(value, 'market');
    const active = json.array(o.active, 'active').map((order, i) => activeOrder(order, `active[${i}]`));
    const deals = json.array(o.deals, 'deals').map((deal, i) => openDeal(deal, `deals[${i}]`));
    return {
      listed: json.boolean(o.listed, 'listed'),
      itemId: json.string(o.itemId, 'itemId'),
      name: json.string(o.name, 'name'),
      commissionBasisPoints: json.integer(o.commissionBasisPoints, 'commissionBasisPoints'),
      brokerId: json.string(o.brokerId, 'brokerId'),
      nextSeq: json.integer(o.nextSeq, 'nextSeq'),
      active: IMap(active.map((order) => [order.orderId, order])),
      asks: decodeBook(o.asks, 'asks'),
      bids: decodeBook(o.bids, 'bids'),
      holdings: IMap(json.entries(o.holdings, 'holdings', holding)),
      deals: IMap(deals.map((deal) => [deal.dealId, deal])),
      closed: WindowMap.fromJSON(json.windowMap(o.closed, 'closed', closedOrder)),
      refused: WindowMap.fromJSON(json.windowMap(o.refused, 'refused', json.string)),
      forgottenBefore: json.nullableNumber(o.forgottenBefore, 'forgottenBefore') ?? Number.NEGATIVE_INFINITY,
      justPlaced: json.nullableString(o.justPlaced, 'justPlaced'),
    };
  },
};
