/**
 * Personal data encrypted at the event store's boundary, for either store: a decorator of
 * the `EventStore` port, put by the composition root between the versioned decorator (which
 * checks and upcasts the plain data, above) and the adapter (which stores what it is given,
 * below). Deciders, projections and process managers see plain data; the store never does.
 *
 * - **Append**: the personal fields of an event (`PersonalDataSpec`) are taken out of its
 *   data and sealed together under its subject's key (made and stored in the key store on
 *   first use, before the event is appended) into one field, `personalData`; its metadata
 *   says `personalData: "aes-256-gcm"`. Personal data of a forgotten subject is refused.
 * - **Read**: sealed fields are opened with the subject's key. Once the subject is forgotten
 *   (the key destroyed, a tombstone left), each personal field reads as the spec's
 *   redacted value instead — also in events an older build wrote in plaintext, which stay
 *   in the log as they were (it is append-only) but are never shown again. An erasure event
 *   read here forgets its subject in this process at once, and the events read with it are
 *   redacted too.
 */
import type {
  AllSubscription,
  EventStore,
  EventToAppend,
  JsonObject,
  JsonValue,
  RecordedEvent,
  SubscriptionBatch,
} from '../event-store/event-store.js';
import { newKey, open, seal } from './cipher.js';
import type { CachedKeys, KeyLookup } from './keys.js';

/** The personal fields of one event type (domain/personal-data.ts declares them). */
export interface PersonalFieldsSpec {
  subject: string;
  fields: Readonly<Record<string, string | null>>;
}

export interface PersonalDataSpec {
  events: Readonly<Record<string, PersonalFieldsSpec>>;
  /** Event types that forget their subject, by the field naming it. */
  erasures: Readonly<Record<string, string>>;
}

/** An append of personal data for a subject already forgotten: a bug of the caller (its decider refuses commands then). */
export class SubjectForgotten extends Error {
  override readonly name = 'SubjectForgotten';
  constructor(streamId: string, type: string) {
    super(`${type} to ${streamId} carries personal data of a forgotten user`);
  }
}

export const SEALED_FIELD = 'personalData';
const ALGORITHM_TAG = 'aes-256-gcm';

export function personalDataEventStore(store: EventStore, keys: CachedKeys, spec: PersonalDataSpec): EventStore {
  const reveal = (events: RecordedEvent[]) => revealAll(events, keys, spec);
  return {
    async appendToStream(streamId, events, options) {
      const sealed = await Promise.all(events.map((event) => sealEvent(streamId, event, keys, spec)));
      return store.appendToStream(streamId, sealed, options);
    },
    async readStream(streamId, options) {
      const result = await store.readStream(streamId, options);
      return result.status === 'found' ? { status: 'found', events: await reveal(result.events) } : result;
    },
    readAll: async (options) => reveal(await store.readAll(options)),
    subscribeToAll: (options) => revealingSubscription(store.subscribeToAll(options), reveal),
    headPosition: () => store.headPosition(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

function subjectOf(data: JsonObject, field: string): string | null {
  const subject = data[field];
  return typeof subject === 'string' && subject !== '' ? subject : null;
}

const associated = (type: string, subject: string) => `${type}\n${subject}`;

async function sealEvent(
  streamId: string,
  event: EventToAppend,
  keys: CachedKeys,
  spec: PersonalDataSpec,
): Promise<EventToAppend> {
  const personal = spec.events[event.type];
  const subject = personal && subjectOf(event.data, personal.subject);
  if (!personal || !subject) return event;
  const lookup = await keys.obtain(subject, newKey);
  if (lookup.kind !== 'active') throw new SubjectForgotten(streamId, event.type);
  const plain: JsonObject = {};
  const rest: JsonObject = {};
  for (const [field, value] of Object.entries(event.data)) {
    if (field in personal.fields) plain[field] = value;
    else rest[field] = value;
  }
  return {
    ...event,
    data: { ...rest, [SEALED_FIELD]: seal(lookup.key, JSON.stringify(plain), associated(event.type, subject)) },
    metadata: { ...event.metadata, [SEALED_FIELD]: ALGORITHM_TAG },
  };
}

/** The events as plain data: opened, or redacted where their subject is forgotten. */
async function revealAll(events: RecordedEvent[], keys: CachedKeys, spec: PersonalDataSpec): Promise<RecordedEvent[]> {
  const subjects = new Set<string>();
  for (const event of events) {
    const erased = spec.erasures[event.type];
    const forgotten = erased === undefined ? null : subjectOf(event.data, erased);
    if (forgotten) keys.forgotten(forgotten);
    const personal = spec.events[event.type];
    const subject = personal && subjectOf(event.data, personal.subject);
    if (subject) subjects.add(subject);
  }
  if (subjects.size === 0) return events;
  const lookups = new Map<string, KeyLookup>();
  await Promise.all([...subjects].map(async (s) => lookups.set(s, await keys.find(s))));
  return events.map((event) => {
    const personal = spec.events[event.type];
    const subject = personal && subjectOf(event.data, personal.subject);
    return personal && subject ? revealEvent(event, personal, subject, lookups.get(subject)!) : event;
  });
}

function revealEvent(
  event: RecordedEvent,
  personal: PersonalFieldsSpec,
  subject: string,
  lookup: KeyLookup,
): RecordedEvent {
  const sealed = event.metadata[SEALED_FIELD] === ALGORITHM_TAG ? event.data[SEALED_FIELD] : undefined;
  if (lookup.kind === 'forgotten' || (sealed !== undefined && lookup.kind === 'none')) {
    return { ...event, data: { ...withoutSealed(event.data), ...redacted(personal) }, metadata: plainMetadata(event) };
  }
  if (sealed === undefined || lookup.kind !== 'active') return event; // plaintext, written before encryption
  const plain = typeof sealed === 'string' ? open(lookup.key, sealed, associated(event.type, subject)) : null;
  if (plain === null) return { ...event, unreadable: `${event.type}: its personal data does not decrypt` };
  return {
    ...event,
    data: { ...withoutSealed(event.data), ...(JSON.parse(plain) as JsonObject) },
    metadata: plainMetadata(event),
  };
}

function redacted(personal: PersonalFieldsSpec): JsonObject {
  return { ...personal.fields } as Record<string, JsonValue>;
}

function withoutSealed(data: JsonObject): JsonObject {
  const { [SEALED_FIELD]: _sealed, ...rest } = data;
  return rest;
}

function plainMetadata(event: RecordedEvent): RecordedEvent['metadata'] {
  const { [SEALED_FIELD]: _sealed, ...rest } = event.metadata;
  return rest;
}

function revealingSubscription(
  subscription: AllSubscription,
  reveal: (events: RecordedEvent[]) => Promise<RecordedEvent[]>,
): AllSubscription {
  return {
    close: () => subscription.close(),
    async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
      for await (const batch of subscription) yield { ...batch, events: await reveal(batch.events) };
    },
  };
}
