/** The trading projection: items, orders with their status, portfolios, and each trader's order stream revision. */
import { tradingProjection } from '../../projections/trading.js';
import {
  items,
  orderCollections,
  portfolio,
  tradingOrders,
  type ItemDoc,
  type TradingOrderDoc,
} from '../../projections/read-models/trading.js';
import { describeProjection, documents, seqOf, type GivenEvent } from '../support/projection-spec.js';

const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

/** The broker lists `count` units of a lamp at 10.00, 5 % commission. */
const listed = (count: number): GivenEvent => ({
  stream: 'market-i1',
  type: 'ItemListed',
  data: {
    itemId: 'i1',
    name: 'Lamp',
    initialCount: count,
    initialPrice: 1_000,
    commissionBasisPoints: 500,
    brokerId: 'b',
    at: at(0),
  },
});

const lamp: ItemDoc = {
  id: 'i1',
  name: 'Lamp',
  initialCount: 1,
  initialPrice: 1_000,
  commissionBasisPoints: 500,
  createdAt: at(0),
};

/** The broker's first unit, as listed (event 0). */
const unit0: TradingOrderDoc = {
  id: 'i1-u0',
  userId: 'b',
  side: 'sell',
  itemId: 'i1',
  price: 1_000,
  commission: 50,
  status: 'pending',
  active: true,
  createdAt: at(0),
  updatedAt: at(0),
  seq: `${seqOf(0)}:00000`,
};

const terms = {
  dealId: 'd1',
  itemId: 'i1',
  itemName: 'Lamp',
  purchaseOrderId: 'i1.o1',
  sellOrderId: 'i1-u0',
  buyerId: 'u1',
  sellerId: 'b',
  brokerId: 'b',
  price: 1_000,
  buyerCommission: 50,
  sellerCommission: 0,
};

/** u1 bids 10.00 for a lamp (their order stream first, then the market), matched with the broker's unit 0. */
const bidMatched: GivenEvent[] = [
  {
    stream: 'trader-orders-u1',
    type: 'OrderSubmitted',
    data: { userId: 'u1', orderId: 'i1.o1', side: 'purchase', itemId: 'i1', price: 1_000, at: at(1) },
  },
  {
    stream: 'market-i1',
    type: 'PurchaseOrderPlaced',
    data: { itemId: 'i1', orderId: 'i1.o1', buyerId: 'u1', price: 1_000, commission: 50, at: at(1) },
  },
  { stream: 'market-i1', type: 'DealOpened', data: { ...terms, at: at(1) } },
];

/** u1's bid (event 2), as placed. */
const bid: TradingOrderDoc = {
  id: 'i1.o1',
  userId: 'u1',
  side: 'purchase',
  itemId: 'i1',
  price: 1_000,
  commission: 50,
  status: 'pending',
  active: true,
  createdAt: at(1),
  updatedAt: at(1),
  seq: seqOf(2),
};

const dealCompleted: GivenEvent[] = [
  {
    stream: 'market-i1',
    type: 'DealPaid',
    data: { itemId: 'i1', dealId: 'd1', purchaseOrderId: 'i1.o1', sellOrderId: 'i1-u0', at: at(2) },
  },
  { stream: 'market-i1', type: 'DealCompleted', data: { ...terms, at: at(3) } },
];

describeProjection(tradingProjection, (spec) => {
  it("a listed item: the item, the broker's holding, one sell order per unit in the units' order", () =>
    spec
      .given(listed(2))
      .then(
        documents(items, [{ ...lamp, initialCount: 2 }]),
        documents(portfolio, [
          { id: 'b:i1', userId: 'b', itemId: 'i1', name: 'Lamp', count: 2, onSaleCount: 2, held: true },
        ]),
        documents(tradingOrders, [unit0, { ...unit0, id: 'i1-u1', seq: `${seqOf(0)}:00001` }]),
      ));

  it('a completed deal: both orders approved and inactive, the unit moved from seller to buyer', () =>
    spec.given(listed(1), ...bidMatched, ...dealCompleted).then(
      documents(items, [lamp]),
      documents(tradingOrders, [
        { ...unit0, status: 'approved', active: false, updatedAt: at(3) },
        { ...bid, status: 'approved', active: false, updatedAt: at(3) },
      ]),
      documents(portfolio, [
        // Sold out: kept, but no longer listed (`held`).
        { id: 'b:i1', userId: 'b', itemId: 'i1', name: 'Lamp', count: 0, onSaleCount: 0, held: false },
        { id: 'u1:i1', userId: 'u1', itemId: 'i1', name: 'Lamp', count: 1, onSaleCount: 0, held: true },
      ]),
      documents(orderCollections, [{ id: 'u1', revision: 0 }]),
    ));

  it('a deal under way shows in both statuses; a failed one fails the bid and puts the sell order back', () =>
    spec
      .given(listed(1), ...bidMatched, {
        stream: 'market-i1',
        type: 'DealFailed',
        data: {
          itemId: 'i1',
          itemName: 'Lamp',
          dealId: 'd1',
          purchaseOrderId: 'i1.o1',
          sellOrderId: 'i1-u0',
          buyerId: 'u1',
          price: 1_000,
          reason: 'insufficient_funds',
          at: at(2),
        },
      })
      .then(
        documents(items, [lamp]),
        documents(tradingOrders, [
          { ...unit0, status: 'pending', active: true, updatedAt: at(2) },
          { ...bid, status: 'paymentFailed', active: false, updatedAt: at(2) },
        ]),
        documents(portfolio, [
          { id: 'b:i1', userId: 'b', itemId: 'i1', name: 'Lamp', count: 1, onSaleCount: 1, held: true },
        ]),
        documents(orderCollections, [{ id: 'u1', revision: 0 }]),
      ));

  it('a trader puts a unit they hold on sale and cancels it; a refused order is never listed', () =>
    spec
      .given(
        listed(1),
        ...bidMatched,
        ...dealCompleted,
        {
          stream: 'trader-orders-u1',
          type: 'OrderSubmitted',
          data: { userId: 'u1', orderId: 'i1.o2', side: 'sell', itemId: 'i1', price: 1_500, at: at(4) },
        },
        {
          stream: 'market-i1',
          type: 'SellOrderPlaced',
          data: { itemId: 'i1', orderId: 'i1.o2', sellerId: 'u1', price: 1_500, commission: 75, at: at(4) },
        },
        {
          stream: 'trader-orders-u1',
          type: 'OrderSubmitted',
          data: { userId: 'u1', orderId: 'i1.o3', side: 'sell', itemId: 'i1', price: 1_600, at: at(5) },
        },
        {
          stream: 'market-i1',
          type: 'OrderRefused',
          data: { itemId: 'i1', orderId: 'i1.o3', side: 'sell', ownerId: 'u1', reason: 'no unit', at: at(5) },
        },
        {
          stream: 'trader-orders-u1',
          type: 'OrderRejected',
          data: { userId: 'u1', orderId: 'i1.o3', reason: 'no unit', at: at(5) },
        },
        {
          stream: 'market-i1',
          type: 'OrderCanceled',
          data: { itemId: 'i1', orderId: 'i1.o2', side: 'sell', ownerId: 'u1', at: at(6) },
        },
      )
      .then(
        documents(items, [lamp]),
        documents(tradingOrders, [
          { ...unit0, status: 'approved', active: false, updatedAt: at(3) },
          { ...bid, status: 'approved', active: false, updatedAt: at(3) },
          {
            id: 'i1.o2',
            userId: 'u1',
            side: 'sell',
            itemId: 'i1',
            price: 1_500,
            commission: 75,
            status: 'canceled',
            active: false,
            createdAt: at(4),
            updatedAt: at(6),
            seq: seqOf(7),
          },
        ]),
        documents(portfolio, [
          { id: 'b:i1', userId: 'b', itemId: 'i1', name: 'Lamp', count: 0, onSaleCount: 0, held: false },
          { id: 'u1:i1', userId: 'u1', itemId: 'i1', name: 'Lamp', count: 1, onSaleCount: 0, held: true },
        ]),
        documents(orderCollections, [{ id: 'u1', revision: 3 }]),
      ));
});
