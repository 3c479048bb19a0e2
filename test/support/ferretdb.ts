/** Throw-away databases on the FerretDB the global setup started, dropped after the suite. */
import { afterAll, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { type RedisProcess, type ServerProcess, startPrivateRedis, startServer } from './processes.js';
import { tempDir } from './temp-dir.js';

/** A database for adapter-level specs. */
export function ferretDatabase(prefix: string): { dbName: string; url: () => string } {
  const url = process.env.MONGODB_URL;
  const dbName = `${prefix}_${randomBytes(6).toString('hex')}`;

  afterAll(async () => {
    if (!url) return;
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.db(dbName).dropDatabase();
    } finally {
      await client.close();
    }
  });

  it('gets MONGODB_URL from the global setup', () => {
    expect(url).toMatch(/^mongodb:\/\//);
  });

  return {
    dbName,
    /** Fails (never skips): test/support/global-setup.mjs always provides MONGODB_URL. */
    url() {
      if (!url) {
        throw new Error('MONGODB_URL is not set: jest globalSetup (test/support/global-setup.mjs) should have started FerretDB and set it');
      }
      return url;
    },
  };
}

/**
 * What a production-mode spec runs on — a private redis-server, a database of its own on the
 * FerretDB the global setup started, a DATA_DIR for the SQLite event log — and the dist/main.js
 * processes it starts there. After the suite: every process still running is killed, Redis
 * stopped, the database dropped, the directory removed.
 */
export function productionMode(prefix: string) {
  const tmp = tempDir(`${prefix}-`);
  const base = process.env.MONGODB_URL;
  const mongoUrl = `${(base ?? 'mongodb://missing/').replace(/\/[^/]*$/, '')}/${prefix.replace(/\W/g, '_')}_${randomUUID().slice(0, 8)}`;
  const started: ServerProcess[] = [];
  let redis: RedisProcess | undefined;

  afterAll(async () => {
    await Promise.all(started.filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => p.kill('SIGKILL')));
    await redis?.stop();
    const raw = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
    await raw.db().dropDatabase().catch(() => undefined);
    await raw.close();
    tmp.cleanup();
  });

  const connect = async () => {
    if (!base) throw new Error('MONGODB_URL is not set: the global setup starts FerretDB');
    redis ??= await startPrivateRedis(tmp.dir);
    return { DATA_DIR: tmp.dir, MONGODB_URL: mongoUrl, REDIS_URL: redis.url };
  };

  return {
    dir: tmp.dir,
    mongoUrl,
    /** The private Redis (started by the first `start`). */
    get redis(): RedisProcess {
      if (!redis) throw new Error('productionMode: start a process first');
      return redis;
    },
    /** dist/main.js with these ROLES on the suite's stores. */
    async start(roles: string, env: Record<string, string> = {}, options: { captureStdout?: boolean } = {}): Promise<ServerProcess> {
      const server = await startServer({ ...(await connect()), ROLES: roles, ...env }, options);
      started.push(server);
      return server;
    },
  };
}
