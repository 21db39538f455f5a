/**
 * Forgetting, made certain: the handler that destroys a subject's key for each erasure
 * event (`UserForgotten`). The command that forgets a user destroys the key itself right
 * after appending the event; this handler, fed from its checkpoint like a process manager,
 * finishes the work when that process died in between (a fault may delay forgetting, never
 * lose it). Destroying a destroyed key changes nothing, so replays are harmless.
 */
import type { EventHandler } from '../subscriptions/event-handler.js';
import type { CachedKeys } from './keys.js';
import type { PersonalDataSpec } from './personal-data-event-store.js';

export function personalDataErasure(keys: CachedKeys, spec: PersonalDataSpec): EventHandler {
  return {
    name: 'personal-data-erasure',
    // Its effect is outside the read models: it runs beside the process managers.
    kind: 'process-manager',
    filter: { eventTypePrefixes: Object.keys(spec.erasures) },
    collections: [],
    async handle(event) {
      const field = spec.erasures[event.type];
      const subject = field === undefined ? undefined : event.data[field];
      if (typeof subject === 'string' && subject !== '') await keys.forget(subject, event.created);
      return [];
    },
  };
}
