/**
 * The rate limits' token buckets in MongoDB, shared by every API process on the same
 * database (`READ_STORE=mongo`), so that N processes do not give a client N times its
 * allowance. A bucket is one document, `{ _id: key, tat }`, its due time (token-buckets.ts)
 * taken with two single-document updates and no transaction: `$max` brings a bucket due in
 * the past to now (a full bucket), then a conditional `$inc` takes a token only while the
 * bucket is due at most a minute ahead — two processes racing for the last token cannot
 * both get it. FerretDB makes a conditional update a read and then a write, so there
 * processes racing for a bucket's last token in the same instant may each get one: takes
 * of one key are made one at a time within a process, which leaves an overshoot of at most
 * one token per API process. Buckets due in the past are full, the same as none: they are
 * purged every minute (FerretDB has no TTL indexes).
 */
import { MongoClient, type Collection } from 'mongodb';
import { BUCKET_SPAN_MS, tokenInterval, type BucketStore } from '../http/overload/token-buckets.js';

interface BucketDoc {
  _id: string;
  /** When the bucket's next token is due, ms since the epoch. */
  tat: number;
}

const PURGE_EVERY_MS = 60_000;

export async function openMongoBuckets(
  uri: string,
  dbName: string,
  options: { onPurgeError?: (error: unknown) => void; now?: () => number } = {},
): Promise<BucketStore> {
  const client = await new MongoClient(uri).connect();
  const buckets: Collection<BucketDoc> = client.db(dbName).collection<BucketDoc>('rate_limit_buckets');
  await buckets.createIndex({ tat: 1 }, { name: 'due' });
  const now = options.now ?? Date.now;
  const purging = setInterval(() => {
    buckets.deleteMany({ tat: { $lt: now() } }).catch((error: unknown) => options.onPurgeError?.(error));
  }, PURGE_EVERY_MS).unref();
  const take = async (key: string, perMinute: number, at: number) => {
    const interval = tokenInterval(perMinute);
    const filled = await buckets.findOneAndUpdate(
      { _id: key },
      { $max: { tat: at } },
      { upsert: true, returnDocument: 'after' },
    );
    const due = filled?.tat ?? at;
    const ahead = due + interval - at;
    if (ahead > BUCKET_SPAN_MS) return { allowed: false, retryAfterMs: ahead - BUCKET_SPAN_MS };
    const taken = await buckets.updateOne(
      { _id: key, tat: { $lte: at + BUCKET_SPAN_MS - interval } },
      { $inc: { tat: interval } },
    );
    // Another process took the last token between the two updates.
    if (taken.modifiedCount === 0) return { allowed: false, retryAfterMs: interval };
    return { allowed: true, retryAfterMs: 0 };
  };
  // The take of each key in flight in this process: the next one for the key waits for it.
  const inFlight = new Map<string, Promise<unknown>>();
  return {
    take(key, perMinute, at) {
      const before = inFlight.get(key) ?? Promise.resolve();
      const taking = before.catch(() => undefined).then(() => take(key, perMinute, at));
      inFlight.set(key, taking);
      void taking
        .finally(() => {
          if (inFlight.get(key) === taking) inFlight.delete(key);
        })
        .catch(() => undefined);
      return taking;
    },
    async close() {
      clearInterval(purging);
      await client.close();
    },
  };
}
