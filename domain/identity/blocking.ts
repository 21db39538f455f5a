/**
 * Whether a user may use the API: an administrator blocks and unblocks. A blocked user's
 * tokens are refused at once (the HTTP edge asks the read model of blocked users), their
 * pending orders are canceled by the blocked-user-orders process manager
 * (domain/trading/blocked-user-orders.ts), and their money stays theirs. Blocking a blocked
 * user, or unblocking one who is not, changes nothing.
 */
import type { Decider } from '../decider.js';
import type { AccessEvent, Actor, UserBlocked } from './admin-events.js';

export interface AccessState {
  blocked: boolean;
}

export type AccessCommand =
  | { type: 'BlockUser'; userId: string; by: Actor; openOrders: UserBlocked['data']['openOrders']; at: string }
  | { type: 'UnblockUser'; userId: string; by: Actor; at: string };

export const access: Decider<AccessState, AccessCommand, AccessEvent> = {
  initialState: () => ({ blocked: false }),
  evolve: (_state, event) => ({ blocked: event.type === 'UserBlocked' }),
  decide(command, state) {
    if (command.type === 'BlockUser') {
      if (state.blocked) return [];
      const { userId, by, openOrders, at } = command;
      return [{ type: 'UserBlocked', data: { userId, by, openOrders, at } }];
    }
    if (!state.blocked) return [];
    const { userId, by, at } = command;
    return [{ type: 'UserUnblocked', data: { userId, by, at } }];
  },
  weigh: () => 100,
};
