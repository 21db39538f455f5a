/**
 * The one broker of the marketplace (the specification: exactly one broker account receives
 * the commissions). Appointments are decided in one stream, so two can never both stand:
 * appointing a broker retires the one before. The roles follow (the new broker's becomes
 * `broker`, the retired one's `trader`), and the markets take the broker in office when a deal
 * opens as the deal's broker: the items the retired broker listed earn for the new one.
 */
import type { Decider } from '../decider.js';
import type { Actor, BrokerAppointed } from './admin-events.js';

export interface BrokerOfficeState {
  /** The broker in office; null before the first appointment. */
  brokerId: string | null;
  /** The broker the latest appointment retired (null: none), whose role an appointment done again retires again. */
  previousBrokerId: string | null;
}

export type BrokerOfficeCommand = { type: 'AppointBroker'; userId: string; by: Actor; at: string };

export const brokerOffice: Decider<BrokerOfficeState, BrokerOfficeCommand, BrokerAppointed> = {
  initialState: () => ({ brokerId: null, previousBrokerId: null }),
  evolve: (_state, event) => ({ brokerId: event.data.userId, previousBrokerId: event.data.previousBrokerId }),
  decide(command, state) {
    if (state.brokerId === command.userId) return [];
    const { userId, by, at } = command;
    return [{ type: 'BrokerAppointed', data: { userId, previousBrokerId: state.brokerId, by, at } }];
  },
  weigh: () => 200,
};
