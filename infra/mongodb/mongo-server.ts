/**
 * What answers at a MongoDB URI: MongoDB itself, or FerretDB — a MongoDB-wire server over
 * SQL (v1.x), supported as a read store with differences the product has to respect:
 * - no TTL indexes (`expireAfterSeconds` is NotImplemented) and no `collMod`: kept
 *   idempotency answers are purged on a schedule instead (mongo-idempotency-records.ts);
 * - no arrays directly inside arrays: the read store refuses them on every store
 *   (eventsourcing/read-store/catalog.ts);
 * - conditional updates are a read, then a write, not one atomic step: two processes can
 *   both take one lease, so only one process may run projections there (ferretdb-guard.ts);
 * - a failed write of an `update` command is reported at `writeErrors[].index` 0 whatever
 *   its place (mongo-read-store.ts);
 * - no transactions (the product uses none).
 */
import { MongoClient, type Db } from 'mongodb';

export interface MongoServerInfo {
  kind: 'mongodb' | 'ferretdb';
  /** The server's own version (FerretDB's, not the MongoDB version it imitates). */
  version: string;
}

/** Asks `buildInfo`: FerretDB answers it with its own version beside the one it imitates. */
export async function describeMongoServer(db: Db): Promise<MongoServerInfo> {
  const info = await db.admin().command({ buildInfo: 1 });
  if (typeof info.ferretdbVersion === 'string') return { kind: 'ferretdb', version: info.ferretdbVersion };
  return { kind: 'mongodb', version: String(info.version) };
}

/** The same over a connection of its own, for callers that hold none. */
export async function describeMongoServerAt(uri: string, timeoutMs = 30_000): Promise<MongoServerInfo> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs });
  try {
    return await describeMongoServer(client.db('admin'));
  } finally {
    await client.close();
  }
}

/** "FerretDB v1.24.2", "MongoDB 8.0.4": how log lines name the server. */
export function serverName(server: MongoServerInfo): string {
  return server.kind === 'ferretdb' ? `FerretDB ${server.version}` : `MongoDB ${server.version}`;
}

/**
 * A client that only pings (the start-up checks), opened at the first ping: the driver
 * itself keeps trying to select a server until that ping's timeout.
 */
export function mongoPinger(uri: string): { ping(timeoutMs: number): Promise<void>; close(): Promise<void> } {
  let client: MongoClient | null = null;
  return {
    ping: async (timeoutMs) => {
      client ??= new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
      await client.db('admin').command({ ping: 1 });
    },
    close: async () => client?.close(),
  };
}
