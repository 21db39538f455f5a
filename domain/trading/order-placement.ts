/**
 * Finishes placements: every order is recorded in its trader's stream (OrderSubmitted)
 * before it is entered in its item's market, and one that a crash kept from the market is
 * entered from that record. A refusal of the market (OrderRefused) is recorded in the
 * trader's stream too (OrderRejected), so that their orders say so.
 *
 * Nearly always the placing request entered the order itself: a market that holds the order
 * (active or closed: an order once in the market stays there while a repeat of it can come)
 * proves it, and nothing is sent. Entering it again is harmless anyway: the market places an
 * order id once, and one it refused stays refused; a placement submitted too long ago for the
 * market to tell whether it placed it is refused as expired, an outcome like any refusal.
 */
import { isoOf, msOf } from '../time.js';
import type { Workflow } from '../workflow.js';
import { marketStream, type MarketEvent, type OrderRefused, type OrderSubmitted } from './events.js';
import { findOrder, market, type MarketRequest, type MarketState } from './market.js';
import type { TraderOrdersCommand } from './trader-orders.js';

export type OrderPlacementInput = OrderSubmitted | OrderRefused;
export type OrderPlacementCommand = MarketRequest | TraderOrdersCommand;

export interface OrderPlacementSettings {
  /** How long after its submission a market recognises a repeat of a placement (the product's market order memory). */
  marketOrderMemoryMs: number;
}

export function orderPlacement(
  settings: OrderPlacementSettings,
): Workflow<OrderPlacementInput, MarketState, OrderPlacementCommand, MarketEvent> {
  return {
    name: 'order-placement',
    inputs: ['OrderSubmitted', 'OrderRefused'],
    instanceOf: (input) => input.data.orderId,
    // The state is the market's, as the market folds it.
    initialState: market.initialState,
    evolve: market.evolve,
    stateStream: (input) => (input.type === 'OrderSubmitted' ? marketStream(input.data.itemId) : null),
    decide(input, state, step) {
      if (input.type === 'OrderRefused') {
        const { ownerId: userId, orderId, reason } = input.data;
        return [{ type: 'RejectOrder', userId, orderId, reason, at: step.at }];
      }
      const { userId, orderId, side, itemId, price, at: submittedAt } = input.data;
      if (findOrder(state, orderId)) return [];
      const reason = state.refused.get(orderId);
      if (reason !== undefined) return [{ type: 'RejectOrder', userId, orderId, reason, at: step.at }];
      // The market recognises a repeat of the placement for its memory after the first submission.
      const rememberUntil = isoOf(msOf(submittedAt) + settings.marketOrderMemoryMs);
      const placement = { itemId, orderId, price, dealId: step.freshId, rememberUntil, at: step.at };
      return [
        side === 'purchase'
          ? { type: 'PlacePurchaseOrder', buyerId: userId, ...placement }
          : { type: 'PlaceSellOrder', sellerId: userId, ...placement },
      ];
    },
    // A placement the market turns down (expired, say) is an outcome, not a failure of this step.
    acceptsRefusal: () => true,
  };
}
