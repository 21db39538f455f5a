/** The user's profile as the API shows it (`User`). */
import type { Role } from '../domain/identity/events.js';
import { USERS } from '../projections/identity.js';
import type { ReadStore } from '../infra/read-store/read-store.js';

export interface UserDocument {
  id: string;
  email: string;
  role: Role;
  firstName: string;
  lastName: string;
  phone: string | null;
  createdAt: string;
  updatedAt: string;
}

export async function getProfile(readStore: ReadStore, userId: string): Promise<UserDocument | null> {
  const doc = await readStore.get(USERS, userId);
  if (!doc) return null;
  const { id, email, role, firstName, lastName, phone, createdAt, updatedAt } = doc;
  // Written by the identity projection with exactly these fields.
  return { id, email, role, firstName, lastName, phone, createdAt, updatedAt } as UserDocument;
}
