import { notifications } from '../projections/read-models/notifications.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export async function listNotifications(readStore: ReadStore, userId: string, page: Page) {
  const found = await notifications.find(readStore, {
    where: { userId },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  return {
    items: found.items.map((d) => ({ id: d.id, message: d.message, createdAt: d.createdAt })),
    next: found.next,
  };
}
