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
