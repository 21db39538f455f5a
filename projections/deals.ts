/**
 * Completed deals, twice over: each side's history (a purchase for the buyer, a sale for
 * the seller) and the statistics (per item per day, per day, per item). Each deal counts
 * once however often its event is redelivered or the views rebuilt: the writes are keyed
 * by the deal and guarded by the event's position.
 */
import type { DealCompleted } from '../domain/trading/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { dailyItemStats, dailyTotals, deals, itemTotals } from './read-models/deals.js';

const completedDeals = { eventTypePrefixes: ['DealCompleted'] };

export const historyProjection: EventHandler = {
  name: 'history',
  filter: completedDeals,
  collections: [deals],
  handle(recorded: RecordedEvent): WriteOp[] {
    const deal = (recorded as unknown as DealCompleted).data;
    const seq = sortablePosition(recorded.position);
    const side = (userId: string, type: 'purchase' | 'sale', commission: number): WriteOp =>
      deals.insert(`${deal.dealId}:${type}`, {
        userId,
        dealId: deal.dealId,
        itemId: deal.itemId,
        itemName: deal.itemName,
        type,
        amount: deal.price,
        commission,
        completedAt: deal.at,
        seq,
      });
    return [side(deal.buyerId, 'purchase', deal.buyerCommission), side(deal.sellerId, 'sale', deal.sellerCommission)];
  },
};

export const statisticsProjection: EventHandler = {
  name: 'statistics',
  filter: completedDeals,
  collections: [dailyItemStats, dailyTotals, itemTotals],
  handle(recorded: RecordedEvent): WriteOp[] {
    const deal = (recorded as unknown as DealCompleted).data;
    const date = deal.at.slice(0, 10); // UTC day: `at` is an ISO string in UTC
    const inc = { count: 1, amount: deal.price };
    return [
      dailyItemStats.upsert(`${date}:${deal.itemId}`, {
        setOnInsert: { date, itemId: deal.itemId },
        set: { itemName: deal.itemName },
        inc,
      }),
      dailyTotals.upsert(date, { setOnInsert: { date }, inc }),
      itemTotals.upsert(deal.itemId, { set: { itemName: deal.itemName }, inc }),
    ];
  },
};
