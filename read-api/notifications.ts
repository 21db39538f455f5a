import { NOTIFICATIONS } from '../projections/notifications.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export async function listNotifications(readStore: ReadStore, userId: string, page: Page) {
  const found = await readStore.find(NOTIFICATIONS, {
    where: { userId },
    sort: { fields: ['seq'], direction: 'desc' },
    limit: page.limit,
    after: page.after,
  });
  return {
    items: found.items.map((d) => ({ id: d.id, message: String(d.message), createdAt: String(d.createdAt) })),
    next: found.next,
  };
}
