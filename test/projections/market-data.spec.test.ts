/** The market-data projection: each item's order book by price level, its summary, its candles, and the open orders behind them. */
import { marketDataProjection } from '../../projections/market.js';
import { candles, marketSummaries, openOrders, orderBook, orderDeals } from '../../projections/read-models/market.js';
import { describeProjection, documents, type GivenEvent } from '../support/projection-spec.js';

const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:30.000Z`;

/** The broker lists two lamps at 10.00. */
const listed: GivenEvent = {
  stream: 'market-i1',
  type: 'ItemListed',
  data: {
    itemId: 'i1',
    name: 'Lamp',
    initialCount: 2,
    initialPrice: 1_000,
    commissionBasisPoints: 500,
    brokerId: 'b',
    at: at(0),
  },
};

const bid = (orderId: string, price: number, minute: number): GivenEvent => ({
  stream: 'market-i1',
  type: 'PurchaseOrderPlaced',
  data: { itemId: 'i1', orderId, buyerId: 'u1', price, commission: price / 20, at: at(minute) },
});

const terms = (dealId: string, purchaseOrderId: string, sellOrderId: string) => ({
  dealId,
  itemId: 'i1',
  itemName: 'Lamp',
  purchaseOrderId,
  sellOrderId,
  buyerId: 'u1',
  sellerId: 'b',
  brokerId: 'b',
  price: 1_000,
  buyerCommission: 50,
  sellerCommission: 0,
});

const opened = (dealId: string, purchaseOrderId: string, sellOrderId: string, minute: number): GivenEvent => ({
  stream: 'market-i1',
  type: 'DealOpened',
  data: { ...terms(dealId, purchaseOrderId, sellOrderId), at: at(minute) },
});

const completed = (dealId: string, purchaseOrderId: string, sellOrderId: string, minute: number): GivenEvent[] => [
  {
    stream: 'market-i1',
    type: 'DealPaid',
    data: { itemId: 'i1', dealId, purchaseOrderId, sellOrderId, at: at(minute) },
  },
  {
    stream: 'market-i1',
    type: 'DealCompleted',
    data: { ...terms(dealId, purchaseOrderId, sellOrderId), at: at(minute) },
  },
];

const summary = {
  id: 'i1',
  initialPrice: 1_000,
  lastPrice: null,
  lastDealAt: null,
  openPurchaseOrders: 0,
  openSellOrders: 2,
};

const asks = (orders: number) => ({
  id: 'i1:sell:1000',
  itemId: 'i1',
  side: 'sell' as const,
  price: 1_000,
  units: orders,
  orders,
});

describeProjection(marketDataProjection, (spec) => {
  it('a listed item: its units rest at the initial price, one level, without a document per unit', () =>
    spec.given(listed).then(documents(marketSummaries, [summary]), documents(orderBook, [asks(2)])));

  it('bids below the ask rest by price level; the summary counts them', () =>
    spec.given(listed, bid('i1.o1', 900, 1), bid('i1.o2', 900, 2), bid('i1.o3', 800, 3)).then(
      documents(marketSummaries, [{ ...summary, openPurchaseOrders: 3 }]),
      documents(orderBook, [
        asks(2),
        { id: 'i1:purchase:900', itemId: 'i1', side: 'purchase', price: 900, units: 2, orders: 2 },
        { id: 'i1:purchase:800', itemId: 'i1', side: 'purchase', price: 800, units: 1, orders: 1 },
      ]),
      documents(openOrders, [
        { id: 'i1.o1', itemId: 'i1', side: 'purchase', price: 900, resting: true },
        { id: 'i1.o2', itemId: 'i1', side: 'purchase', price: 900, resting: true },
        { id: 'i1.o3', itemId: 'i1', side: 'purchase', price: 800, resting: true },
      ]),
    ));

  it('a matched bid takes a unit out of the book; a failed deal puts the unit back, and the bid is gone, saying why', () =>
    spec
      .given(listed, bid('i1.o1', 1_200, 1), opened('d1', 'i1.o1', 'i1-u0', 1), {
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
        documents(marketSummaries, [summary]),
        documents(orderBook, [asks(2)]),
        documents(openOrders, [{ id: 'i1-u0', itemId: 'i1', side: 'sell', price: 1_000, resting: true }]),
        documents(orderDeals, [
          { id: 'i1.o1', dealId: 'd1', failureReason: 'insufficient_funds' },
          { id: 'i1-u0', dealId: null, failureReason: null },
        ]),
      ));

  it('completed deals: the last price, and one candle per minute, hour and day with open, high, low, close', () =>
    spec
      .given(
        listed,
        bid('i1.o1', 1_000, 1),
        opened('d1', 'i1.o1', 'i1-u0', 1),
        ...completed('d1', 'i1.o1', 'i1-u0', 1),
        bid('i1.o2', 1_000, 2),
        opened('d2', 'i1.o2', 'i1-u1', 2),
        ...completed('d2', 'i1.o2', 'i1-u1', 2),
      )
      .then(
        documents(marketSummaries, [
          { ...summary, lastPrice: 1_000, lastDealAt: at(2), openPurchaseOrders: 0, openSellOrders: 0 },
        ]),
        documents(candles, [
          candle('1m', '2026-03-01T10:01:00.000Z', 1),
          candle('1m', '2026-03-01T10:02:00.000Z', 1),
          candle('1h', '2026-03-01T10:00:00.000Z', 2),
          candle('1d', '2026-03-01T00:00:00.000Z', 2),
        ]),
        documents(orderDeals, [
          { id: 'i1.o1', dealId: 'd1', failureReason: null },
          { id: 'i1-u0', dealId: 'd1', failureReason: null },
          { id: 'i1.o2', dealId: 'd2', failureReason: null },
          { id: 'i1-u1', dealId: 'd2', failureReason: null },
        ]),
      ));

  it('a canceled order leaves the book, and its level goes when it was the last', () =>
    spec
      .given(listed, bid('i1.o1', 900, 1), {
        stream: 'market-i1',
        type: 'OrderCanceled',
        data: { itemId: 'i1', orderId: 'i1.o1', side: 'purchase', ownerId: 'u1', at: at(2) },
      })
      .then(documents(marketSummaries, [summary]), documents(orderBook, [asks(2)])));
});

function candle(interval: '1m' | '1h' | '1d', start: string, deals: number) {
  return {
    id: `i1:${interval}:${start}`,
    itemId: 'i1',
    interval,
    start,
    open: 1_000,
    high: 1_000,
    low: 1_000,
    close: 1_000,
    volume: deals,
    deals,
  };
}
