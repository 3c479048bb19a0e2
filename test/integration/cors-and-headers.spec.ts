/**
 * CORS from CORS_ORIGINS and security headers (issue 9, item 8), through HTTP. The browser's
 * view of the same (a page on another origin, the docs page) is test/browser/frontend.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { client } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const HOTEL = 'https://hotel.example';

function preflight(url: string, origin: string, method = 'POST', headers = 'authorization,content-type,idempotency-key') {
  return fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });
}

/** The status and headers of an event stream's response (then it is closed). */
function streamHeaders(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      req.destroy();
    });
    req.on('error', reject);
  });
}

describe('CORS and security headers', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let agent: string;
  let conversationId: string;
  let guestToken: string;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: `${HOTEL}, http://localhost:8080` });
    api = client(t.url);
    agent = await t.employee('cors-agent');
    ({ conversationId, guestToken } = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Cora' })).body);
  });
  afterAll(() => t.stop());

  it('answers preflights from an allowed origin with 204 on every kind of route', async () => {
    for (const [path, method] of [
      ['/v1/conversations', 'GET'],
      [`/v1/conversations/${conversationId}/take-over`, 'POST'],
      ['/v1/settings/live-chat', 'PUT'],
      ['/v1/me/push-subscriptions', 'DELETE'],
      ['/v1/stream-tokens', 'POST'],
      ['/v1/stream', 'GET'],
      [`/v1/guest/conversations/${conversationId}/messages`, 'POST'],
      ['/v1/guest/conversations', 'POST'],
    ] as const) {
      const res = await preflight(t.url + path, HOTEL, method, 'authorization,content-type,idempotency-key,last-event-id');
      expect({ path, status: res.status }).toEqual({ path, status: 204 });
      expect(res.headers.get('access-control-allow-origin')).toBe(HOTEL);
      expect(res.headers.get('access-control-allow-methods')).toContain(method);
      expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, Idempotency-Key, Last-Event-ID');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
    expect((await preflight(`${t.url}/v1/conversations`, 'http://localhost:8080')).headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
  });

  it('gives no CORS grant to any other origin', async () => {
    for (const origin of ['https://evil.example', 'https://hotel.example.evil.example', 'http://hotel.example', 'null']) {
      const pre = await preflight(`${t.url}/v1/conversations`, origin);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      const get = await api.get('/v1/me/settings', agent, { origin });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('puts the CORS grant and exposed headers on answers, errors and event streams', async () => {
    const ok = await api.get('/v1/me/settings', agent, { origin: HOTEL });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(HOTEL);
    expect(ok.headers.get('access-control-expose-headers')).toBe('X-Request-Id, Idempotent-Replayed, Retry-After');
    expect(ok.headers.get('vary')).toMatch(/Origin/i);
    const denied = await api.get('/v1/me/settings', 'not-a-token', { origin: HOTEL });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(HOTEL);

    const { token } = (await api.post('/v1/stream-tokens', agent, undefined, { origin: HOTEL })).body;
    for (const url of [`${t.url}/v1/stream?access_token=${token}`, `${t.url}/v1/guest/conversations/${conversationId}/stream?access_token=${(await api.post('/v1/stream-tokens', guestToken)).body.token}`]) {
      const stream = await streamHeaders(url, { origin: HOTEL });
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(stream.headers['access-control-allow-origin']).toBe(HOTEL);
      expect(stream.headers['access-control-expose-headers']).toBe('X-Request-Id, Idempotent-Replayed, Retry-After');
      expect(stream.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('sends security headers: nothing allowed for JSON, what the docs page needs for /docs', async () => {
    const res = await api.get('/v1/me/settings', agent);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const health = await api.get('/health');
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');

    const docs = await fetch(`${t.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(docs.headers.get('content-security-policy')).not.toMatch(/default-src 'none'/);
  });
});

describe('CORS off (CORS_ORIGINS empty)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('sends no CORS headers at all', async () => {
    const pre = await preflight(`${t.url}/v1/conversations`, HOTEL);
    expect(pre.status).not.toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await client(t.url).get('/v1/me/settings', await t.employee('no-cors'), { origin: HOTEL });
    expect(res.status).toBe(200);
    expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
});
