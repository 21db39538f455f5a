import { billingProjection } from './billing.js';
import { historyProjection, statisticsProjection } from './deals.js';
import { identityProjection } from './identity.js';
import { marketDataProjection } from './market.js';
import { notificationsProjection } from './notifications.js';
import { orderingProjection } from './ordering.js';
import { portfolioHistoryProjection } from './portfolio-history.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { tradingProjection } from './trading.js';
import { userDirectoryProjection } from './user-directory.js';

/** Every read-model projection (process managers, which need the command side, are added by the composition root). */
export const projections: EventHandler[] = [
  identityProjection,
  billingProjection,
  tradingProjection,
  marketDataProjection,
  historyProjection,
  statisticsProjection,
  notificationsProjection,
  orderingProjection,
  userDirectoryProjection,
  portfolioHistoryProjection,
];
