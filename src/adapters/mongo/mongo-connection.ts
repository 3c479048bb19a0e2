/**
 * The one way this service opens MongoDB: validates MONGODB_URL, connects and pings within
 * `serverSelectionTimeoutMS`, and fails naming the variable (password redacted).
 * Each store keeps its own client: lease renewals must never queue behind read-model writes.
 */
import { type Db, MongoClient, type MongoClientOptions } from 'mongodb';

export interface MongoConnectOptions {
  /** Database to use; defaults to the one named in the URL (or the driver's default, `test`). */
  dbName?: string;
  /** How long to wait for a reachable server; default 5000 ms. */
  serverSelectionTimeoutMS?: number;
}

export async function connectMongo(
  url: string,
  options: MongoConnectOptions,
  clientOptions: MongoClientOptions = {},
): Promise<{ client: MongoClient; db: Db }> {
  const timeout = options.serverSelectionTimeoutMS ?? 5000;
  let client: MongoClient;
  try {
    client = new MongoClient(url, { ...clientOptions, serverSelectionTimeoutMS: timeout, connectTimeoutMS: timeout });
  } catch (error) {
    throw new Error(`MONGODB_URL is not a valid MongoDB connection string (${redactMongoUrl(url)}): ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    await client.connect();
    const db = client.db(options.dbName);
    await db.command({ ping: 1 });
    return { client, db };
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new Error(`Cannot reach MongoDB at MONGODB_URL=${redactMongoUrl(url)} within ${timeout} ms: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The URL without its password, for error messages. */
export function redactMongoUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}
