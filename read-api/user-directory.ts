/** Users as administrators find them: by the beginning of their email, their role, blocked or not; sorted by email. */
import type { Role } from '../domain/identity/events.js';
import type { UserView } from '../domain/identity/user.js';
import { userDirectory } from '../projections/read-models/user-directory.js';
import { users } from '../projections/read-models/identity.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import type { Page } from './page.js';

export interface UserSearch {
  /** The beginning of the email, any case. */
  email?: string;
  role?: Role;
  blocked?: boolean;
}

export type DirectoryUserView = UserView & { blocked: boolean };

export async function searchUsers(readStore: ReadStore, search: UserSearch, page: Page) {
  const where: { role?: Role; blocked?: boolean } = {};
  if (search.role !== undefined) where.role = search.role;
  if (search.blocked !== undefined) where.blocked = search.blocked;
  const prefix = search.email?.trim().toLowerCase();
  const found = await userDirectory.find(readStore, {
    where,
    // Every email that begins with the prefix sorts between it and the prefix followed by the last character.
    ...(prefix && { range: { gte: prefix, lt: `${prefix}\uffff` } }),
    sort: { fields: ['email'], direction: 'asc' },
    limit: page.limit,
    after: page.after,
  });
  const profiles = await Promise.all(found.items.map((entry) => users.get(readStore, entry.id)));
  const items: DirectoryUserView[] = [];
  found.items.forEach((entry, i) => {
    const profile = profiles[i];
    // A directory entry whose profile the identity projection has not written yet shows up on the next read.
    if (profile) items.push({ ...profile, id: entry.id, role: entry.role, blocked: entry.blocked });
  });
  return { items, next: found.next };
}

/** The role the read models give the user now (null: unknown); what an administrator's request is checked against. */
export async function currentRole(readStore: Pick<ReadStore, 'get'>, userId: string): Promise<Role | null> {
  return (await userDirectory.get(readStore, userId))?.role ?? null;
}

/** Every blocked user's id. */
export async function blockedUserIds(readStore: ReadStore): Promise<Set<string>> {
  const ids = new Set<string>();
  let after: string | undefined;
  do {
    const page = await userDirectory.find(readStore, {
      where: { blocked: true },
      sort: { fields: ['email'], direction: 'asc' },
      limit: 500,
      after,
    });
    for (const entry of page.items) ids.add(entry.id);
    after = page.next;
  } while (after !== undefined);
  return ids;
}
