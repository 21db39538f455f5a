/** The notifications projection's collections: the letters, and the names it writes them to. */
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** A letter, by `<eventId>:<role of the recipient>`. */
export type NotificationDoc = {
  id: string;
  userId: string;
  message: string;
  createdAt: string;
  /** The event's position (sortable). */
  seq: string;
};

/** The name a user has at this point of the log, by user id (kept by the projection itself, so a rebuild writes the same letters). */
export type RecipientDoc = {
  id: string;
  firstName: string;
  lastName: string;
};

/** How many letters were written to a user since letters were indexed (`LetterIndexDoc`), by user id. */
export type LetterCountDoc = {
  id: string;
  letters: number;
};

/**
 * The `n`-th letter written to a user, by `<userId>:<n>`: what finds a user's letters when the
 * user is forgotten, so they are deleted with the name they carry.
 */
export type LetterIndexDoc = {
  id: string;
  letterId: string;
};

export const notifications = collection<NotificationDoc>('notifications', [{ equal: ['userId'], sort: ['seq'] }]);

export const recipients = collection<RecipientDoc>('notification_recipients');

export const letterCounts = collection<LetterCountDoc>('notification_letter_counts');

export const letterIndex = collection<LetterIndexDoc>('notification_letter_index');
