/** Tenancy, validation and limits: one property never sees or changes another's data. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { client } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

describe('property isolation, validation and limits', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let conversationId: string;
  let guestToken: string;
  let adminA: string, agentA: string, adminB: string, agentB: string;

  beforeAll(async () => {
    t = await startTestApp();
    api = client(t.url);
    adminA = await t.employee('a-admin', 'hotel-a', 'admin');
    agentA = await t.employee('a-agent', 'hotel-a');
    adminB = await t.employee('b-admin', 'hotel-b', 'admin');
    agentB = await t.employee('b-agent', 'hotel-b');
    await api.put('/v1/settings/live-chat', adminA, { requestSupportChat: true, chatMode: 'hybrid' });
    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Zoe' })).body;
    conversationId = g.conversationId;
    guestToken = g.guestToken;
    await api.post(`/v1/guest/conversations/${conversationId}/support-requests`, guestToken);
  });
  afterAll(() => t.stop());

  it("gives another property's employees 404 for every conversation route", async () => {
    for (const token of [agentB, adminB]) {
      expect((await api.get(`/v1/conversations/${conversationId}`, token)).status).toBe(404);
      expect((await api.post(`/v1/conversations/${conversationId}/take-over`, token)).status).toBe(404);
      expect((await api.post(`/v1/conversations/${conversationId}/messages`, token, { text: 'hi' })).status).toBe(404);
      expect((await api.post(`/v1/conversations/${conversationId}/close`, token)).status).toBe(404);
    }
    expect((await api.get(`/v1/ops/conversations/${conversationId}/history`, adminB)).status).toBe(404);
    const list = await api.get('/v1/conversations?status=all', agentB);
    expect(list.body.items).toEqual([]);
    // and the ticket is still open for its own property
    expect((await api.get(`/v1/conversations/${conversationId}`, agentA)).body.badge).toBe('open_ticket');
  });

  it("cannot read or change another property's settings", async () => {
    const b = await api.put('/v1/settings/live-chat', adminB, { requestSupportChat: false, chatMode: 'off' });
    expect(b.status).toBe(200);
    const a = await api.get(`/v1/settings/live-chat?minPosition=${b.body.position}`, agentA);
    expect(a.body).toMatchObject({ requestSupportChat: true, chatMode: 'hybrid', updatedBy: 'a-admin' });
    const bView = await api.get(`/v1/settings/live-chat?minPosition=${b.body.position}`, agentB);
    expect(bView.body).toMatchObject({ requestSupportChat: false, chatMode: 'off' });
  });

  it('refuses a guest token for another conversation and stream tokens on non-stream routes', async () => {
    const other = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Other' })).body;
    expect((await api.get(`/v1/guest/conversations/${conversationId}`, other.guestToken)).status).toBe(403);
    expect((await api.get('/v1/conversations', guestToken)).status).toBe(403);
    const stream = await api.post('/v1/stream-tokens', agentA);
    expect(stream.status).toBe(201);
    expect((await api.get('/v1/conversations', stream.body.token)).status).toBe(401);
    expect((await api.get('/v1/conversations')).status).toBe(401);
    expect((await api.get('/v1/conversations', 'not-a-jwt')).status).toBe(401);
    const forged = await t.tokens.employeeToken({ id: 'x', propertyId: 'hotel-a', role: 'admin', name: 'x' });
    expect((await api.get('/v1/conversations', forged.slice(0, -2) + 'xx')).status).toBe(401);
  });

  it('answers invalid bodies with 400 and field-level messages, and writes nothing', async () => {
    const before = (await api.get(`/v1/ops/conversations/${conversationId}/history`, adminA)).body.events.length;
    const cases: Array<[string, string, unknown, string[]]> = [
      ['PUT', '/v1/settings/live-chat', { requestSupportChat: 'yes', chatMode: 'sometimes' }, ['requestSupportChat', 'chatMode']],
      ['PUT', '/v1/settings/live-chat', { requestSupportChat: true, chatMode: 'hybrid', extra: 1 }, ['extra']],
      ['PUT', '/v1/me/settings', { closureMessage: { enabled: true, text: 'x'.repeat(1001) } }, ['closureMessage.text']],
      ['PUT', '/v1/settings/push-notifications', {}, ['pushNotificationsEnabled']],
      ['POST', `/v1/conversations/${conversationId}/messages`, { text: '' }, ['text']],
    ];
    for (const [method, path, body, fields] of cases) {
      const res = method === 'PUT' ? await api.put(path, adminA, body) : await api.post(path, adminA, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual([...fields].sort());
    }
    const guestBad = await api.post('/v1/guest/conversations', undefined, { propertyId: '', guestName: 7 });
    expect(guestBad.status).toBe(400);
    expect(guestBad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['guestName', 'propertyId']);
    expect((await api.get('/v1/conversations?status=everything', agentA)).status).toBe(400);
    expect((await api.get('/v1/conversations/not-a-uuid', agentA)).status).toBe(400);
    expect((await api.post('/v1/conversations/x/take-over', agentA, undefined, { 'idempotency-key': 'bad key!' })).status).toBe(400);
    const after = (await api.get(`/v1/ops/conversations/${conversationId}/history`, adminA)).body.events.length;
    expect(after).toBe(before);
  });

  it('refuses an enabled closure message without text', async () => {
    const res = await api.put('/v1/me/settings', agentA, { closureMessage: { enabled: true } });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['closureMessage.text']);
  });

  it('answers oversized bodies with 413 in the common error shape', async () => {
    const res = await api.post(`/v1/guest/conversations/${conversationId}/messages`, guestToken, { text: 'x'.repeat(64 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('answers unknown conversations with 404 and malformed JSON with 400', async () => {
    expect((await api.get('/v1/conversations/00000000-0000-4000-8000-000000000000', agentA)).status).toBe(404);
    const bad = await api.post(`/v1/conversations/${conversationId}/messages`, agentA, '{"text": ');
    expect(bad.status).toBe(400);
    expect(bad.body.statusCode).toBe(400);
  });
});
