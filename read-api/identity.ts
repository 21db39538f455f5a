/** The user's profile as the API shows it (`User`). */
import type { UserView } from '../domain/identity/user.js';
import { users } from '../projections/read-models/identity.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';

export async function getProfile(readStore: ReadStore, userId: string): Promise<UserView | null> {
  const doc = await users.get(readStore, userId);
  if (!doc) return null;
  const { id, email, role, firstName, lastName, phone, createdAt, updatedAt } = doc;
  return { id, email, role, firstName, lastName, phone, createdAt, updatedAt };
}
