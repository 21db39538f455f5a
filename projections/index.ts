import { billingProjection } from './billing.js';
import { eventTypeStats } from './event-type-stats.js';
import { identityProjection } from './identity.js';
import type { EventHandler } from './projection.js';

/** Every read-model projection (process managers, which need the command side, are added by the composition root). */
export const projections: EventHandler[] = [eventTypeStats, identityProjection, billingProjection];
