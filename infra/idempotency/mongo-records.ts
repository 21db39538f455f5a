import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { isDuplicateKey } from '../mongo-errors.js';
import type { IdempotencyRecords, KeptAnswer, RecordsOptions } from './records.js';

interface AnswerDoc {
  /** The caller and the key: one answer per key and caller. */
  _id: string;
  fingerprint: string;
  status: number;
  body: string | null;
  headers: Record<string, string>;
  at: Date;
}

/** createIndex on an index that exists with other options (here: another retention). */
const INDEX_OPTIONS_CONFLICT = new Set([85, 86]);

const idOf = (scope: string, key: string) => `${scope}\n${key}`;

/**
 * Kept answers as documents whose `_id` is the caller and key, so the first insert wins
 * on every API process at once; a TTL index on `at` lets the server forget them.
 */
export async function openMongoIdempotencyRecords(uri: string, dbName: string, options: RecordsOptions): Promise<IdempotencyRecords> {
  const now = options.now ?? Date.now;
  const client = await new MongoClient(uri).connect();
  try {
    const db = client.db(dbName);
    const answers: Collection<AnswerDoc> = db.collection<AnswerDoc>('idempotency_answers');
    const expireAfterSeconds = Math.ceil(options.retentionMs / 1000);
    try {
      await answers.createIndex({ at: 1 }, { name: 'expiry', expireAfterSeconds });
    } catch (error) {
      // The retention was changed since the index was made: change it in place.
      if (!(error instanceof MongoServerError && INDEX_OPTIONS_CONFLICT.has(Number(error.code)))) throw error;
      await db.command({ collMod: answers.collectionName, index: { name: 'expiry', expireAfterSeconds } });
    }
    const find = async (scope: string, key: string): Promise<KeptAnswer | null> => {
      const doc = await answers.findOne({ _id: idOf(scope, key) });
      return doc ? { fingerprint: doc.fingerprint, status: doc.status, body: doc.body, headers: doc.headers, at: doc.at.getTime() } : null;
    };
    return {
      find,
      async keep(scope, key, answer) {
        try {
          await answers.insertOne({ _id: idOf(scope, key), ...answer, at: new Date(answer.at) });
          return null;
        } catch (error) {
          if (isDuplicateKey(error)) return find(scope, key);
          throw error;
        }
      },
      // The TTL monitor does this by itself about once a minute; this is for whoever cannot wait.
      purgeExpired: async () => (await answers.deleteMany({ at: { $lt: new Date(now() - options.retentionMs) } })).deletedCount,
      close: () => client.close(),
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}
