/**
 * The events of what administrators (and the operator) do to users, declared once (see
 * domain/event-schema.ts): appointing the one broker, blocking and unblocking a user. Every
 * one names who did it (`by`). Role changes are the user's own `UserRoleChanged` (events.ts),
 * which names who made them too.
 */
import * as z from 'zod';
import { EventType, id, instant, type EventOf } from '../event-schema.js';
import { side } from '../trading/events.js';

/** Who made an administrative change. */
export const actor = z.string().meta({
  description:
    "Who did it: the admin's user id, or `cli` (the operator's `npm run cli`) or `configuration` (`BROKER_EMAIL` at start-up).",
});
export type Actor = z.infer<typeof actor>;

export const brokerAppointed = EventType.first(
  'BrokerAppointed',
  z.strictObject({ userId: id, previousBrokerId: id.nullable(), by: actor, at: instant }).meta({
    description:
      'The one broker of the marketplace from now on; the previous one (if any) is retired. Deals opened from now on earn their commissions for this broker, whoever listed the item.',
  }),
);

const openOrder = z.strictObject({ orderId: id, side });

export const userBlocked = EventType.first(
  'UserBlocked',
  z.strictObject({ userId: id, by: actor, openOrders: z.array(openOrder), at: instant }).meta({
    description:
      "The user's access tokens are refused from now on; `openOrders` are the pending orders the read models showed, which the blocked-user-orders process manager cancels. Their money stays theirs.",
  }),
);
export const userUnblocked = EventType.first(
  'UserUnblocked',
  z
    .strictObject({ userId: id, by: actor, at: instant })
    .meta({ description: 'The user may sign in and call the API again.' }),
);

export type BrokerAppointed = EventOf<typeof brokerAppointed>;
export type UserBlocked = EventOf<typeof userBlocked>;
export type UserUnblocked = EventOf<typeof userUnblocked>;
export type AccessEvent = UserBlocked | UserUnblocked;

/** The one stream of broker appointments (`broker-marketplace`: there is one marketplace): one broker at a time is decided there. */
export const brokerEvents = [brokerAppointed] as const;
export const brokerStream = (marketplace = 'marketplace') => `broker-${marketplace}`;

/** A user's access: blocked or not. Its own stream, beside the user's. */
export const accessEvents = [userBlocked, userUnblocked] as const;
export const accessStream = (userId: string) => `access-${userId}`;
export const ACCESS_STREAM_PREFIX = 'access-';
