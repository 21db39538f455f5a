/** The history and statistics projections: completed deals per side, and counted per item and day. */
import { historyProjection, statisticsProjection } from '../../projections/deals.js';
import { dailyItemStats, dailyTotals, deals, itemTotals } from '../../projections/read-models/deals.js';
import { describeProjection, documents, seqOf, type GivenEvent } from '../support/projection-spec.js';

/** A deal of `itemId` at `price`, completed at `at` (market events other than DealCompleted are no concern here). */
function completed(dealId: string, itemId: string, itemName: string, price: number, at: string): GivenEvent {
  return {
    stream: `market-${itemId}`,
    type: 'DealCompleted',
    data: {
      dealId,
      itemId,
      itemName,
      purchaseOrderId: `${itemId}.p-${dealId}`,
      sellOrderId: `${itemId}.s-${dealId}`,
      buyerId: 'u1',
      sellerId: 'u2',
      brokerId: 'b',
      price,
      buyerCommission: price / 20,
      sellerCommission: price / 50,
      at,
    },
  };
}

const listed: GivenEvent = {
  stream: 'market-i1',
  type: 'ItemListed',
  data: {
    itemId: 'i1',
    name: 'Lamp',
    initialCount: 1,
    initialPrice: 1_000,
    commissionBasisPoints: 500,
    brokerId: 'b',
    at: '2026-03-01T09:00:00.000Z',
  },
};

describeProjection(historyProjection, (spec) => {
  it("a completed deal is in the buyer's history as a purchase and in the seller's as a sale", () =>
    spec.given(listed, completed('d1', 'i1', 'Lamp', 1_000, '2026-03-01T10:00:00.000Z')).then(
      documents(deals, [
        {
          id: 'd1:purchase',
          userId: 'u1',
          dealId: 'd1',
          itemId: 'i1',
          itemName: 'Lamp',
          type: 'purchase',
          amount: 1_000,
          commission: 50,
          completedAt: '2026-03-01T10:00:00.000Z',
          seq: seqOf(1),
        },
        {
          id: 'd1:sale',
          userId: 'u2',
          dealId: 'd1',
          itemId: 'i1',
          itemName: 'Lamp',
          type: 'sale',
          amount: 1_000,
          commission: 20,
          completedAt: '2026-03-01T10:00:00.000Z',
          seq: seqOf(1),
        },
      ]),
    ));
});

describeProjection(statisticsProjection, (spec) => {
  it('deals are counted and summed per item per UTC day, per day and per item', () =>
    spec
      .given(
        listed,
        completed('d1', 'i1', 'Lamp', 1_000, '2026-03-01T10:00:00.000Z'),
        completed('d2', 'i1', 'Lamp', 1_200, '2026-03-01T23:59:59.999Z'),
        completed('d3', 'i2', 'Desk', 5_000, '2026-03-01T12:00:00.000Z'),
        completed('d4', 'i1', 'Lamp', 900, '2026-03-02T00:00:00.000Z'),
      )
      .then(
        documents(dailyItemStats, [
          { id: '2026-03-01:i1', date: '2026-03-01', itemId: 'i1', itemName: 'Lamp', count: 2, amount: 2_200 },
          { id: '2026-03-01:i2', date: '2026-03-01', itemId: 'i2', itemName: 'Desk', count: 1, amount: 5_000 },
          { id: '2026-03-02:i1', date: '2026-03-02', itemId: 'i1', itemName: 'Lamp', count: 1, amount: 900 },
        ]),
        documents(dailyTotals, [
          { id: '2026-03-01', date: '2026-03-01', count: 3, amount: 7_200 },
          { id: '2026-03-02', date: '2026-03-02', count: 1, amount: 900 },
        ]),
        documents(itemTotals, [
          { id: 'i1', itemName: 'Lamp', count: 3, amount: 3_100 },
          { id: 'i2', itemName: 'Desk', count: 1, amount: 5_000 },
        ]),
      ));
});
