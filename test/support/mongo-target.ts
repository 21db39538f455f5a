/**
 * The server the MongoDB suites run against: `MONGODB_URI`, and what answers there —
 * MongoDB, or FerretDB (CI's, started by test/support/ferretdb.sh). Tests that need what
 * only MongoDB gives (atomic conditional updates) run on MongoDB and, on FerretDB, are
 * skipped with a loud line naming why.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { describeMongoServerAt, serverName, type MongoServerInfo } from '../../infra/mongodb/mongo-server.js';

export const mongoUri: string | undefined = process.env.MONGODB_URI || undefined;

/** What answers at MONGODB_URI (asked once per test process); null without it. */
export const mongoServer: MongoServerInfo | null = mongoUri ? await describeMongoServerAt(mongoUri, 10_000) : null;

export const onFerretDb = mongoServer?.kind === 'ferretdb';

/** How suite titles name the server: "MongoDB", or "FerretDB v1.24.2". */
export const mongoTitle = mongoServer?.kind === 'ferretdb' ? serverName(mongoServer) : 'MongoDB';

/**
 * A database name no other test (nor another process running tests against the same
 * server) uses. FerretDB takes [A-Za-z0-9_-], 63 characters at most.
 */
export function uniqueDbName(prefix: string): string {
  const suffix = `_${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  return `${prefix.slice(0, 63 - suffix.length)}${suffix}`;
}

/** Drops the named databases (after a suite). */
export async function dropDatabases(names: string[]): Promise<void> {
  if (!mongoUri || names.length === 0) return;
  const client = await MongoClient.connect(mongoUri);
  try {
    for (const name of names) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

/** An `it` that needs MongoDB itself: on FerretDB it is skipped, saying so and why. */
export function itNeedsMongoDb(title: string, why: string, fn: () => Promise<void>): void {
  it(title, async function () {
    if (onFerretDb) {
      console.warn(`SKIPPED "${title}" on ${mongoTitle}: ${why}; it runs when MONGODB_URI names a MongoDB server`);
      this.skip();
    }
    await fn();
  });
}

/** The line a suite prints when MONGODB_URI is not set. */
export function skipWithoutMongo(what: string): void {
  it('needs MONGODB_URI', function () {
    console.warn(
      `SKIPPED ${what}: MONGODB_URI is not set (npm run test:mongo starts FerretDB for it; or point it at a MongoDB)`,
    );
    this.skip();
  });
}
