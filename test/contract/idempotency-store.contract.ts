/**
 * What every IdempotencyStore adapter must do (see src/application/ports/idempotency-store.ts).
 * Keys are random per test, so a shared server needs no cleanup between tests.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { IdempotencyStore, IdempotencyStoreOptions, IdempotentAnswer } from '../../src/application/ports/idempotency-store.js';

export type OpenIdempotencyStore = (options?: IdempotencyStoreOptions) => Promise<IdempotencyStore>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const answer = (n = 1): IdempotentAnswer => ({
  statusCode: 200,
  body: { conversation: { id: `c-${n}`, badge: 'assigned_to_you', tags: ['a', 'ü'], nested: { n, none: null } }, position: String(n) },
});

export function idempotencyStoreContract(name: string, open: OpenIdempotencyStore): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    const opened: IdempotencyStore[] = [];
    const fresh = async (options?: IdempotencyStoreOptions) => {
      const store = await open(options);
      opened.push(store);
      return store;
    };
    const newKey = () => `e:hotel-a:alice|POST /v1/conversations/x/take-over|${randomUUID()}`;

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('the first begin of a key is new, with a token', async () => {
      const store = await fresh();
      const first = await store.begin(newKey(), 'fp');
      expect(first.state).toBe('new');
      expect(first.state === 'new' && typeof first.token === 'string' && first.token.length > 0).toBe(true);
    });

    it('a begin while the first is running is in_flight', async () => {
      const store = await fresh();
      const key = newKey();
      expect((await store.begin(key, 'fp')).state).toBe('new');
      expect(await store.begin(key, 'fp')).toEqual({ state: 'in_flight' });
      expect(await store.begin(key, 'fp')).toEqual({ state: 'in_flight' });
    });

    it('of concurrent begins on one key exactly one is new, the others in_flight', async () => {
      const store = await fresh();
      const key = newKey();
      const results = await Promise.all(Array.from({ length: 25 }, () => store.begin(key, 'fp')));
      expect(results.filter((r) => r.state === 'new')).toHaveLength(1);
      expect(results.filter((r) => r.state === 'in_flight')).toHaveLength(24);
    });

    it('after complete, begin answers done with the same answer (a copy), again and again', async () => {
      const store = await fresh();
      const key = newKey();
      const first = await store.begin(key, 'fp');
      if (first.state !== 'new') throw new Error('expected new');
      const stored = answer(7);
      await store.complete(key, first.token, stored);
      const again = await store.begin(key, 'fp');
      expect(again).toEqual({ state: 'done', answer: answer(7) });
      expect(await store.begin(key, 'fp')).toEqual({ state: 'done', answer: answer(7) });
      if (again.state === 'done') expect(again.answer).not.toBe(stored);
    });

    it('keeps 4xx answers and bodies of any JSON type', async () => {
      const store = await fresh();
      for (const stored of [
        { statusCode: 409, body: { statusCode: 409, error: 'Conflict', message: 'taken', code: 'already_assigned', details: { owner: { id: 'bob' } } } },
        { statusCode: 201, body: null },
        { statusCode: 200, body: 'text' },
        { statusCode: 200, body: [1, 'two', { three: 3 }] },
      ]) {
        const key = newKey();
        const first = await store.begin(key, 'fp');
        if (first.state !== 'new') throw new Error('expected new');
        await store.complete(key, first.token, stored);
        expect(await store.begin(key, 'fp')).toEqual({ state: 'done', answer: stored });
      }
    });

    it('keys are independent', async () => {
      const store = await fresh();
      const [a, b] = [newKey(), newKey()];
      const first = await store.begin(a, 'fp');
      if (first.state !== 'new') throw new Error('expected new');
      await store.complete(a, first.token, answer(1));
      expect((await store.begin(b, 'fp')).state).toBe('new');
      expect((await store.begin(`${a}x`, 'fp')).state).toBe('new');
    });

    it('abandon frees the key: a retry begins again (new), and may complete', async () => {
      const store = await fresh();
      const key = newKey();
      const first = await store.begin(key, 'fp');
      if (first.state !== 'new') throw new Error('expected new');
      await store.abandon(key, first.token);
      const retry = await store.begin(key, 'fp');
      expect(retry.state).toBe('new');
      if (retry.state !== 'new') return;
      expect(retry.token).not.toBe(first.token);
      await store.complete(key, retry.token, answer(2));
      expect(await store.begin(key, 'fp')).toEqual({ state: 'done', answer: answer(2) });
    });

    it('complete and abandon with a stale token change nothing', async () => {
      const store = await fresh();
      const key = newKey();
      const first = await store.begin(key, 'fp');
      if (first.state !== 'new') throw new Error('expected new');
      await store.abandon(key, first.token);
      const second = await store.begin(key, 'fp');
      if (second.state !== 'new') throw new Error('expected new');
      await store.complete(key, first.token, answer(1));
      await store.abandon(key, first.token);
      expect(await store.begin(key, 'fp')).toEqual({ state: 'in_flight' });
      await store.complete(key, second.token, answer(2));
      // Neither a second complete nor an abandon undoes a stored answer.
      await store.complete(key, second.token, answer(3));
      await store.abandon(key, second.token);
      expect(await store.begin(key, 'fp')).toEqual({ state: 'done', answer: answer(2) });
    });

    it('reports a different fingerprint as mismatch, in flight and done, without disturbing the key', async () => {
      const store = await fresh();
      const key = newKey();
      const first = await store.begin(key, 'fp-1');
      if (first.state !== 'new') throw new Error('expected new');
      expect(await store.begin(key, 'fp-2')).toEqual({ state: 'mismatch' });
      expect(await store.begin(key, 'fp-1')).toEqual({ state: 'in_flight' });
      await store.complete(key, first.token, answer(1));
      expect(await store.begin(key, 'fp-2')).toEqual({ state: 'mismatch' });
      expect(await store.begin(key, 'fp-1')).toEqual({ state: 'done', answer: answer(1) });
    });

    it('an answer expires after ttlMs: the key begins anew', async () => {
      const store = await fresh({ ttlMs: 150, inFlightTtlMs: 5000 });
      const key = newKey();
      const first = await store.begin(key, 'fp');
      if (first.state !== 'new') throw new Error('expected new');
      await store.complete(key, first.token, answer(1));
      expect((await store.begin(key, 'fp')).state).toBe('done');
      await sleep(300);
      expect((await store.begin(key, 'fp-other')).state).toBe('new');
    });

    it('an in-flight marker expires after inFlightTtlMs (a crashed request does not block its key)', async () => {
      const store = await fresh({ ttlMs: 60_000, inFlightTtlMs: 150 });
      const key = newKey();
      const first = await store.begin(key, 'fp');
      if (first.state !== 'new') throw new Error('expected new');
      expect((await store.begin(key, 'fp')).state).toBe('in_flight');
      await sleep(300);
      const second = await store.begin(key, 'fp');
      expect(second.state).toBe('new');
      // The first request, finishing late, no longer owns the key.
      await store.complete(key, first.token, answer(1));
      expect(await store.begin(key, 'fp')).toEqual({ state: 'in_flight' });
      if (second.state === 'new') await store.complete(key, second.token, answer(2));
      // The stored answer lives for ttlMs, not for the in-flight TTL.
      await sleep(300);
      expect(await store.begin(key, 'fp')).toEqual({ state: 'done', answer: answer(2) });
    });

    it('rejects TTLs that are not positive integers', async () => {
      await expect(open({ ttlMs: 0 })).rejects.toThrow(/ttlMs/);
      await expect(open({ inFlightTtlMs: 1.5 })).rejects.toThrow(/inFlightTtlMs/);
    });
  });
}
