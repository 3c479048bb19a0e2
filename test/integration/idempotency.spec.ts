/**
 * Idempotency-Key through HTTP: a retry gets the first answer (status + body, with
 * `Idempotent-Replayed: true`) and appends nothing; a reused key with another body is a 422;
 * a duplicate while the first still runs is a 409; concurrent duplicates run once. On the
 * embedded store, and with REDIS_URL across two instances.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fingerprintOf } from '../../src/adapters/http/idempotency.interceptor.js';
import type { EventStore } from '../../src/application/ports/event-store.js';
import { client } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

type Api = ReturnType<typeof client>;
const key = () => `k-${randomUUID()}`;
const idem = (k: string) => ({ 'idempotency-key': k });

const IN_FLIGHT = {
  statusCode: 409,
  error: 'Conflict',
  message: 'A request with this Idempotency-Key is still in progress',
  code: 'idempotency_key_in_flight',
  requestId: expect.any(String),
};
const REUSED = {
  statusCode: 422,
  error: 'Unprocessable Entity',
  message: 'This Idempotency-Key was already used for a different request',
  code: 'idempotency_key_reused',
  requestId: expect.any(String),
};

async function eventTypes(api: Api, admin: string, conversationId: string): Promise<string[]> {
  const res = await api.get(`/v1/ops/conversations/${conversationId}/history`, admin);
  expect(res.status).toBe(200);
  return (res.body.events as Array<{ type: string }>).map((e) => e.type);
}

const count = (types: string[], type: string) => types.filter((t) => t === type).length;

async function openTicket(api: Api, name = 'Tom') {
  const started = await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: name });
  expect(started.status).toBe(201);
  const guest = started.body as { conversationId: string; guestToken: string };
  const support = await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
  expect(support.body.ticketOpened).toBe(true);
  return guest;
}

describe('Idempotency-Key (embedded store)', () => {
  let t: TestApp;
  let api: Api;
  let alice: string, bob: string, admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    api = client(t.url);
    alice = await t.employee('alice');
    bob = await t.employee('bob');
    admin = await t.employee('grace', 'hotel-a', 'admin');
    expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
  });
  afterAll(() => t.stop());

  it('a retried take-over returns the identical first answer, marked replayed, and appends nothing', async () => {
    const { conversationId } = await openTicket(api);
    const k = key();
    const first = await api.post(`/v1/conversations/${conversationId}/take-over`, alice, undefined, idem(k));
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await api.post(`/v1/conversations/${conversationId}/take-over`, alice, undefined, idem(k));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('content-type')).toContain('application/json');
    expect(count(await eventTypes(api, admin, conversationId), 'TicketTakenOver')).toBe(1);
  });

  it('a retried reply returns the same message (id, position) and appends one EmployeeReplied', async () => {
    const { conversationId } = await openTicket(api);
    expect((await api.post(`/v1/conversations/${conversationId}/take-over`, alice)).status).toBe(200);
    const k = key();
    const first = await api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'Hi, Alice here' }, idem(k));
    expect(first.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const again = await api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'Hi, Alice here' }, idem(k));
      expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    }
    expect(count(await eventTypes(api, admin, conversationId), 'EmployeeReplied')).toBe(1);
  });

  it('a retried guest message returns the first answer and appends one GuestMessagePosted', async () => {
    const started = await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Ann' });
    const { conversationId, guestToken } = started.body as { conversationId: string; guestToken: string };
    const k = key();
    const first = await api.post(`/v1/guest/conversations/${conversationId}/messages`, guestToken, { text: 'Is breakfast included?' }, idem(k));
    expect(first.status).toBe(201);
    const again = await api.post(`/v1/guest/conversations/${conversationId}/messages`, guestToken, { text: 'Is breakfast included?' }, idem(k));
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(count(await eventTypes(api, admin, conversationId), 'GuestMessagePosted')).toBe(1);
  });

  it('a retried anonymous conversation start returns the same conversation, with a guest token for it (issued anew, never stored)', async () => {
    const k = key();
    const body = { propertyId: 'hotel-a', guestName: 'Ida' };
    const first = await api.post('/v1/guest/conversations', undefined, body, idem(k));
    const again = await api.post('/v1/guest/conversations', undefined, body, idem(k));
    expect(first.status).toBe(201);
    expect({ status: again.status, body: again.body }).toEqual({
      status: 201,
      body: { conversationId: first.body.conversationId, position: first.body.position, guestToken: expect.any(String) },
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await api.get(`/v1/guest/conversations/${first.body.conversationId}`, again.body.guestToken)).status).toBe(200);
    expect(count(await eventTypes(api, admin, first.body.conversationId), 'ConversationStarted')).toBe(1);
  });

  it('the same key with another body is a 422 and runs nothing', async () => {
    const { conversationId } = await openTicket(api);
    await api.post(`/v1/conversations/${conversationId}/take-over`, alice);
    const k = key();
    expect((await api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'first' }, idem(k))).status).toBe(201);
    const reused = await api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'second' }, idem(k));
    expect({ status: reused.status, body: reused.body }).toEqual({ status: 422, body: REUSED });
    expect(reused.headers.get('content-type')).toContain('application/json');
    const types = await eventTypes(api, admin, conversationId);
    expect(count(types, 'EmployeeReplied')).toBe(1);
    // The stored answer is untouched: the original request still replays.
    const again = await api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'first' }, idem(k));
    expect(again.status).toBe(201);
    expect(again.body.message.text).toBe('first');
  });

  it('keys are scoped by caller and route: the same key elsewhere is another request', async () => {
    const { conversationId } = await openTicket(api);
    const k = key();
    const mine = await api.post(`/v1/conversations/${conversationId}/take-over`, alice, undefined, idem(k));
    expect(mine.status).toBe(200);
    const bobs = await api.post(`/v1/conversations/${conversationId}/take-over`, bob, undefined, idem(k));
    expect(bobs.status).toBe(409);
    expect(bobs.body.code).toBe('already_assigned');
    expect(bobs.headers.get('idempotent-replayed')).toBeNull();
    const reply = await api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'same key, other route' }, idem(k));
    expect(reply.status).toBe(201);
  });

  it('concurrent duplicates run once: the others are replays or 409 idempotency_key_in_flight', async () => {
    const { conversationId } = await openTicket(api);
    await api.post(`/v1/conversations/${conversationId}/take-over`, alice);
    const k = key();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'only once' }, idem(k))),
    );
    const ran = answers.filter((a) => a.status === 201);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    for (const a of ran) expect(a.body).toEqual(ran[0]!.body);
    expect(ran.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 201)) expect({ status: a.status, body: a.body }).toEqual({ status: 409, body: IN_FLIGHT });
    expect(count(await eventTypes(api, admin, conversationId), 'EmployeeReplied')).toBe(1);
  });

  it('a duplicate while the first is still in progress is a 409 idempotency_key_in_flight', async () => {
    const { conversationId } = await openTicket(api);
    const k = key();
    const path = `/v1/conversations/${conversationId}/take-over`;
    // Hold the key as a running first request would (same scope and fingerprint as the interceptor).
    const scoped = `e:hotel-a:alice|POST ${path}|${k}`;
    const held = await t.adapters.idempotency.begin(scoped, fingerprintOf({ method: 'POST', url: path, body: undefined }));
    expect(held.state).toBe('new');
    const duplicate = await api.post(path, alice, undefined, idem(k));
    expect({ status: duplicate.status, body: duplicate.body }).toEqual({ status: 409, body: IN_FLIGHT });
    expect(count(await eventTypes(api, admin, conversationId), 'TicketTakenOver')).toBe(0);
    if (held.state === 'new') await t.adapters.idempotency.abandon(scoped, held.token);
    expect((await api.post(path, alice, undefined, idem(k))).status).toBe(200);
  });

  it('a 4xx first answer is the answer: a retry replays it even after the state changed', async () => {
    const { conversationId } = await openTicket(api);
    const k = key();
    await api.post(`/v1/conversations/${conversationId}/take-over`, bob);
    const refused = await api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'not yours' }, idem(k));
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('assigned_to_another_employee');
    // Released: the same reply would now take the open ticket over, but a retry is the first answer.
    expect((await api.post(`/v1/conversations/${conversationId}/release`, bob)).status).toBe(200);
    const again = await api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'not yours' }, idem(k));
    expect({ status: again.status, body: again.body }).toEqual({ status: 409, body: refused.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(count(await eventTypes(api, admin, conversationId), 'EmployeeReplied')).toBe(0);
  });

  it('a 5xx releases the key: the retry runs (and appends once)', async () => {
    const { conversationId } = await openTicket(api);
    const store = t.adapters.eventStore as EventStore & { append: EventStore['append'] };
    const original = store.append;
    store.append = async () => {
      throw new Error('disk on fire');
    };
    const k = key();
    let failed;
    try {
      failed = await api.post(`/v1/conversations/${conversationId}/take-over`, alice, undefined, idem(k));
    } finally {
      store.append = original;
    }
    expect(failed.status).toBe(500);
    const retry = await api.post(`/v1/conversations/${conversationId}/take-over`, alice, undefined, idem(k));
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(count(await eventTypes(api, admin, conversationId), 'TicketTakenOver')).toBe(1);
  });

  it('PUT is covered too; a malformed key is still a 400; without a key nothing is stored', async () => {
    const k = key();
    const first = await api.put('/v1/me/settings', bob, { incomingSupportRequests: true }, idem(k));
    const again = await api.put('/v1/me/settings', bob, { incomingSupportRequests: true }, idem(k));
    expect(first.status).toBe(200);
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const bad = await api.put('/v1/me/settings', bob, { incomingSupportRequests: true }, idem('not allowed!'));
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('Idempotency-Key');
    const plain = await api.put('/v1/me/settings', bob, { incomingSupportRequests: true });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('Idempotency-Key across two instances sharing Redis', () => {
  let a: TestApp, b: TestApp;
  let apiA: Api, apiB: Api;
  let alice: string, admin: string;

  beforeAll(async () => {
    const redisUrl = process.env.REDIS_URL;
    if (!redisUrl) {
      throw new Error('REDIS_URL is not set: this suite needs a Redis (Jest globalSetup starts one). It is never skipped.');
    }
    a = await startTestApp({ REDIS_URL: redisUrl });
    // The second instance works on the first one's SQLite files, as two API processes share a store.
    b = await startTestApp({ REDIS_URL: redisUrl }, a.dataDir);
    apiA = client(a.url);
    apiB = client(b.url);
    alice = await a.employee('alice');
    admin = await a.employee('grace', 'hotel-a', 'admin');
    expect((await apiA.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('uses the Redis store', () => {
    expect(a.adapters.describe).toContain('idempotency keys: Redis');
  });

  it('a retry on the other instance returns the first answer and appends nothing', async () => {
    const { conversationId } = await openTicket(apiA);
    const k = key();
    const first = await apiA.post(`/v1/conversations/${conversationId}/take-over`, alice, undefined, idem(k));
    expect(first.status).toBe(200);
    const again = await apiB.post(`/v1/conversations/${conversationId}/take-over`, alice, undefined, idem(k));
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const reused = await apiB.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'x' }, idem(k));
    expect(reused.status).toBe(201); // another route: another request
    const mismatch = await apiB.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'y' }, idem(k));
    expect({ status: mismatch.status, body: mismatch.body }).toEqual({ status: 422, body: REUSED });
    const types = await eventTypes(apiB, admin, conversationId);
    expect(count(types, 'TicketTakenOver')).toBe(1);
    expect(count(types, 'EmployeeReplied')).toBe(1);
  });

  it('concurrent duplicates on both instances run once', async () => {
    const { conversationId } = await openTicket(apiA);
    await apiA.post(`/v1/conversations/${conversationId}/take-over`, alice);
    const k = key();
    const send = (api: Api) => api.post(`/v1/conversations/${conversationId}/messages`, alice, { text: 'once across instances' }, idem(k));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 === 0 ? apiA : apiB)));
    const ran = answers.filter((r) => r.status === 201);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(ran.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    for (const r of ran) expect(r.body).toEqual(ran[0]!.body);
    for (const r of answers.filter((x) => x.status !== 201)) expect({ status: r.status, body: r.body }).toEqual({ status: 409, body: IN_FLIGHT });
    expect(count(await eventTypes(apiA, admin, conversationId), 'EmployeeReplied')).toBe(1);
  });
});
