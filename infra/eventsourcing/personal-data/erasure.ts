/**
 * Forgetting, made certain: the handler that destroys a subject's key for each erasure
 * event (`UserForgotten`). The command that forgets a user destroys the key itself right
 * after appending the event; this handler, fed from its checkpoint like a projection,
 * finishes the work when that process died in between (a fault may delay forgetting, never
 * lose it). Destroying a destroyed key changes nothing, so replays are harmless.
 */
import type { EventHandler } from '../subscriptions/event-handler.js';
import type { CachedKeys } from './keys.js';
import type { PersonalDataSpec } from './personal-data-event-store.js';

export function personalDataErasure(keys: CachedKeys, spec: PersonalDataSpec): EventHandler {
  return {
    name: 'personal-data-erasure',
    // Unfiltered, so that it advances with every event on either store and read-your-writes
    // never waits on it; it acts on the erasures alone.
    collections: [],
    async handle(event) {
      const field = spec.erasures[event.type];
      const subject = field === undefined ? undefined : event.data[field];
      if (typeof subject === 'string' && subject !== '') await keys.forget(subject, event.created);
      return [];
    },
  };
}
