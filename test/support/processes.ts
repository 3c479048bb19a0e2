/** Real processes for multi-process tests: the built server (dist/main.js), a private Redis and a private FerretDB. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from './http.js';
import { TEST_SECRET } from './test-app.js';
import { TEST_RATE_LIMITS, addPropertiesWithCli } from './test-env.js';

const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stderr(): string;
  /** What it printed on stdout (its JSON log lines), with `captureStdout` only. */
  stdout(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts dist/main.js with exactly these settings (the test run's own store URLs never leak in). */
export async function startServer(
  env: Record<string, string>,
  /** `port`: a given one (to start a server again where its clients expect it), else a free one. */
  options: { waitForHealth?: boolean; captureStdout?: boolean; port?: number } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const { REDIS_URL: _r, MONGODB_URL: _m, EVENTSTORE_URL: _e, ...inherited } = process.env;
  const serverEnv = { ...inherited, AUTH_JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', PORT: String(port), ...TEST_RATE_LIMITS, ...env };
  // The suites' property ids are known (test-env.ts), added by the CLI on the same stores; not for a server meant to fail.
  if (options.waitForHealth !== false) await addPropertiesWithCli(serverEnv);
  const child = spawn(process.execPath, [MAIN], {
    env: serverEnv,
    stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  if (options.waitForHealth !== false) {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${err}`);
      return (await fetch(`${url}/health`).catch(() => null))?.ok;
    }, 20000, `server on ${port}`);
  }
  return {
    child,
    url,
    stderr: () => err,
    stdout: () => out,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      const done = exited(child);
      child.kill(signal);
      await done;
    },
  };
}

/**
 * A server process a test may stop and start again (same port, same data): `spawnIt` starts it,
 * `isUp` says when it answers. Shared by the private Redis and the private FerretDB.
 */
async function restartable(spawnIt: () => ChildProcess, isUp: () => Promise<boolean>, what: string, timeoutMs: number) {
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawnIt();
    await eventually(isUp, timeoutMs, what);
  };
  const stop = async () => {
    if (!child) return;
    const done = exited(child);
    child.kill('SIGTERM');
    await done;
    child = null;
  };
  await start();
  return { start, stop };
}

export interface RedisProcess {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A private redis-server (append-only, like production), so restarting it disturbs no other suite. */
export async function startPrivateRedis(dir: string): Promise<RedisProcess> {
  const port = await freePort();
  const server = await restartable(
    () => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], { stdio: 'ignore' }),
    async () => {
      const { Redis } = await import('ioredis');
      const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        r.disconnect();
      }
    },
    'private redis',
    10000,
  );
  return { url: `redis://127.0.0.1:${port}`, ...server };
}

export interface FerretDbProcess {
  /** A MongoDB URL of a database of its own on this server. */
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port and data (what was written survives). */
  start(): Promise<void>;
}

/**
 * A private FerretDB (the binary `scripts/services.sh` builds, same flags) on its own port and
 * SQLite dir, so stopping it disturbs no other suite. Needs the binary: the global setup's
 * `services.sh start` builds it.
 */
export async function startPrivateFerretDb(dir: string, dbName = 'lct_private'): Promise<FerretDbProcess> {
  const binary = join(process.env.SERVICES_DIR ?? new URL('../../.services', import.meta.url).pathname, 'bin', 'ferretdb');
  if (!existsSync(binary)) throw new Error(`no FerretDB binary at ${binary}: run scripts/services.sh start (the global setup does)`);
  const port = await freePort();
  const dataDir = join(dir, 'ferretdb-data');
  mkdirSync(dataDir, { recursive: true });
  const server = await restartable(
    () => spawn(binary, ['-listen-addr', `127.0.0.1:${port}`, '-sqlite-dir', dataDir, '-log-level', 'warn'], { stdio: 'ignore' }),
    async () => {
      const { MongoClient } = await import('mongodb');
      const c = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
      try {
        await c.db('admin').command({ ping: 1 });
        return true;
      } catch {
        return false;
      } finally {
        await c.close().catch(() => undefined);
      }
    },
    'private ferretdb',
    20000,
  );
  return { url: `mongodb://127.0.0.1:${port}/${dbName}`, ...server };
}
