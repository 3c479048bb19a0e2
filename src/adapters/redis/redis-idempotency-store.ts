/**
 * The idempotency store shared by every API instance: one Redis hash per scoped key
 * (`lct:idem:<key>`, fields `state` in_flight|done, `fp` fingerprint, `token`, `answer` JSON),
 * expiring with PEXPIRE. Each operation is one Lua call, so it is atomic:
 *
 * - begin: if the key is absent, HSET it in flight (with the caller's fresh token) and PEXPIRE
 *   it by the in-flight TTL → `new`; otherwise report `mismatch` (other fingerprint), `done`
 *   (with the stored answer) or `in_flight`. Concurrent begins: exactly one `new`.
 * - complete: only while the key is still in flight under the caller's token, store the answer
 *   and PEXPIRE by the answer TTL (24 h by default).
 * - abandon: only while the key is still in flight under the caller's token, DEL it.
 *
 * Connects like the change feed: fails fast (within `connectTimeoutMs`) with an Error naming
 * REDIS_URL; later connection losses are retried in the background.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectRedis } from './redis-connection.js';
import {
  type BeginResult,
  type IdempotencyStore,
  type IdempotencyStoreOptions,
  type IdempotentAnswer,
  checkTtls,
} from '../../application/ports/idempotency-store.js';

export interface RedisIdempotencyStoreOptions extends IdempotencyStoreOptions {
  /** Prefix of every key; default `lct:idem:`. */
  keyPrefix?: string;
  /** Fail `connect` after this long; default 5 000 ms. */
  connectTimeoutMs?: number;
  /** CLIENT SETNAME of the connection; default `lct-idempotency`. */
  connectionName?: string;
}

// KEYS[1]; ARGV[1] fingerprint, ARGV[2] token, ARGV[3] in-flight TTL (ms).
const BEGIN_LUA = `
local cur = redis.call('HMGET', KEYS[1], 'state', 'fp', 'answer')
if not cur[1] then
  redis.call('HSET', KEYS[1], 'state', 'in_flight', 'fp', ARGV[1], 'token', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'new'}
end
if cur[2] ~= ARGV[1] then return {'mismatch'} end
if cur[1] == 'done' then return {'done', cur[3]} end
return {'in_flight'}
`;

// KEYS[1]; ARGV[1] token, ARGV[2] answer JSON, ARGV[3] TTL (ms). Returns 1 if stored.
const COMPLETE_LUA = `
local cur = redis.call('HMGET', KEYS[1], 'state', 'token')
if cur[1] ~= 'in_flight' or cur[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'answer', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

// KEYS[1]; ARGV[1] token. Returns 1 if removed.
const ABANDON_LUA = `
local cur = redis.call('HMGET', KEYS[1], 'state', 'token')
if cur[1] == 'in_flight' and cur[2] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface IdemScripts {
  lctIdemBegin(key: string, fingerprint: string, token: string, ttlMs: number): Promise<[string, string?]>;
  lctIdemComplete(key: string, token: string, answer: string, ttlMs: number): Promise<number>;
  lctIdemAbandon(key: string, token: string): Promise<number>;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly inFlightTtlMs: number;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly client: Redis,
    options: RedisIdempotencyStoreOptions,
  ) {
    this.prefix = options.keyPrefix ?? 'lct:idem:';
    ({ ttlMs: this.ttlMs, inFlightTtlMs: this.inFlightTtlMs } = checkTtls(options));
  }

  /** Connects (and checks the connection) or fails within `connectTimeoutMs` with an Error naming REDIS_URL. */
  static async connect(url: string, options: RedisIdempotencyStoreOptions = {}): Promise<RedisIdempotencyStore> {
    checkTtls(options);
    const client = await connectRedis(url, {
      connectionName: options.connectionName ?? 'lct-idempotency',
      connectTimeoutMs: options.connectTimeoutMs,
      scripts: {
        lctIdemBegin: { lua: BEGIN_LUA, numberOfKeys: 1 },
        lctIdemComplete: { lua: COMPLETE_LUA, numberOfKeys: 1 },
        lctIdemAbandon: { lua: ABANDON_LUA, numberOfKeys: 1 },
      },
    });
    return new RedisIdempotencyStore(client, options);
  }

  private get scripts(): IdemScripts {
    return this.client as unknown as IdemScripts;
  }

  async begin(key: string, fingerprint: string): Promise<BeginResult> {
    const token = randomUUID();
    const [state, answer] = await this.scripts.lctIdemBegin(this.prefix + key, fingerprint, token, this.inFlightTtlMs);
    switch (state) {
      case 'new':
        return { state: 'new', token };
      case 'done':
        return { state: 'done', answer: JSON.parse(answer!) as IdempotentAnswer };
      case 'in_flight':
      case 'mismatch':
        return { state };
      default:
        throw new Error(`unexpected idempotency state "${state}" for ${this.prefix + key}`);
    }
  }

  async complete(key: string, token: string, answer: IdempotentAnswer): Promise<void> {
    await this.scripts.lctIdemComplete(this.prefix + key, token, JSON.stringify(answer), this.ttlMs);
  }

  async abandon(key: string, token: string): Promise<void> {
    await this.scripts.lctIdemAbandon(this.prefix + key, token);
  }

  /** PING on the command connection (readiness probe). */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.client.status === 'ready') {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.client.quit().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
        clearTimeout(timer);
      }
      if (this.client.status !== 'end') this.client.disconnect();
    })();
    return this.closing;
  }
}

