/**
 * Every registered user gets a billing account, as a consequence of the registration
 * event (not of a second call by the client). Opening is idempotent: redelivering the
 * event, or replaying this process manager from the start, opens nothing twice.
 */
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { openAccount, type BillingEnvironment } from './billing.js';

export function accountOpening(env: BillingEnvironment): EventHandler {
  return {
    name: 'account-opening',
    kind: 'process-manager',
    filter: { eventTypePrefixes: ['UserRegistered'] },
    collections: [],
    partitionKey: (event) => String(event.data.userId),
    async handle(event) {
      await openAccount(env, String(event.data.userId), {
        correlationId: event.metadata.correlationId ?? event.id,
        causationId: event.id,
      });
      return [];
    },
  };
}
