/** Request and response bodies of the administrators' endpoints: validation and the OpenAPI document both read these. */
import * as z from 'zod';
import { pathId, MAX_PATH_ID_LENGTH } from './common.js';
import { role, user } from './identity.js';

/** The search of `GET /api/v1/admin/users` (the list's own `limit`, `cursor` and `minPosition` are read apart). */
export const userSearchQuery = z.object({
  email: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: 'users whose email begins with this (any case)' }),
  role: role.optional().meta({ description: 'users with this role' }),
  blocked: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: '`true`: blocked users only; `false`: the others' }),
});

/** The path of one user (`…/users/{userId}/…`). */
export const userPath = z.strictObject({
  userId: pathId.meta({
    description: `the user id (letters, digits, \`.\`, \`-\`, \`_\`, \`~\`; at most ${MAX_PATH_ID_LENGTH})`,
  }),
});

export const directoryUser = user
  .extend({
    blocked: z.boolean().meta({ description: 'blocked by an administrator: every token of theirs is refused' }),
  })
  .meta({ description: 'A user as administrators see them.' });
export type DirectoryUser = z.infer<typeof directoryUser>;

/** The handler whose parked events to list (`GET /api/v1/admin/parked-events?name=`). */
export const parkedQuery = z.object({
  name: z.string().min(1).max(100).optional().meta({ description: 'one projection or process manager only' }),
});

/** One parked event (`…/parked-events/{handler}/{eventId}/…`): the id `parked list` shows, `<handler>/<event id>`. */
export const parkedPath = z.strictObject({
  handler: pathId.meta({ description: 'the projection or process manager that parked it' }),
  eventId: pathId.meta({ description: 'the id of the parked event' }),
});

export const skipBody = z.strictObject({
  reason: z.string().trim().min(1).max(500).meta({ description: 'why it is never to be handled (kept in the event)' }),
});

export const parkedEvent = z
  .strictObject({
    id: z.string().meta({ description: '`<handler>/<event id>`' }),
    eventType: z.string(),
    streamId: z.string(),
    position: z.string(),
    attempts: z.int().min(0),
    parkedAt: z.iso.datetime(),
    stuck: z.string().meta({ description: "a process manager's deal or order it holds up (empty for a projection)" }),
    error: z.string(),
  })
  .meta({ description: 'An event a projection or process manager parked (as `npm run cli -- parked list` shows it).' });

export const parkedOutcomes = z.array(
  z
    .strictObject({ id: z.string(), ok: z.boolean(), what: z.string() })
    .meta({ description: 'What became of one parked event.' }),
);

export const checkQuery = z.object({
  graceSeconds: z
    .string()
    .regex(/^\d{1,6}$/, 'This value should be a whole number of seconds.')
    .optional()
    .meta({ description: 'deals younger than this may be under way (default 60)' }),
});

export const consistency = z
  .strictObject({
    consistent: z.boolean(),
    checks: z.array(
      z.strictObject({
        check: z.string(),
        ok: z.boolean(),
        summary: z.string(),
        violations: z.array(z.string()),
        notes: z.array(z.string()),
      }),
    ),
  })
  .meta({ description: 'The consistency check of `npm run cli -- check` over the whole event store.' });
