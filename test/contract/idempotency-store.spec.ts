import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { InProcessIdempotencyStore } from '../../src/adapters/memory/in-process-idempotency-store.js';
import { RedisIdempotencyStore, type RedisIdempotencyStoreOptions } from '../../src/adapters/redis/redis-idempotency-store.js';
import type { IdempotentAnswer } from '../../src/application/ports/idempotency-store.js';
import { idempotencyStoreContract } from './idempotency-store.contract.js';

idempotencyStoreContract('InProcessIdempotencyStore', async (options) => new InProcessIdempotencyStore(options));

const ok: IdempotentAnswer = { statusCode: 201, body: { position: '1' } };

describe('InProcessIdempotencyStore', () => {
  it('is bounded: beyond maxEntries the oldest keys are dropped', async () => {
    const store = new InProcessIdempotencyStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) {
      const r = await store.begin(key, 'fp');
      if (r.state !== 'new') throw new Error('expected new');
      await store.complete(key, r.token, ok);
    }
    expect((await store.begin('a', 'fp')).state).toBe('new'); // dropped
    expect((await store.begin('d', 'fp')).state).toBe('done');
    await store.close();
  });
});

function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error(
      'REDIS_URL is not set: the RedisIdempotencyStore tests need a Redis. Jest globalSetup starts one with ' +
        'scripts/services.sh (or export REDIS_URL yourself). These tests are never skipped.',
    );
  }
  return url;
}

describe('RedisIdempotencyStore', () => {
  const prefix = `lct:test:${randomUUID()}:idem:`;
  const stores: RedisIdempotencyStore[] = [];
  let admin: Redis | undefined;

  const connect = async (options: RedisIdempotencyStoreOptions = {}) => {
    const store = await RedisIdempotencyStore.connect(redisUrl(), { keyPrefix: prefix, ...options });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    admin = new Redis(redisUrl(), { lazyConnect: true, protocol: 2, maxRetriesPerRequest: 1 });
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    const keys = admin ? await admin.keys(`${prefix}*`) : [];
    if (admin && keys.length > 0) await admin.del(...keys);
    admin?.disconnect();
  });

  idempotencyStoreContract('RedisIdempotencyStore', (options) => connect(options));

  it('two instances (two API processes) share keys: one runs, the other sees in_flight, then the answer', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const key = `g:${randomUUID()}|POST /v1/guest/conversations/x/messages|retry-1`;
    const results = await Promise.all([...Array.from({ length: 10 }, () => a.begin(key, 'fp')), ...Array.from({ length: 10 }, () => b.begin(key, 'fp'))]);
    expect(results.filter((r) => r.state === 'new')).toHaveLength(1);
    const winner = results.findIndex((r) => r.state === 'new');
    const owner = winner < 10 ? a : b;
    const other = winner < 10 ? b : a;
    const token = (results[winner] as { token: string }).token;
    expect(await other.begin(key, 'fp')).toEqual({ state: 'in_flight' });
    expect(await other.begin(key, 'another request')).toEqual({ state: 'mismatch' });
    // Only the owner's token completes it.
    await other.complete(key, 'not-the-token', { statusCode: 500, body: null });
    await other.abandon(key, 'not-the-token');
    await owner.complete(key, token, ok);
    expect(await other.begin(key, 'fp')).toEqual({ state: 'done', answer: ok });
    expect(await owner.begin(key, 'fp')).toEqual({ state: 'done', answer: ok });
  });

  it('stores under the key prefix (default lct:idem:) with the TTLs as Redis expiries', async () => {
    const store = await connect({ ttlMs: 60_000, inFlightTtlMs: 10_000 });
    const key = `anon|POST /v1/guest/conversations|${randomUUID()}`;
    const r = await store.begin(key, 'fp');
    if (r.state !== 'new') throw new Error('expected new');
    const pttlInFlight = await admin!.pttl(prefix + key);
    expect(pttlInFlight).toBeGreaterThan(9_000);
    expect(pttlInFlight).toBeLessThanOrEqual(10_000);
    await store.complete(key, r.token, ok);
    const pttlDone = await admin!.pttl(prefix + key);
    expect(pttlDone).toBeGreaterThan(59_000);
    expect(await admin!.hget(prefix + key, 'state')).toBe('done');

    const defaults = await RedisIdempotencyStore.connect(redisUrl());
    stores.push(defaults);
    const plain = `test-default-prefix|${randomUUID()}`;
    try {
      const d = await defaults.begin(plain, 'fp');
      expect(d.state).toBe('new');
      expect(await admin!.exists(`lct:idem:${plain}`)).toBe(1);
      const pttl = await admin!.pttl(`lct:idem:${plain}`);
      expect(pttl).toBeGreaterThan(50_000); // default in-flight TTL 60 s
      if (d.state === 'new') await defaults.complete(plain, d.token, ok);
      expect(await admin!.pttl(`lct:idem:${plain}`)).toBeGreaterThan(24 * 3600 * 1000 - 10_000); // default 24 h
    } finally {
      await admin!.del(`lct:idem:${plain}`);
    }
  });

  it('fails fast, naming REDIS_URL, when nothing listens; rejects a malformed REDIS_URL without echoing a password', async () => {
    const started = Date.now();
    await expect(RedisIdempotencyStore.connect('redis://127.0.0.1:1', { connectTimeoutMs: 1000 })).rejects.toThrow(/REDIS_URL=redis:\/\/127\.0\.0\.1:1/);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(RedisIdempotencyStore.connect('not a url')).rejects.toThrow(/REDIS_URL/);
    await expect(RedisIdempotencyStore.connect('http://127.0.0.1:6379')).rejects.toThrow(/REDIS_URL must use redis: or rediss:/);
    const failure = RedisIdempotencyStore.connect('redis://user:s3cret@127.0.0.1:1', { connectTimeoutMs: 500 });
    await expect(failure).rejects.toThrow(/REDIS_URL=redis:\/\/user:\*\*\*@127\.0\.0\.1:1/);
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });
});
