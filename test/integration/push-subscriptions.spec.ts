/**
 * Browser push subscriptions through HTTP on a real SQLite data dir: an employee's browsers
 * subscribe (PushSubscription.toJSON()), are listed without secrets, re-posting changes
 * nothing, the 11th drops the oldest, DELETE removes one; nobody else ever sees or removes them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createECDH, randomBytes } from 'node:crypto';
import { pushSubscriptionId } from '../../src/domain/push-subscriptions.js';
import { employeeStream } from '../../src/domain/settings.js';
import { client } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const PATH = '/v1/me/push-subscriptions';

const p256dh = () => createECDH('prime256v1').generateKeys().toString('base64url');
const auth = () => randomBytes(16).toString('base64url');
let counter = 0;
/** What `PushSubscription.toJSON()` gives in a browser. */
const browser = (endpoint = `https://fcm.googleapis.com/fcm/send/device-${++counter}`) => ({
  endpoint,
  expirationTime: null as number | null,
  keys: { p256dh: p256dh(), auth: auth() },
});

describe('push subscriptions', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let alice: string, bob: string, aliceElsewhere: string, guest: string;

  const del = async (token: string | undefined, endpoint?: string) => {
    const query = endpoint === undefined ? '' : `?endpoint=${encodeURIComponent(endpoint)}`;
    const res = await fetch(`${t.url}${PATH}${query}`, { method: 'DELETE', headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const stream = (employeeId: string, propertyId = 'hotel-a') => t.adapters.eventStore.readStream(employeeStream(propertyId, employeeId));
  /** The caller's list once the read model has caught up with the employee's stream. */
  const listOf = async (token: string, employeeId: string, propertyId = 'hotel-a') => {
    const last = (await stream(employeeId, propertyId)).at(-1);
    const res = await api.get(`${PATH}${last ? `?minPosition=${last.position}` : ''}`, token);
    expect(res.status).toBe(200);
    return res.body.items as Array<{ id: string; endpoint: string; expirationTime: number | null; createdAt: string }>;
  };

  beforeAll(async () => {
    t = await startTestApp({ PUSH_ALLOW_HTTP_ENDPOINTS: 'false' });
    api = client(t.url);
    alice = await t.employee('alice', 'hotel-a');
    bob = await t.employee('bob', 'hotel-a');
    aliceElsewhere = await t.employee('alice', 'hotel-b'); // same employee id, another property
    guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Gil' })).body.guestToken;
  });
  afterAll(() => t.stop());

  it('subscribes a browser and lists it without its keys', async () => {
    const chrome = browser();
    const res = await api.post(PATH, alice, chrome);
    expect(res.status).toBe(201);
    const id = pushSubscriptionId('hotel-a', 'alice', chrome.endpoint);
    expect(res.body).toEqual({
      subscription: { id, endpoint: chrome.endpoint, expirationTime: null, createdAt: expect.any(String) },
      position: expect.stringMatching(/^\d+$/),
    });
    const listed = await api.get(`${PATH}?minPosition=${res.body.position}`, alice);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([res.body.subscription]);
    expect(JSON.stringify(listed.body)).not.toContain(chrome.keys.auth);

    const events = await stream('alice');
    expect(events.at(-1)).toMatchObject({
      type: 'PushSubscriptionAdded',
      data: { subscriptionId: id, endpoint: chrome.endpoint, expirationTime: null, keys: chrome.keys, employeeId: 'alice' },
      metadata: { propertyId: 'hotel-a', actor: { kind: 'employee', id: 'alice' } },
    });
  });

  it('appends nothing when the same subscription is posted again, and replaces it when its keys change', async () => {
    const firefox = browser('https://updates.push.services.mozilla.com/wpush/v2/abc');
    const first = await api.post(PATH, alice, firefox);
    const before = (await stream('alice')).length;
    const again = await api.post(PATH, alice, { ...firefox, keys: { ...firefox.keys } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect((await stream('alice')).length).toBe(before);

    const renewed = { ...firefox, keys: { p256dh: p256dh(), auth: auth() } };
    const replaced = await api.post(PATH, alice, renewed);
    expect(replaced.status).toBe(201);
    expect(replaced.body.subscription.id).toBe(first.body.subscription.id);
    const events = await stream('alice');
    expect(events.slice(before).map((e) => [e.type, e.data.reason ?? null])).toEqual([
      ['PushSubscriptionRemoved', 'replaced'],
      ['PushSubscriptionAdded', null],
    ]);
    expect(events.at(-1)!.data.keys).toEqual(renewed.keys);
    expect((await listOf(alice, 'alice')).filter((s) => s.endpoint === firefox.endpoint)).toHaveLength(1);
  });

  it('refuses http endpoints unless PUSH_ALLOW_HTTP_ENDPOINTS is set', async () => {
    const local = browser('http://127.0.0.1:8090/push/1');
    const refused = await api.post(PATH, bob, local);
    expect(refused.status).toBe(400);
    expect(refused.body.details.map((d: { field: string }) => d.field)).toEqual(['endpoint']);

    const allowing = await startTestApp({ PUSH_ALLOW_HTTP_ENDPOINTS: 'true' });
    try {
      const token = await allowing.employee('bob', 'hotel-a');
      const accepted = await client(allowing.url).post(PATH, token, local);
      expect(accepted.status).toBe(201);
      expect(accepted.body.subscription.endpoint).toBe(local.endpoint);
    } finally {
      await allowing.stop();
    }
  });

  it('answers each malformed field with 400 naming it, and writes nothing', async () => {
    const good = browser();
    const offCurve = Buffer.from(createECDH('prime256v1').generateKeys());
    offCurve[64]! ^= 1;
    const cases: Array<[string, unknown, string[]]> = [
      ['not a URL', { ...good, endpoint: 'push me' }, ['endpoint']],
      ['endpoint too long', { ...good, endpoint: `https://push.example.com/${'x'.repeat(2048)}` }, ['endpoint']],
      ['endpoint not a string', { ...good, endpoint: 42 }, ['endpoint']],
      ['expirationTime a string', { ...good, expirationTime: 'tomorrow' }, ['expirationTime']],
      ['expirationTime missing', { endpoint: good.endpoint, keys: good.keys }, ['expirationTime']],
      ['expirationTime negative', { ...good, expirationTime: -1 }, ['expirationTime']],
      ['p256dh off the curve', { ...good, keys: { ...good.keys, p256dh: offCurve.toString('base64url') } }, ['keys.p256dh']],
      ['p256dh too short', { ...good, keys: { ...good.keys, p256dh: 'BAAA' } }, ['keys.p256dh']],
      ['p256dh not base64url', { ...good, keys: { ...good.keys, p256dh: '%%%' } }, ['keys.p256dh']],
      ['auth of 15 bytes', { ...good, keys: { ...good.keys, auth: randomBytes(15).toString('base64url') } }, ['keys.auth']],
      ['auth not a string', { ...good, keys: { ...good.keys, auth: 16 } }, ['keys.auth']],
      ['keys missing', { endpoint: good.endpoint, expirationTime: null }, ['keys']],
      ['an unknown field', { ...good, extra: true }, ['extra']],
      ['an unknown key', { ...good, keys: { ...good.keys, extra: 'x' } }, ['keys.extra']],
      ['everything wrong', { endpoint: 'http://x/1', expirationTime: -5, keys: { p256dh: 'AAAA', auth: 'AAAA' } }, ['endpoint', 'expirationTime', 'keys.p256dh', 'keys.auth']],
    ];
    const before = (await stream('alice')).length;
    for (const [what, body, fields] of cases) {
      const res = await api.post(PATH, alice, body);
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'Validation failed' });
      expect({ what, fields: res.body.details.map((d: { field: string }) => d.field).sort() }).toEqual({ what, fields: [...fields].sort() });
    }
    expect((await stream('alice')).length).toBe(before);
  });

  it('keeps at most 10 per employee: the 11th drops the oldest', async () => {
    const dana = await t.employee('dana', 'hotel-a');
    const browsers = Array.from({ length: 11 }, () => browser());
    for (const b of browsers) expect((await api.post(PATH, dana, b)).status).toBe(201);
    const listed = await listOf(dana, 'dana');
    expect(listed.map((s) => s.endpoint)).toEqual(browsers.slice(1).map((b) => b.endpoint));
    const removed = (await stream('dana')).filter((e) => e.type === 'PushSubscriptionRemoved');
    expect(removed.map((e) => e.data)).toEqual([
      {
        subscriptionId: pushSubscriptionId('hotel-a', 'dana', browsers[0]!.endpoint),
        endpoint: browsers[0]!.endpoint,
        employeeId: 'dana',
        reason: 'cap',
        at: expect.any(String),
      },
    ]);
  });

  it('unsubscribes with DELETE; an unknown endpoint is 404', async () => {
    const edge = browser();
    await api.post(PATH, alice, edge);
    const res = await del(alice, edge.endpoint);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect((await stream('alice')).at(-1)).toMatchObject({
      type: 'PushSubscriptionRemoved',
      data: { endpoint: edge.endpoint, reason: 'unsubscribed', employeeId: 'alice' },
    });
    expect((await listOf(alice, 'alice')).map((s) => s.endpoint)).not.toContain(edge.endpoint);

    const again = await del(alice, edge.endpoint);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'push_subscription_not_found' });
    expect((await del(alice)).status).toBe(400);
    expect((await del(undefined, edge.endpoint)).status).toBe(401);
    expect((await del(guest, edge.endpoint)).status).toBe(403);
    // Bodies are not part of DELETE, but Fastify still parses them, with the same limits.
    const withBody = (body: string, type: string) =>
      fetch(`${t.url}${PATH}?endpoint=x`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}`, 'content-type': type }, body });
    expect((await withBody(JSON.stringify({ x: 'x'.repeat(64 * 1024) }), 'application/json')).status).toBe(413);
    expect((await withBody('<x/>', 'application/xml')).status).toBe(415);
  });

  it("never shows or removes another employee's subscriptions, in the same property or another", async () => {
    const mine = await listOf(alice, 'alice');
    expect(mine.length).toBeGreaterThan(0);
    expect(await listOf(bob, 'bob')).toEqual([]);
    expect(await listOf(aliceElsewhere, 'alice', 'hotel-b')).toEqual([]);

    const target = mine[0]!.endpoint;
    const before = (await stream('alice')).length;
    expect((await del(bob, target)).status).toBe(404);
    expect((await del(aliceElsewhere, target)).status).toBe(404);
    expect((await stream('alice')).length).toBe(before);
    expect((await listOf(alice, 'alice')).map((s) => s.endpoint)).toContain(target);

    // The same browser endpoint under another employee is their own subscription.
    const shared = await api.post(PATH, bob, browser(target));
    expect(shared.status).toBe(201);
    expect(shared.body.subscription.id).not.toBe(mine[0]!.id);
    expect((await listOf(bob, 'bob')).map((s) => s.endpoint)).toEqual([target]);
    expect((await listOf(alice, 'alice')).map((s) => s.endpoint)).toContain(target);
  });

  it('is for employees only', async () => {
    expect((await api.get(PATH, guest)).status).toBe(403);
    expect((await api.post(PATH, guest, browser())).status).toBe(403);
    expect((await api.get(PATH)).status).toBe(401);
  });
});
