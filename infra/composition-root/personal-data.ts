/**
 * Where personal data's keys are kept, chosen with the read store (the key store sits beside
 * the read models, never in the event store), and the secret that names email-claim streams.
 */
import { join } from 'node:path';
import type { EmailClaimKeys } from '../../command-handlers/identity.js';
import { personalData } from '../../domain/personal-data.js';
import type { Config } from '../config/config.js';
import type { EventStore } from '../eventsourcing/event-store/event-store.js';
import type { SnapshotStore } from '../eventsourcing/event-store/snapshot-store.js';
import { CachedKeys } from '../eventsourcing/personal-data/keys.js';
import { personalDataEventStore } from '../eventsourcing/personal-data/personal-data-event-store.js';
import { personalDataSnapshots } from '../eventsourcing/personal-data/personal-data-snapshots.js';
import { openMongoPersonalDataKeys } from '../mongodb/mongo-personal-data-keys.js';
import { emailClaimKeys, loadClaimSecret } from '../personal-data/claim-keys.js';
import { openSqlitePersonalDataKeys } from '../sqlite/sqlite-personal-data-keys.js';

export const PERSONAL_KEYS_FILE = 'personal-keys.db';

export interface PersonalDataParts {
  keys: CachedKeys;
  claimKeys: EmailClaimKeys;
  close(): Promise<void>;
}

export async function openPersonalData(config: Config): Promise<PersonalDataParts> {
  const claimKeys = emailClaimKeys(await loadClaimSecret(config.emailClaimSecret, config.dataDir));
  const store =
    config.readStore === 'mongo'
      ? await openMongoPersonalDataKeys(config.mongodbUri!, config.mongodbDb)
      : openSqlitePersonalDataKeys(join(config.dataDir, PERSONAL_KEYS_FILE));
  return { keys: new CachedKeys(store), claimKeys, close: () => store.close() };
}

/** The event store with personal data sealed on append and opened (or redacted) on read. */
export function sealingPersonalData(store: EventStore, parts: PersonalDataParts): EventStore {
  return personalDataEventStore(store, parts.keys, personalData);
}

/** Snapshots of users' streams sealed with the user's key. */
export function sealingSnapshots(store: SnapshotStore, parts: PersonalDataParts): SnapshotStore {
  return personalDataSnapshots(store, parts.keys, personalData.streamSubject);
}
