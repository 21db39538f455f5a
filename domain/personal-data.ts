/**
 * Which events carry personal data, whose it is and what it reads as once its owner is
 * forgotten. The event store keeps these fields encrypted with a key of their owner's (the
 * `subject`), kept outside the event store; deleting the key forgets them in every event at
 * once, while the log itself stays append-only (infra/eventsourcing/personal-data/).
 *
 * What a forgotten field reads as is a value of its schema's type (an empty string, or null
 * where the field may be null), so every event still reads as its type; the events after it
 * (`UserForgotten`) say that the user is gone.
 */
import type { UserEvent } from './identity/events.js';

/** The personal fields of one event type. */
export interface PersonalFields {
  /** The field naming whose data it is (and so the key it is encrypted with). */
  subject: string;
  /** Each personal field, with what it reads as once its subject is forgotten. */
  fields: Readonly<Record<string, string | null>>;
}

const password = { passwordHash: '' };
const profile = { firstName: '', lastName: '', phone: null };

export const personalData = {
  events: {
    UserRegistered: { subject: 'userId', fields: { email: '', ...password, ...profile } },
    UserProfileUpdated: { subject: 'userId', fields: profile },
    UserPasswordChanged: { subject: 'userId', fields: password },
    UserPasswordRehashed: { subject: 'userId', fields: password },
    EmailReserved: { subject: 'userId', fields: { email: '' } },
  } satisfies Record<string, PersonalFields>,
  /** The events that forget their subject, by the field naming it. */
  erasures: { UserForgotten: 'userId' } satisfies Partial<Record<UserEvent['type'], string>>,
  /** The subject whose personal data a stream's folded state (its snapshots) holds, or null. */
  streamSubject: (streamId: string): string | null =>
    streamId.startsWith('user-') ? streamId.slice('user-'.length) : null,
};
