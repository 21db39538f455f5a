/**
 * The operator's repairs of one projection or process manager (`repairsStream`): skipping
 * an event it parked is recorded once, with the operator's reason; skipping it again
 * records nothing more.
 */
import type { Decider } from '../decider.js';
import type { ParkedEventSkipped } from './events.js';

export interface RepairsState {
  /** The ids of the events skipped so far. */
  skipped: ReadonlySet<string>;
}

export type RepairCommand = { type: 'SkipParkedEvent' } & ParkedEventSkipped['data'];

export const repairs: Decider<RepairsState, RepairCommand, ParkedEventSkipped> = {
  initialState: () => ({ skipped: new Set() }),
  evolve: (state, event) => ({ skipped: new Set([...state.skipped, event.data.eventId]) }),
  decide(command, state) {
    if (state.skipped.has(command.eventId)) return [];
    const { type: _type, ...data } = command;
    return [{ type: 'ParkedEventSkipped', data }];
  },
  weigh: (state) => 100 + state.skipped.size * 100,
};
