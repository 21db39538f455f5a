/** Response bodies of the liveness and readiness probes. */
import * as z from 'zod';

export const health = z.strictObject({ status: z.literal('ok') });
export type Health = z.infer<typeof health>;

export const readiness = z
  .strictObject({
    status: z.enum(['ready', 'unavailable']),
    checks: z.record(z.string(), z.string()).meta({ description: 'each dependency: `ok`, or `failed: <why>`' }),
  })
  .meta({ description: 'Whether every store answered in time.' });
export type Readiness = z.infer<typeof readiness>;
