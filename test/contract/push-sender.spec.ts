import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import webpush from 'web-push';
import { generateVapidKeys, validateVapidKeys, validateVapidSubject } from '../../src/adapters/web-push/vapid.js';
import { UnavailablePushSender, WebPushSender, parseRetryAfter } from '../../src/adapters/web-push/web-push-sender.js';
import type { PushMessage } from '../../src/application/ports/push-sender.js';
import { startPushService, type PushService } from '../support/push-service.js';
import { pushSenderContract } from './push-sender.contract.js';

const keys = generateVapidKeys();
const SUBJECT = 'mailto:ops@example.com';

pushSenderContract('WebPushSender', (options) => new WebPushSender({ ...keys, subject: SUBJECT }, options));

const msg: PushMessage = { payload: '{"n":1}', ttlSeconds: 120, urgency: 'high', topic: 'conv-1' };

describe('web-push-testing really checks the VAPID signature', () => {
  let service: PushService;
  beforeAll(async () => {
    service = await startPushService();
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
  });

  // The contract's "delivers" test shows a 201 for our JWT; this shows a 201 means the JWT was
  // verified: the right k= with a JWT signed by another private key is refused.
  it('refuses a JWT signed by a key that does not match k= (400 Invalid authentication token)', async () => {
    const sub = await service.subscribe(keys.publicKey);
    const other = generateVapidKeys();
    const details = webpush.generateRequestDetails(sub, 'x', {
      vapidDetails: { subject: SUBJECT, publicKey: keys.publicKey, privateKey: other.privateKey },
      contentEncoding: 'aes128gcm',
      TTL: 60,
    });
    const headers = Object.fromEntries(Object.entries(details.headers).filter(([k]) => k !== 'Content-Length').map(([k, v]) => [k, String(v)]));
    const res = await fetch(sub.endpoint, { method: 'POST', headers, body: new Uint8Array(details.body!) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Invalid authentication token supplied');
  });
});

describe('WebPushSender (without a push service)', () => {
  const target = { endpoint: 'https://push.example.test/send/abc', keys: { p256dh: '', auth: '' } };
  beforeAll(() => {
    const ua = generateVapidKeys(); // any P-256 point works as a browser key for encryption
    const auth = Buffer.alloc(16, 7).toString('base64url');
    target.keys = { p256dh: ua.publicKey, auth };
  });

  const capture = () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fetchStub = (async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init: init! });
      return new Response(null, { status: 201 });
    }) as typeof fetch;
    return { calls, fetchStub };
  };

  it('sends RFC 8030/8291/8292 headers: TTL, Urgency, Topic, aes128gcm, vapid t=<JWT for the endpoint origin>, k=<our key>', async () => {
    const { calls, fetchStub } = capture();
    const sender = new WebPushSender({ ...keys, subject: SUBJECT }, { fetch: fetchStub });
    expect(await sender.send(target, msg)).toEqual({ kind: 'accepted', status: 201 });

    const headers = calls[0].init.headers as Record<string, string>;
    expect(calls[0].url).toBe(target.endpoint);
    expect(headers).toMatchObject({ TTL: '120', Urgency: 'high', Topic: 'conv-1', 'Content-Encoding': 'aes128gcm', 'Content-Type': 'application/octet-stream' });
    const m = /^vapid t=([^,]+), k=(.+)$/.exec(headers.Authorization)!;
    expect(m[2]).toBe(keys.publicKey);
    const claims = JSON.parse(Buffer.from(m[1].split('.')[1], 'base64url').toString());
    expect(claims.aud).toBe('https://push.example.test');
    expect(claims.sub).toBe(SUBJECT);
    expect(claims.exp * 1000 - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect(claims.exp * 1000 - Date.now()).toBeGreaterThan(11 * 3600 * 1000);
    // aes128gcm body: 16-byte salt, 4-byte record size, key id length 65, then the sender's key.
    expect((calls[0].init.body as Uint8Array)[20]).toBe(65);
  });

  it('reuses the JWT per push-service origin, signs a new one for another origin', async () => {
    const { calls, fetchStub } = capture();
    const sender = new WebPushSender({ ...keys, subject: SUBJECT }, { fetch: fetchStub });
    await sender.send(target, msg);
    await sender.send(target, msg);
    await sender.send({ ...target, endpoint: 'https://other.example.test/x' }, msg);
    const auth = calls.map((c) => (c.init.headers as Record<string, string>).Authorization);
    expect(auth[1]).toBe(auth[0]);
    expect(auth[2]).not.toBe(auth[0]);
  });

  it('a fetch that throws is retry with the error', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND push.example.test'), { code: 'ENOTFOUND' }) });
    }) as typeof fetch;
    const sender = new WebPushSender({ ...keys, subject: SUBJECT }, { fetch: failing });
    expect(await sender.send(target, msg)).toEqual({ kind: 'retry', status: null, retryAfterMs: null, error: 'network error: ENOTFOUND getaddrinfo ENOTFOUND push.example.test' });
  });

  it('an invalid topic or a non-http endpoint is rejected (status 0) without a request', async () => {
    const { calls, fetchStub } = capture();
    const sender = new WebPushSender({ ...keys, subject: SUBJECT }, { fetch: fetchStub });
    expect(await sender.send(target, { ...msg, topic: 'x'.repeat(33) })).toMatchObject({ kind: 'rejected', status: 0 });
    expect(await sender.send(target, { ...msg, topic: 'has space' })).toMatchObject({ kind: 'rejected', status: 0 });
    expect(await sender.send({ ...target, endpoint: 'ftp://push.example.test/x' }, msg)).toMatchObject({ kind: 'rejected', status: 0 });
    expect(calls).toEqual([]);
  });

  it('refuses bad configuration at construction', () => {
    expect(() => new WebPushSender({ ...keys, privateKey: generateVapidKeys().privateKey, subject: SUBJECT })).toThrow(/not a pair/);
    expect(() => new WebPushSender({ ...keys, subject: 'http://example.com' })).toThrow(/mailto: or https:/);
    expect(() => new WebPushSender({ ...keys, subject: SUBJECT }, { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('parses Retry-After as seconds or HTTP-date', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-1', now)).toBeNull();
  });
});

describe('UnavailablePushSender', () => {
  it('is unavailable, has no key, and rejects every send with status 0', async () => {
    const sender = new UnavailablePushSender();
    expect(sender.available).toBe(false);
    expect(sender.publicKey).toBeNull();
    expect(await sender.send({ endpoint: 'https://push.example.test/x', keys: { p256dh: 'a', auth: 'b' } }, msg)).toEqual({
      kind: 'rejected',
      status: 0,
      error: 'push unavailable: no VAPID keys configured',
    });
  });
});

describe('VAPID key and subject validation', () => {
  const flip = (b64: string, at: number) => {
    const buf = Buffer.from(b64, 'base64url');
    buf[at] ^= 1;
    return buf.toString('base64url');
  };

  it('accepts generated pairs', () => {
    for (let i = 0; i < 20; i++) {
      const k = generateVapidKeys();
      expect(() => validateVapidKeys(k.publicKey, k.privateKey)).not.toThrow();
    }
  });

  it('names the malformed key', () => {
    expect(() => validateVapidKeys('', keys.privateKey)).toThrow(/^VAPID public key is missing/);
    expect(() => validateVapidKeys(`${keys.publicKey}=`, keys.privateKey)).toThrow(/^VAPID public key must be base64url/);
    expect(() => validateVapidKeys(Buffer.from(keys.publicKey, 'base64url').subarray(0, 33).toString('base64url'), keys.privateKey)).toThrow(/^VAPID public key must decode to 65 bytes/);
    expect(() => validateVapidKeys(flip(keys.publicKey, 64), keys.privateKey)).toThrow(/^VAPID public key is not a point on the P-256 curve/);
    const compressedMarker = Buffer.from(keys.publicKey, 'base64url');
    compressedMarker[0] = 0x02;
    expect(() => validateVapidKeys(compressedMarker.toString('base64url'), keys.privateKey)).toThrow(/^VAPID public key must be an uncompressed/);
    expect(() => validateVapidKeys(keys.publicKey, keys.privateKey.replace(/./, '+'))).toThrow(/^VAPID private key must be base64url/);
    expect(() => validateVapidKeys(keys.publicKey, keys.publicKey)).toThrow(/^VAPID private key must decode to 32 bytes/);
    expect(() => validateVapidKeys(keys.publicKey, Buffer.alloc(32).toString('base64url'))).toThrow(/^VAPID private key is not a valid P-256 private key/);
    expect(() => validateVapidKeys(keys.publicKey, flip(keys.privateKey, 31))).toThrow(/not a pair/);
  });

  it('accepts mailto: and https: subjects only', () => {
    expect(() => validateVapidSubject('mailto:ops@example.com')).not.toThrow();
    expect(() => validateVapidSubject('https://hotel.example.com/contact')).not.toThrow();
    expect(() => validateVapidSubject('mailto:')).toThrow(/e-mail address/);
    expect(() => validateVapidSubject('http://hotel.example.com')).toThrow(/mailto: or https:/);
    expect(() => validateVapidSubject('ops@example.com')).toThrow(/mailto: or https:/);
    expect(() => validateVapidSubject('https://localhost')).toThrow(/localhost/);
  });
});
