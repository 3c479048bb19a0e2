/**
 * The one way this service opens a Redis connection: validates REDIS_URL, connects and pings
 * within a deadline (fail fast at start-up, naming the variable), then reconnects by itself
 * in the background (100 ms doubling to 2 s).
 */
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectOptions {
  connectionName: string;
  connectTimeoutMs?: number;
  scripts?: RedisOptions['scripts'];
}

export async function connectRedis(url: string, options: RedisConnectOptions): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`REDIS_URL is not a valid URL (got "${url}")`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must use redis: or rediss: (got "${redactRedisUrl(parsed)}")`);
  }
  const timeoutMs = options.connectTimeoutMs ?? 5000;
  const state = { connected: false };
  const client = new Redis(url, {
    lazyConnect: true,
    protocol: 2,
    connectionName: options.connectionName,
    connectTimeout: timeoutMs,
    // How long a hung-up socket may linger (ioredis' default 2 s keeps a timer alive even for
    // an already closed socket, which delays process exit).
    disconnectTimeout: 200,
    // No retries until the first connection succeeded (fail fast), then 100 ms doubling to 2 s.
    retryStrategy: (times) => (state.connected ? Math.min(100 * 2 ** (times - 1), 2000) : null),
    // Commands issued while Redis is unreachable fail after a few reconnect attempts.
    maxRetriesPerRequest: 3,
    scripts: options.scripts,
  } satisfies RedisOptions);
  let lastError: Error | null = null;
  client.on('error', (err: Error) => (lastError = err));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    hangUp(client);
    const cause = lastError ?? (err as Error);
    throw new Error(`Cannot connect to Redis at REDIS_URL=${redactRedisUrl(parsed)}: ${cause.message}`, { cause });
  } finally {
    clearTimeout(timer);
  }
  state.connected = true;
  return client;
}

export function hangUp(client: Redis): void {
  if (client.status !== 'end') client.disconnect();
}

export function redactRedisUrl(url: URL): string {
  if (!url.password) return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}
