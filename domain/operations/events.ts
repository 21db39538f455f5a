/**
 * The operator's repairs, declared once (see domain/event-schema.ts): what was decided about
 * an event a projection or process manager parked, kept in the log like every other fact, so
 * an audit can tell a deal left unfinished on purpose from one forgotten.
 */
import * as z from 'zod';
import { EventType, id, instant, type EventOf } from '../event-schema.js';
import { actor } from '../identity/admin-events.js';

export const parkedEventSkipped = EventType.first(
  'ParkedEventSkipped',
  z
    .strictObject({
      subscription: z.string().meta({ description: 'the projection or process manager that parked the event' }),
      eventId: id,
      eventType: z.string(),
      streamId: z.string(),
      position: z.string().meta({ description: 'where the skipped event is in `$all`, as text' }),
      error: z.string().meta({ description: 'why it was parked' }),
      reason: z.string().min(1).meta({ description: "the operator's reason for skipping it" }),
      // Absent: skipped from the CLI before administrators could skip (`by` then says `cli`, or the admin's id).
      by: actor.optional(),
      at: instant,
    })
    .meta({
      description:
        'An operator skipped an event a projection or process manager had parked (`npm run cli -- parked skip`): it is never handled. A process manager’s deal or order it belonged to stays where it stopped.',
    }),
);

export type ParkedEventSkipped = EventOf<typeof parkedEventSkipped>;
export type RepairEvent = ParkedEventSkipped;

/** Every event of a repairs stream. */
export const repairEvents = [parkedEventSkipped] as const;

/** One stream per projection or process manager: what was decided about its parked events. */
export const repairsStream = (subscription: string) => `repairs-${subscription}`;
