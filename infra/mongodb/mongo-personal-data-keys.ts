/**
 * The personal-data keys as documents of the `personal_data_keys` collection beside the
 * read models, one per subject (`_id`). The first key inserted for a subject wins on every
 * process at once; forgetting unsets it and leaves the tombstone (`forgottenAt`). The
 * client's write concern (majority on a replica set) makes a key durable before an event is
 * sealed with it. (The server may keep a deleted value's bytes in its files until it
 * compacts them: see the README on forgetting.)
 */
import { Binary, MongoClient, type Collection } from 'mongodb';
import type { KeyLookup, PersonalDataKeys } from '../eventsourcing/personal-data/keys.js';
import { isDuplicateKey } from './mongo-errors.js';

interface KeyDoc {
  _id: string;
  key: Binary | null;
  createdAt: Date;
  forgottenAt?: Date;
}

export async function openMongoPersonalDataKeys(uri: string, dbName: string): Promise<PersonalDataKeys> {
  const client = await new MongoClient(uri).connect();
  const keys: Collection<KeyDoc> = client.db(dbName).collection<KeyDoc>('personal_data_keys');
  const find = async (subject: string): Promise<KeyLookup> => {
    const doc = await keys.findOne({ _id: subject });
    if (!doc) return { kind: 'none' };
    return doc.key ? { kind: 'active', key: Buffer.from(doc.key.buffer) } : { kind: 'forgotten' };
  };
  return {
    async obtain(subject, candidate) {
      try {
        await keys.insertOne({ _id: subject, key: new Binary(candidate), createdAt: new Date() });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      return find(subject);
    },
    find,
    async forget(subject, at) {
      const tombstone = () =>
        keys.updateOne(
          { _id: subject },
          { $set: { key: null, forgottenAt: at }, $setOnInsert: { createdAt: at } },
          { upsert: true },
        );
      try {
        await tombstone();
      } catch (error) {
        // Two forgets at once (the command and the erasure handler) may both try the insert: the
        // loser's duplicate key means the document exists now, so the same update matches it.
        if (!isDuplicateKey(error)) throw error;
        await tombstone();
      }
    },
    close: () => client.close(),
  };
}
