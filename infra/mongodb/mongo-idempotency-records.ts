import { MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import { isDuplicateKey } from './mongo-errors.js';
import type { IdempotencyRecords, KeptAnswer, RecordsOptions } from '../idempotency/records.js';

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
/** What FerretDB answers a TTL index with (`expireAfterSeconds` is not implemented there). */
const NOT_IMPLEMENTED = 238;
/** Where the server expires nothing, purge as often as MongoDB's TTL monitor runs. */
const PURGE_EVERY_MS = 60_000;

/** That a request with a key was attempted, and when first. */
interface ClaimDoc {
  _id: string;
  at: Date;
}

const idOf = (scope: string, key: string) => `${scope}\n${key}`;

/**
 * Kept answers as documents whose `_id` is the caller and key, so the first insert wins
 * on every API process at once. A TTL index on `at` lets MongoDB forget them; on a server
 * without TTL indexes (FerretDB) every process purges them once a minute instead: a
 * `deleteMany` that any number of processes can run side by side. Claims (when a keyed
 * request was first attempted) are documents of another collection, expired the same way;
 * the client's write concern (majority on a replica set) makes one durable before it returns.
 */
export async function openMongoIdempotencyRecords(
  uri: string,
  dbName: string,
  options: RecordsOptions,
): Promise<IdempotencyRecords> {
  const client = await new MongoClient(uri).connect();
  try {
    return await recordsIn(client, dbName, options);
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** The records in `dbName`, their indexes made, purged on a schedule where the server expires nothing. */
async function recordsIn(client: MongoClient, dbName: string, options: RecordsOptions): Promise<IdempotencyRecords> {
  const now = options.now ?? Date.now;
  const db = client.db(dbName);
  const answers: Collection<AnswerDoc> = db.collection<AnswerDoc>('idempotency_answers');
  const claims: Collection<ClaimDoc> = db.collection<ClaimDoc>('idempotency_claims');
  const serverExpires = await ensureExpiryIndex(db, answers, options.retentionMs);
  await ensureExpiryIndex(db, claims, options.retentionMs);
  const purgeExpired = async () => {
    const expired = { at: { $lt: new Date(now() - options.retentionMs) } };
    return (await answers.deleteMany(expired)).deletedCount + (await claims.deleteMany(expired)).deletedCount;
  };
  let closed = false;
  const purging = serverExpires
    ? null
    : setInterval(() => {
        if (!closed) purgeExpired().catch((error: unknown) => options.onPurgeError?.(error));
      }, options.purgeEveryMs ?? PURGE_EVERY_MS).unref();
  return {
    find: (scope, key) => findAnswer(answers, scope, key),
    claim: (scope, key, at) => claimKey(claims, idOf(scope, key), at, options.retentionMs),
    keep: (scope, key, answer) => keepAnswer(answers, scope, key, answer),
    // With a TTL index the server does this by itself about once a minute; this is for whoever cannot wait.
    purgeExpired,
    async close() {
      closed = true;
      if (purging) clearInterval(purging);
      await client.close();
    },
  };
}

async function findAnswer(answers: Collection<AnswerDoc>, scope: string, key: string): Promise<KeptAnswer | null> {
  const doc = await answers.findOne({ _id: idOf(scope, key) });
  return doc
    ? {
        fingerprint: doc.fingerprint,
        status: doc.status,
        body: doc.body,
        headers: doc.headers,
        at: doc.at.getTime(),
      }
    : null;
}

/** The first insert of a key wins, on every process at once; a later one gets the answer kept first. */
async function keepAnswer(
  answers: Collection<AnswerDoc>,
  scope: string,
  key: string,
  answer: KeptAnswer,
): Promise<KeptAnswer | null> {
  try {
    await answers.insertOne({ _id: idOf(scope, key), ...answer, at: new Date(answer.at) });
    return null;
  } catch (error) {
    if (isDuplicateKey(error)) return findAnswer(answers, scope, key);
    throw error;
  }
}

/** The first attempt with a key: this one's time if it is the first, else the time of the one that was. */
async function claimKey(claims: Collection<ClaimDoc>, _id: string, at: number, retentionMs: number): Promise<number> {
  try {
    await claims.insertOne({ _id, at: new Date(at) });
    return at;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const first = await claims.findOne({ _id });
    // Purged between the insert and the read: the claim was older than the retention.
    return first ? first.at.getTime() : at - retentionMs;
  }
}

/**
 * The index on `at`: with the retention as its TTL where the server has TTL indexes (→ true),
 * a plain one where it has none (→ false: the caller purges).
 */
async function ensureExpiryIndex(
  db: Db,
  answers: Collection<AnswerDoc> | Collection<ClaimDoc>,
  retentionMs: number,
): Promise<boolean> {
  const expireAfterSeconds = Math.ceil(retentionMs / 1000);
  try {
    await answers.createIndex({ at: 1 }, { name: 'expiry', expireAfterSeconds });
    return true;
  } catch (error) {
    if (!(error instanceof MongoServerError)) throw error;
    if (Number(error.code) === NOT_IMPLEMENTED) {
      await answers.createIndex({ at: 1 }, { name: 'expiry' });
      return false;
    }
    // The retention was changed since the index was made: change it in place.
    if (!INDEX_OPTIONS_CONFLICT.has(Number(error.code))) throw error;
    await db.command({ collMod: answers.collectionName, index: { name: 'expiry', expireAfterSeconds } });
    return true;
  }
}
