/** A user's letters: marking one read (its inbox stream records it; the notifications projection counts it). */
import type { EventMetadata } from '../infra/eventsourcing/event-store/event-store.js';
import type { CommandEnvironment } from '../infra/eventsourcing/command-handling/handle-command.js';
import { inboxCommands } from './commands.js';

export interface InboxEnvironment extends CommandEnvironment {
  now(): Date;
}

/** Records that the user read the letter (which the caller found theirs); answers the event's position. */
export async function markNotificationRead(
  env: InboxEnvironment,
  request: { userId: string; notificationId: string },
  metadata?: EventMetadata,
) {
  const at = env.now().toISOString();
  const result = await inboxCommands.handle(env, { type: 'MarkNotificationRead', ...request, at }, { metadata });
  return { position: result.position };
}
