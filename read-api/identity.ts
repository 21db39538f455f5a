/** The user's profile as the API shows it (`User`). */
import type { UserView } from '../domain/identity/user.js';
import { USERS } from '../projections/identity.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';

export async function getProfile(readStore: ReadStore, userId: string): Promise<UserView | null> {
  const doc = await readStore.get(USERS, userId);
  if (!doc) return null;
  const { id, email, role, firstName, lastName, phone, createdAt, updatedAt } = doc;
  // Written by the identity projection with exactly these fields.
  return { id, email, role, firstName, lastName, phone, createdAt, updatedAt } as UserView;
}
