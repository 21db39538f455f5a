/** Reaching behind a server's back into the answers it keeps for idempotency keys. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import type { ApiServer } from '../support/api-server.js';

/**
 * Deletes the answer kept for `key` where the server keeps them (SQLite file or MongoDB
 * collection), as a power cut can lose the last ones; returns how many went.
 */
export async function forgetKeptAnswer(server: ApiServer, key: string): Promise<number> {
  const { config } = server;
  if (config.readStore === 'mongo') {
    const client = await MongoClient.connect(config.mongodbUri!);
    try {
      // `_id` is the caller and the key, on two lines (see infra/mongodb/mongo-idempotency-records.ts).
      const answers = client.db(config.mongodbDb).collection<{ _id: string }>('idempotency_answers');
      return (await answers.deleteMany({ _id: { $regex: `\\n${key}$` } })).deletedCount;
    } finally {
      await client.close();
    }
  }
  const file = new Database(join(config.dataDir, 'idempotency.db'));
  try {
    return file.prepare('DELETE FROM answers WHERE key = ?').run(key).changes;
  } finally {
    file.close();
  }
}
