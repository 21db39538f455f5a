import { eventTypeStats } from './event-type-stats.js';
import type { EventHandler } from './projection.js';

/** Every projection and process manager the system runs, by name. */
export const allHandlers: EventHandler[] = [eventTypeStats];
