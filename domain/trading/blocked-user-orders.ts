/**
 * Cancels the pending orders of a user an administrator blocked (domain/identity/blocking.ts):
 * each order the block found open is canceled in its item's market, as if its owner had
 * canceled it. One filled or canceled meanwhile is an outcome, not a failure: the market's
 * refusal is accepted. Canceling is idempotent, so a redelivered block cancels nothing twice.
 */
import type { UserBlocked } from '../identity/admin-events.js';
import { stateless, type Workflow } from '../workflow.js';
import { itemOfOrder } from './events.js';
import type { MarketRequest } from './market.js';

/** The market's refusals that say the order is no longer pending (or was never placed). */
const NO_LONGER_PENDING = new Set(['cannot_cancel', 'order_not_found']);

export const blockedUserOrders: Workflow<UserBlocked, null, MarketRequest> = {
  name: 'blocked-user-orders',
  inputs: ['UserBlocked'],
  instanceOf: (input) => input.data.userId,
  ...stateless,
  decide(input, _state, step) {
    const { userId, openOrders } = input.data;
    return openOrders.flatMap(({ orderId, side }) => {
      const itemId = itemOfOrder(orderId);
      if (!itemId) return [];
      return [{ type: 'CancelOrder' as const, itemId, orderId, side, requesterId: userId, at: step.at }];
    });
  },
  acceptsRefusal: (refusal) => NO_LONGER_PENDING.has(refusal.code),
};
