import { expect } from 'chai';
import type { AccrualReceived, PaymentDeclined, PaymentMade } from '../../domain/billing/events.js';
import { commissionOf, type Cents } from '../../domain/money.js';
import { dealSettlement } from '../../domain/trading/deal-settlement.js';
import {
  initialSellOrderId,
  marketStream,
  type DealOpened,
  type DealTerms,
  type MarketEvent,
} from '../../domain/trading/events.js';
import { defaultStep, workflowSpecification } from '../support/workflow-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const itemId = 'item-1';
const itemName = 'sword';
const bp = 1000; // 10 %
const broker = 'broker';
/** Name-based ids, readable: the name in brackets. */
const idOf = (name: string) => `id(${name})`;
const accountIdOf = (userId: string) => `acc(${userId})`;
const workflow = dealSettlement({ idOf, accountIdOf });
const { given } = workflowSpecification(workflow);
const { at: now } = defaultStep;
/** The memory of a step the default step causes: remembered until the floor passes its cause. */
const memory = { process: 'deal-settlement', cause: defaultStep.cause, floor: defaultStep.floor };

const listed: MarketEvent = {
  type: 'ItemListed',
  data: {
    itemId,
    name: itemName,
    initialCount: 1,
    initialPrice: 20_000,
    commissionBasisPoints: bp,
    brokerId: broker,
    at,
  },
};
const bid = (orderId: string, buyerId: string, price: Cents): MarketEvent => ({
  type: 'PurchaseOrderPlaced',
  data: { itemId, orderId, buyerId, price, commission: commissionOf(price, bp), at },
});
const ask = (orderId: string, sellerId: string, price: Cents): MarketEvent => ({
  type: 'SellOrderPlaced',
  data: { itemId, orderId, sellerId, price, commission: commissionOf(price, bp), at },
});
const terms = (dealId: string, purchaseOrderId: string, buyerId: string, sellOrderId: string, sellerId: string) => {
  const price = 20_000;
  return {
    dealId,
    itemId,
    itemName,
    purchaseOrderId,
    sellOrderId,
    buyerId,
    sellerId,
    brokerId: broker,
    price,
    buyerCommission: commissionOf(price, bp),
    sellerCommission: sellerId === broker ? 0 : commissionOf(price, bp),
  };
};
const opened = (t: DealTerms): DealOpened => ({ type: 'DealOpened', data: { ...t, at } });
const paid = (t: DealTerms): MarketEvent => ({
  type: 'DealPaid',
  data: { itemId, dealId: t.dealId, purchaseOrderId: t.purchaseOrderId, sellOrderId: t.sellOrderId, at },
});
const completed = (t: DealTerms): MarketEvent => ({ type: 'DealCompleted', data: { ...t, at } });
const failed = (t: DealTerms): MarketEvent => ({
  type: 'DealFailed',
  data: {
    itemId,
    itemName,
    dealId: t.dealId,
    purchaseOrderId: t.purchaseOrderId,
    sellOrderId: t.sellOrderId,
    buyerId: t.buyerId,
    price: t.price,
    reason: 'insufficient_funds',
    at,
  },
});
const payment = (t: DealTerms) => ({
  accountId: accountIdOf(t.buyerId),
  userId: t.buyerId,
  operationId: idOf(`${t.dealId}:payment`),
  amount: t.price + t.buyerCommission,
  memory,
  purpose: { kind: 'deal' as const, dealId: t.dealId, itemId, itemName, commission: t.buyerCommission },
  at,
});
const paymentMade = (t: DealTerms): PaymentMade => ({ type: 'PaymentMade', data: { ...payment(t), balance: 0 } });
const paymentDeclined = (t: DealTerms): PaymentDeclined => ({
  type: 'PaymentDeclined',
  data: { ...payment(t), reason: 'insufficient_funds' },
});
const accrualReceived = (t: DealTerms): AccrualReceived => ({
  type: 'AccrualReceived',
  data: {
    accountId: accountIdOf(t.sellerId),
    userId: t.sellerId,
    operationId: idOf(`${t.dealId}:accrual`),
    amount: t.price - t.sellerCommission,
    memory,
    balance: t.price - t.sellerCommission,
    purpose: { dealId: t.dealId, itemId, itemName, commission: t.sellerCommission },
    at,
  },
});
const orderPayment = (type: 'PaymentMade' | 'PaymentDeclined') => {
  const data = {
    accountId: 'acc(u1)',
    userId: 'u1',
    operationId: 'order-1',
    amount: 500,
    purpose: { kind: 'order' as const, orderId: 'order-1' },
    at,
  };
  return type === 'PaymentMade'
    ? ({ type, data: { ...data, balance: 0 } } satisfies PaymentMade)
    : ({ type, data: { ...data, reason: 'insufficient_funds' } } satisfies PaymentDeclined);
};

/** The broker sells its initial unit to t1: no seller's commission. */
const fromBroker = terms('deal-1', 'bid-1', 't1', initialSellOrderId(itemId, 0), broker);
const brokerSale = [listed, bid('bid-1', 't1', 20_000), opened(fromBroker)];
/** Then t1 sells it to t2: both commissions. */
const resale = terms('deal-2', 'bid-2', 't2', 'ask-1', 't1');
const traderSale = [
  ...brokerSale,
  paid(fromBroker),
  completed(fromBroker),
  ask('ask-1', 't1', 20_000),
  bid('bid-2', 't2', 20_000),
  opened(resale),
];

describe('deal settlement (workflow)', () => {
  it('DealOpened: the buyer pays price + commission, under an id that follows from the deal', () => {
    given([])
      .when(opened(resale))
      .then([
        {
          type: 'PayFromAccount',
          userId: 't2',
          operationId: idOf('deal-2:payment'),
          amount: 22_000,
          purpose: { kind: 'deal', dealId: 'deal-2', itemId, itemName, commission: 2000 },
          memory,
          at: now,
        },
      ]);
  });

  it('PaymentDeclined: the deal fails; the deal its sell order may open at once has an id that follows from it', () => {
    given(traderSale)
      .when(paymentDeclined(resale))
      .then([
        {
          type: 'FailDeal',
          itemId,
          dealId: 'deal-2',
          reason: 'insufficient_funds',
          rematchDealId: idOf('deal-2:rematch'),
          at: now,
        },
      ]);
  });

  it('PaymentMade: the broker earns the buyer’s commission, the deal is paid, the seller gets price − commission, in this order', () => {
    given(traderSale)
      .when(paymentMade(resale))
      .then([
        {
          type: 'ReceiveCommission',
          userId: broker,
          operationId: idOf('deal-2:buyer-commission'),
          amount: 2000,
          source: { fromUserId: 't2', kind: 'payment', operationId: idOf('deal-2:payment'), dealId: 'deal-2' },
          memory,
          at: now,
        },
        { type: 'MarkDealPaid', itemId, dealId: 'deal-2', at: now },
        {
          type: 'ReceiveAccrual',
          userId: 't1',
          operationId: idOf('deal-2:accrual'),
          amount: 18_000,
          purpose: { dealId: 'deal-2', itemId, itemName, commission: 2000 },
          memory,
          at: now,
        },
      ]);
  });

  it('AccrualReceived: the broker earns the seller’s commission, and the deal completes', () => {
    given([...traderSale, paid(resale)])
      .when(accrualReceived(resale))
      .then([
        {
          type: 'ReceiveCommission',
          userId: broker,
          operationId: idOf('deal-2:seller-commission'),
          amount: 2000,
          source: { fromUserId: 't1', kind: 'accrual', operationId: idOf('deal-2:accrual'), dealId: 'deal-2' },
          memory,
          at: now,
        },
        { type: 'CompleteDeal', itemId, dealId: 'deal-2', at: now },
      ]);
  });

  it('the broker selling: no seller’s commission is taken, so none is earned', () => {
    given(brokerSale)
      .when(paymentMade(fromBroker))
      .then([
        {
          type: 'ReceiveCommission',
          userId: broker,
          operationId: idOf('deal-1:buyer-commission'),
          amount: 2000,
          source: { fromUserId: 't1', kind: 'payment', operationId: idOf('deal-1:payment'), dealId: 'deal-1' },
          memory,
          at: now,
        },
        { type: 'MarkDealPaid', itemId, dealId: 'deal-1', at: now },
        {
          type: 'ReceiveAccrual',
          userId: broker,
          operationId: idOf('deal-1:accrual'),
          amount: 20_000,
          purpose: { dealId: 'deal-1', itemId, itemName, commission: 0 },
          memory,
          at: now,
        },
      ]);
    given([...brokerSale, paid(fromBroker)])
      .when(accrualReceived(fromBroker))
      .then([{ type: 'CompleteDeal', itemId, dealId: 'deal-1', at: now }]);
  });

  it('a commission of nothing is not paid', () => {
    const free = { ...resale, buyerCommission: 0, sellerCommission: 0 };
    const history = [...traderSale.slice(0, -1), opened(free)];
    given(history)
      .when(paymentMade(free))
      .then([
        { type: 'MarkDealPaid', itemId, dealId: 'deal-2', at: now },
        {
          type: 'ReceiveAccrual',
          userId: 't1',
          operationId: idOf('deal-2:accrual'),
          amount: 20_000,
          purpose: { dealId: 'deal-2', itemId, itemName, commission: 0 },
          memory,
          at: now,
        },
      ]);
    given([...history, paid(free)])
      .when(accrualReceived(free))
      .then([{ type: 'CompleteDeal', itemId, dealId: 'deal-2', at: now }]);
  });

  it('decides nothing for a deal its market no longer has: a payment or accrual delivered again after the deal ended', () => {
    const done = [...traderSale, paid(resale), completed(resale)];
    given(done).when(paymentMade(resale)).then([]);
    given(done).when(accrualReceived(resale)).then([]);
    given([...brokerSale, failed(fromBroker)])
      .when(paymentMade(fromBroker))
      .then([]);
  });

  it('decides the same commands every time an input comes again, but for the step’s memory and time', () => {
    const later = { at: '2026-11-21T13:00:00.000Z', cause: 120, floor: 115, freshId: 'fresh-2' };
    given(traderSale)
      .when(opened(resale), later)
      .then([
        {
          type: 'PayFromAccount',
          userId: 't2',
          operationId: idOf('deal-2:payment'),
          amount: 22_000,
          purpose: { kind: 'deal', dealId: 'deal-2', itemId, itemName, commission: 2000 },
          memory: { process: 'deal-settlement', cause: 120, floor: 115 },
          at: later.at,
        },
      ]);
  });

  it('leaves payments of plain orders alone', () => {
    given([]).when(orderPayment('PaymentMade')).then([]);
    given([]).when(orderPayment('PaymentDeclined')).then([]);
  });

  it('reads a payment’s or an accrual’s deal from its market, and needs nothing for the rest', () => {
    expect(workflow.stateStream(paymentMade(resale))).to.equal(marketStream(itemId));
    expect(workflow.stateStream(accrualReceived(resale))).to.equal(marketStream(itemId));
    expect(workflow.stateStream(opened(resale))).to.equal(null);
    expect(workflow.stateStream(paymentDeclined(resale))).to.equal(null);
    expect(workflow.stateStream(orderPayment('PaymentMade'))).to.equal(null);
  });

  it('decides one deal’s events in order, other deals’ and other payments apart', () => {
    expect(
      [opened(resale), paymentMade(resale), paymentDeclined(resale), accrualReceived(resale)].map(workflow.instanceOf),
    ).to.deep.equal(['deal-2', 'deal-2', 'deal-2', 'deal-2']);
    expect(workflow.instanceOf(orderPayment('PaymentMade'))).to.equal(null);
  });

  it('opens the account an account step finds missing; a market step’s refusal stands', () => {
    const accrual = {
      type: 'ReceiveAccrual' as const,
      userId: 't1',
      operationId: 'x',
      amount: 1,
      purpose: { dealId: 'd', itemId, itemName, commission: 0 },
      at,
    };
    expect(workflow.precondition!(accrual, defaultStep)).to.deep.equal({
      type: 'OpenAccount',
      accountId: accountIdOf('t1'),
      userId: 't1',
      at: now,
    });
    expect(workflow.precondition!({ type: 'MarkDealPaid', itemId, dealId: 'd', at }, defaultStep)).to.equal(null);
  });
});
