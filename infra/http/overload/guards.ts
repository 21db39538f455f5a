/**
 * What sheds load in front of the API's routes, built once per process from the settings
 * (infra/config/overload-settings.ts) and mounted by server.ts: the rate limits, the bound
 * on password hashes, the cap on a stream's command queue (requests' commands only) and on
 * read-your-writes waits.
 */
import type { Context, Middleware } from 'koa';
import type { ApiServices } from '../routes/context.js';
import type { AuthState } from '../auth.js';
import { boundedHashing, hashingBound, type WorkBound } from './bounded-work.js';
import { clientAddress } from './client-address.js';
import { emailOf, rateLimited } from './rate-limits.js';
import type { BucketStore } from './token-buckets.js';

export interface OverloadLimits {
  rateLimitSignInPerAddress: number;
  rateLimitSignInPerAccount: number;
  rateLimitCommandsPerAddress: number;
  rateLimitCommandsPerAccount: number;
  trustProxy: number;
  passwordHashConcurrency: number;
  passwordHashQueue: number;
  commandQueuePerStream: number;
  readYourWritesMaxWaits: number;
}

export interface OverloadGuards {
  limits: OverloadLimits;
  buckets: BucketStore;
  hashing: WorkBound;
}

export function overloadGuards(limits: OverloadLimits, buckets: BucketStore): OverloadGuards {
  return { limits, buckets, hashing: hashingBound(limits.passwordHashConcurrency, limits.passwordHashQueue) };
}

/** Registration and sign-in (the public POSTs): per client address, and per email named. */
export function signInLimits(guards: OverloadGuards): Middleware {
  const { limits } = guards;
  return rateLimited(guards.buckets, [
    {
      name: 'sign-in:address',
      perMinute: limits.rateLimitSignInPerAddress,
      keyOf: (ctx) => clientAddress(ctx, limits.trustProxy),
    },
    { name: 'sign-in:account', perMinute: limits.rateLimitSignInPerAccount, keyOf: emailOf },
  ]);
}

/** Commands (the POSTs and PUTs behind a token): per client address, and per signed-in user. */
export function commandLimits(guards: OverloadGuards): Middleware {
  const { limits } = guards;
  return rateLimited(guards.buckets, [
    {
      name: 'commands:address',
      perMinute: limits.rateLimitCommandsPerAddress,
      keyOf: (ctx) => clientAddress(ctx, limits.trustProxy),
    },
    {
      name: 'commands:account',
      perMinute: limits.rateLimitCommandsPerAccount,
      keyOf: (ctx: Context) => (ctx.state as Partial<AuthState>).caller?.userId ?? null,
    },
  ]);
}

/**
 * The services as requests use them: passwords hashed within the bound, commands refused
 * past a full stream queue. The process managers keep the unbounded ones: a reaction to
 * money moved must never be refused.
 */
export function guardedServices(services: ApiServices, guards: OverloadGuards): ApiServices {
  return {
    ...services,
    passwords: boundedHashing(() => services.passwords, guards.hashing),
    maxQueuedPerStream: guards.limits.commandQueuePerStream,
  };
}
