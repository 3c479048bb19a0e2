/**
 * What every available PushSender must do (src/application/ports/push-sender.ts), checked
 * against a real push service (web-push-testing: verifies VAPID, decrypts the payload) and, for
 * the failure answers, a scripted proxy in front of it and a server that never answers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { PushMessage, PushResult, PushSender, PushTarget } from '../../src/application/ports/push-sender.js';
import { generateVapidKeys } from '../../src/adapters/web-push/vapid.js';
import { freePort } from '../support/processes.js';
import { startBlackHole, startFaultyProxy, startPushService, type ProxyStep, type PushService } from '../support/push-service.js';

export interface CreatePushSenderOptions {
  /** Give up on a silent push service after this long (the adapter's own default otherwise). */
  timeoutMs?: number;
}

/** Must return an *available* sender (with a VAPID public key). */
export type CreatePushSender = (options?: CreatePushSenderOptions) => PushSender | Promise<PushSender>;

const message = (payload: unknown, overrides: Partial<PushMessage> = {}): PushMessage => ({
  payload: JSON.stringify(payload),
  ttlSeconds: 60,
  urgency: 'high',
  topic: 'conversation-42',
  ...overrides,
});

export function pushSenderContract(name: string, create: CreatePushSender): void {
  describe(`PushSender contract: ${name}`, () => {
    let service: PushService;
    const stops: Array<() => Promise<void>> = [];

    beforeAll(async () => {
      service = await startPushService();
    }, 60_000);
    afterEach(async () => {
      await Promise.all(stops.splice(0).map((stop) => stop()));
    });
    afterAll(async () => {
      await service?.stop();
    });

    const subscribed = async (sender: PushSender) => service.subscribe(sender.publicKey!);
    const proxy = async (script: ProxyStep[]) => {
      const p = await startFaultyProxy(service.url, script);
      stops.push(p.stop);
      return p;
    };
    /** Sends like a notifier would: again while `retry`, after retryAfterMs (or at once). */
    const sendUntilSettled = async (sender: PushSender, target: PushTarget, msg: PushMessage, max = 5) => {
      const results: PushResult[] = [];
      for (let i = 0; i < max; i++) {
        const result = await sender.send(target, msg);
        results.push(result);
        if (result.kind !== 'retry') break;
        await new Promise((r) => setTimeout(r, result.retryAfterMs ?? 0));
      }
      return results;
    };

    it('is available and exposes its VAPID public key (65-byte P-256 point, base64url)', async () => {
      const sender = await create();
      expect(sender.available).toBe(true);
      expect(Buffer.from(sender.publicKey!, 'base64url')).toHaveLength(65);
    });

    it('delivers: the push service verified our VAPID JWT, decrypted the body, and it is exactly what we sent', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const payload = { type: 'alert.created', conversationId: 'c-1', text: 'Guest needs help — Zimmer 12 ✓' };

      expect(await sender.send(sub, message(payload))).toEqual({ kind: 'accepted', status: 201 });
      expect(await service.notifications(sub.endpoint)).toEqual([payload]);
    });

    it('delivers with TTL 0, low urgency and no topic too', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      expect(await sender.send(sub, message({ n: 1 }, { ttlSeconds: 0, urgency: 'very-low', topic: '' }))).toEqual({ kind: 'accepted', status: 201 });
      expect(await service.notifications(sub.endpoint)).toEqual([{ n: 1 }]);
    });

    it('a subscription made for another application server key is refused (rejected 400), nothing arrives', async () => {
      const sender = await create();
      const sub = await service.subscribe(generateVapidKeys().publicKey);
      const result = await sender.send(sub, message({ n: 1 }));
      // web-push-testing compares the k= of our Authorization header with the key the
      // subscription was made for, and answers 400 {"error":{"message":"Invalid Crypto-Key header sent"}}.
      expect(result).toMatchObject({ kind: 'rejected', status: 400 });
      expect((result as { error: string }).error).toContain('Invalid Crypto-Key header sent');
      expect(await service.notifications(sub.endpoint)).toEqual([]);
    });

    it('an expired subscription is gone (410)', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      await service.expire(sub.endpoint);
      expect(await sender.send(sub, message({ n: 1 }))).toEqual({ kind: 'gone', status: 410 });
    });

    it('404 is gone too', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const p = await proxy([{ status: 404 }]);
      expect(await sender.send({ ...sub, endpoint: p.endpointFor(sub.endpoint) }, message({ n: 1 }))).toEqual({ kind: 'gone', status: 404 });
    });

    it('500 is retry with status 500 and no Retry-After', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const p = await proxy([{ status: 500 }]);
      const result = await sender.send({ ...sub, endpoint: p.endpointFor(sub.endpoint) }, message({ n: 1 }));
      expect(result).toMatchObject({ kind: 'retry', status: 500, retryAfterMs: null });
      expect(await service.notifications(sub.endpoint)).toEqual([]);
    });

    it('429 with Retry-After: 2 is retry with retryAfterMs 2000', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const p = await proxy([{ status: 429, headers: { 'retry-after': '2' } }]);
      const result = await sender.send({ ...sub, endpoint: p.endpointFor(sub.endpoint) }, message({ n: 1 }));
      expect(result).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 2000 });
    });

    it('503 with an HTTP-date Retry-After is retry with the time left until then', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const p = await proxy([{ status: 503, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() } }]);
      const result = await sender.send({ ...sub, endpoint: p.endpointFor(sub.endpoint) }, message({ n: 1 }));
      expect(result).toMatchObject({ kind: 'retry', status: 503 });
      // HTTP-dates have whole seconds; allow for a slow machine.
      expect((result as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(30_000);
      expect((result as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it('another 4xx is rejected, with a piece of the answer in error', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const p = await proxy([{ status: 413 }]);
      const result = await sender.send({ ...sub, endpoint: p.endpointFor(sub.endpoint) }, message({ n: 1 }));
      expect(result).toMatchObject({ kind: 'rejected', status: 413 });
      expect((result as { error: string }).error).toContain('scripted 413');
    });

    it('500, 500, then 201 delivers exactly once', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const p = await proxy([{ status: 500 }, { status: 500 }]);
      const results = await sendUntilSettled(sender, { ...sub, endpoint: p.endpointFor(sub.endpoint) }, message({ n: 7 }));

      expect(results.map((r) => r.kind)).toEqual(['retry', 'retry', 'accepted']);
      expect(p.requests.map((r) => r.status)).toEqual([500, 500, 201]);
      expect(await service.notifications(sub.endpoint)).toEqual([{ n: 7 }]);
    });

    it('429 with Retry-After is honoured: the next attempt comes no earlier, and delivers', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const p = await proxy([{ status: 429, headers: { 'retry-after': '1' } }]);
      const results = await sendUntilSettled(sender, { ...sub, endpoint: p.endpointFor(sub.endpoint) }, message({ n: 8 }));

      expect(results).toEqual([expect.objectContaining({ kind: 'retry', status: 429, retryAfterMs: 1000 }), { kind: 'accepted', status: 201 }]);
      expect(p.requests.map((r) => r.status)).toEqual([429, 201]);
      expect(p.requests[1].at - p.requests[0].at).toBeGreaterThanOrEqual(1000);
      expect(await service.notifications(sub.endpoint)).toEqual([{ n: 8 }]);
    });

    it('a push service that accepts the connection and never answers is retry (status null) after timeoutMs', async () => {
      const sender = await create({ timeoutMs: 500 });
      const sub = await subscribed(sender);
      const hole = await startBlackHole();
      stops.push(hole.stop);
      const started = Date.now();
      const result = await sender.send({ ...sub, endpoint: hole.endpoint }, message({ n: 1 }));

      expect(result).toMatchObject({ kind: 'retry', status: null, retryAfterMs: null });
      expect((result as { error: string }).error).toMatch(/timeout/i);
      expect(hole.connections()).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      expect(Date.now() - started).toBeLessThan(15_000);
    });

    it('a refused connection is retry (status null) with the network error', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const port = await freePort(); // just released: nobody listens there
      const result = await sender.send({ ...sub, endpoint: `http://127.0.0.1:${port}/notify/x` }, message({ n: 1 }));
      expect(result).toMatchObject({ kind: 'retry', status: null, retryAfterMs: null });
      expect((result as { error: string }).error).toContain('ECONNREFUSED');
    });

    it('a subscription whose keys cannot be used is rejected (status 0) without calling the push service', async () => {
      const sender = await create();
      const sub = await subscribed(sender);
      const p = await proxy([]);
      const result = await sender.send({ endpoint: p.endpointFor(sub.endpoint), keys: { p256dh: 'not-a-key', auth: sub.keys.auth } }, message({ n: 1 }));
      expect(result).toMatchObject({ kind: 'rejected', status: 0 });
      expect(p.requests).toEqual([]);
    });
  });
}
