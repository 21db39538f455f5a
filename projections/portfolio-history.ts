/**
 * The past of every portfolio, for `GET /trading/user-items?asOf=`: each event that changes
 * a trader's holding of an item (a listing gives the broker its units, a sell order puts one
 * on sale, a cancel takes it off, a completed deal moves one from seller to buyer) writes
 * that holding as it is after the event, as a version of its own, keyed by the event's
 * position and time. The portfolio at any point is then each item's latest version at or
 * before it: one indexed read per item the trader ever held, however long the history.
 * The changes are the trading projection's (`projections/trading.ts`), made by the same events.
 */
import type { MarketEvent } from '../domain/trading/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import type { EventHandler, ProjectionView } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { holdingHeads, holdingVersions } from './read-models/portfolio-history.js';
import { portfolioId } from './read-models/trading.js';

/** A change of one trader's holding of one item. */
export interface HoldingChange {
  userId: string;
  itemId: string;
  count: number;
  onSaleCount: number;
  /** The item's name, where the event gives it. */
  name?: string;
}

/** What a market event changes in holdings (the same rules as the trading projection's portfolio). */
export function holdingChangesOf(event: MarketEvent): HoldingChange[] {
  switch (event.type) {
    case 'ItemListed': {
      const { brokerId, itemId, initialCount, name } = event.data;
      return [{ userId: brokerId, itemId, count: initialCount, onSaleCount: initialCount, name }];
    }
    case 'SellOrderPlaced':
      return [{ userId: event.data.sellerId, itemId: event.data.itemId, count: 0, onSaleCount: 1 }];
    case 'OrderCanceled': {
      const { side, ownerId, itemId } = event.data;
      return side === 'sell' ? [{ userId: ownerId, itemId, count: 0, onSaleCount: -1 }] : [];
    }
    case 'DealCompleted': {
      const { sellerId, buyerId, itemId, itemName } = event.data;
      return [
        { userId: sellerId, itemId, count: -1, onSaleCount: -1 },
        { userId: buyerId, itemId, count: 1, onSaleCount: 0, name: itemName },
      ];
    }
    default:
      return [];
  }
}

export const portfolioHistoryProjection: EventHandler = {
  name: 'portfolio-history',
  filter: { eventTypePrefixes: ['ItemListed', 'SellOrderPlaced', 'OrderCanceled', 'DealCompleted'] },
  collections: [holdingVersions, holdingHeads],
  async handle(recorded: RecordedEvent, view: ProjectionView): Promise<WriteOp[]> {
    // The filter admits only these market events.
    const event = { type: recorded.type, data: recorded.data } as unknown as MarketEvent;
    const seq = sortablePosition(recorded.position);
    const at = (event.data as { at: string }).at;
    const writes: WriteOp[] = [];
    for (const change of holdingChangesOf(event)) {
      const id = portfolioId(change.userId, change.itemId);
      const head = await holdingHeads.get(view, id);
      const next = {
        userId: change.userId,
        itemId: change.itemId,
        name: change.name ?? head?.name ?? '',
        count: (head?.count ?? 0) + change.count,
        onSaleCount: (head?.onSaleCount ?? 0) + change.onSaleCount,
      };
      writes.push(holdingHeads.upsert(id, { set: next }), holdingVersions.insert(`${id}@${seq}`, { ...next, seq, at }));
    }
    return writes;
  },
};
