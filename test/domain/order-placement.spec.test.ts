import { expect } from 'chai';
import { BusinessRuleViolation } from '../../domain/decider.js';
import { commissionOf } from '../../domain/money.js';
import {
  initialSellOrderId,
  marketStream,
  type MarketEvent,
  type OrderRefused,
  type OrderSubmitted,
  type Side,
} from '../../domain/trading/events.js';
import { orderPlacement } from '../../domain/trading/order-placement.js';
import { defaultStep, workflowSpecification } from '../support/workflow-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const itemId = 'item-1';
const bp = 1000;
const broker = 'broker';
const workflow = orderPlacement({ marketOrderMemoryMs: 60_000 });
const { given } = workflowSpecification(workflow);
const { at: now } = defaultStep;

const listed: MarketEvent = {
  type: 'ItemListed',
  data: {
    itemId,
    name: 'sword',
    initialCount: 1,
    initialPrice: 20_000,
    commissionBasisPoints: bp,
    brokerId: broker,
    at,
  },
};
const submitted = (orderId: string, side: Side, userId = 't1'): OrderSubmitted => ({
  type: 'OrderSubmitted',
  data: { userId, orderId, side, itemId, price: 20_000, rememberUntil: '2026-11-22T10:00:00.000Z', at },
});
const placedBid = (orderId: string): MarketEvent => ({
  type: 'PurchaseOrderPlaced',
  data: { itemId, orderId, buyerId: 't1', price: 20_000, commission: commissionOf(20_000, bp), at },
});
const refused = (orderId: string): OrderRefused => ({
  type: 'OrderRefused',
  data: { itemId, orderId, side: 'sell', ownerId: 't1', reason: 'no trading items for sale', at },
});
const deal = {
  dealId: 'deal-1',
  itemId,
  itemName: 'sword',
  purchaseOrderId: 'bid-1',
  sellOrderId: initialSellOrderId(itemId, 0),
  buyerId: 't1',
  sellerId: broker,
  brokerId: broker,
  price: 20_000,
  buyerCommission: 2000,
  sellerCommission: 0,
};
/** The first submission a minute's memory covers: until a minute after it was submitted. */
const placement = {
  itemId,
  price: 20_000,
  dealId: defaultStep.freshId,
  rememberUntil: '2026-11-21T10:01:00.000Z',
  at: now,
};

describe('order placement (workflow)', () => {
  it('enters in its market an order submitted but not there, remembered for the market’s memory after its submission', () => {
    given([listed])
      .when(submitted('bid-1', 'purchase'))
      .then([{ type: 'PlacePurchaseOrder', orderId: 'bid-1', buyerId: 't1', ...placement }]);
    given([listed])
      .when(submitted('ask-1', 'sell'))
      .then([{ type: 'PlaceSellOrder', orderId: 'ask-1', sellerId: 't1', ...placement }]);
  });

  it('the market’s memory is the product’s setting', () => {
    const { given: givenShort } = workflowSpecification(orderPlacement({ marketOrderMemoryMs: 5_000 }));
    givenShort([listed])
      .when(submitted('bid-1', 'purchase'))
      .then([
        {
          type: 'PlacePurchaseOrder',
          orderId: 'bid-1',
          buyerId: 't1',
          ...placement,
          rememberUntil: '2026-11-21T10:00:05.000Z',
        },
      ]);
  });

  it('sends nothing for an order its market holds, active or closed (the request entered it)', () => {
    given([listed, placedBid('bid-1')])
      .when(submitted('bid-1', 'purchase'))
      .then([]);
    given([
      listed,
      placedBid('bid-1'),
      { type: 'DealOpened', data: { ...deal, at } },
      {
        type: 'DealPaid',
        data: { itemId, dealId: 'deal-1', purchaseOrderId: 'bid-1', sellOrderId: deal.sellOrderId, at },
      },
      { type: 'DealCompleted', data: { ...deal, at } },
    ])
      .when(submitted('bid-1', 'purchase'))
      .then([]);
  });

  it('records in the trader’s stream an order its market refused, whichever event brings it', () => {
    const rejected = {
      type: 'RejectOrder' as const,
      userId: 't1',
      orderId: 'ask-1',
      reason: 'no trading items for sale',
      at: now,
    };
    given([listed, refused('ask-1')])
      .when(submitted('ask-1', 'sell'))
      .then([rejected]);
    given([]).when(refused('ask-1')).then([rejected]);
  });

  it('takes a placement the market turns down as an outcome, reads the market of the item, one order at a time', () => {
    const expired = new BusinessRuleViolation('order_expired', 'too late');
    expect(
      workflow.acceptsRefusal!(expired, { type: 'PlaceSellOrder', orderId: 'a', sellerId: 't1', ...placement }),
    ).to.equal(true);
    expect(workflow.stateStream(submitted('bid-1', 'purchase'))).to.equal(marketStream(itemId));
    expect(workflow.stateStream(refused('ask-1'))).to.equal(null);
    expect([submitted('bid-1', 'purchase'), refused('ask-1')].map(workflow.instanceOf)).to.deep.equal([
      'bid-1',
      'ask-1',
    ]);
  });
});
