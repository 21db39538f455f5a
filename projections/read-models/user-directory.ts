/** The user-directory projection's collection: every user as administrators find them (by email, role, blocked or not). */
import type { Role } from '../../domain/identity/events.js';
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** One user, by user id. `email` normalised (trimmed, lower case), so a search by its beginning ignores case. */
export type DirectoryEntryDoc = {
  id: string;
  email: string;
  role: Role;
  blocked: boolean;
  createdAt: string;
};

export const userDirectory = collection<DirectoryEntryDoc>('user_directory', [
  { equal: [], sort: ['email'] },
  { equal: ['role'], sort: ['email'] },
  { equal: ['blocked'], sort: ['email'] },
  { equal: ['role', 'blocked'], sort: ['email'] },
]);
