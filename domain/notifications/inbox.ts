/**
 * A user's inbox: marking a letter read is the user's own act, so it is an event of their
 * inbox stream. Whether the letter exists and is theirs is for the sender to find out (the
 * letters are a read model); marking one read twice records it twice and changes nothing
 * more (the projection counts a letter unread once). The state holds nothing the rules
 * need: only how many marks the stream holds, so it snapshots and caches small.
 */
import type { Decider } from '../decider.js';
import { json, type SnapshotCodec } from '../snapshot.js';
import type { InboxEvent } from './events.js';

export interface InboxState {
  marks: number;
}

export type InboxCommand = { type: 'MarkNotificationRead'; userId: string; notificationId: string; at: string };

export const inboxSnapshot: SnapshotCodec<InboxState> = {
  version: 1,
  encode: (state) => ({ marks: state.marks }),
  decode: (value) => ({ marks: json.integer(json.object(value, 'inbox').marks, 'marks') }),
};

export const inbox: Decider<InboxState, InboxCommand, InboxEvent> = {
  initialState: () => ({ marks: 0 }),
  evolve: (state) => ({ marks: state.marks + 1 }),
  decide(command) {
    const { userId, notificationId, at } = command;
    return [{ type: 'NotificationRead', data: { userId, notificationId, at } }];
  },
  snapshot: inboxSnapshot,
  weigh: () => 100,
};
