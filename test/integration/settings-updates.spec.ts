/**
 * Settings PUTs behave alike (README "Settings updates"): a read-modify-write round-trips (what
 * GET answered can be sent back as it is), partial bodies merge with the current settings, and
 * a body that names no setting is a 400. The closure-message rule is the domain's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { client } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

describe('settings updates', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let admin: string, agent: string;

  beforeAll(async () => {
    t = await startTestApp();
    api = client(t.url);
    admin = await t.employee('grace', 'hotel-a', 'admin');
    agent = await t.employee('alice');
  });
  afterAll(() => t.stop());

  describe('PUT /v1/me/settings', () => {
    it('accepts exactly what GET returned (closure message off, empty text)', async () => {
      const read = await api.get('/v1/me/settings', agent);
      expect(read.body.closureMessage).toEqual({ enabled: false, text: '' });
      const written = await api.put('/v1/me/settings', agent, read.body);
      expect({ status: written.status, body: written.body }).toMatchObject({ status: 200, body: { closureMessage: { enabled: false, text: '' } } });
    });

    it('round-trips after a change too: enable, disable, then send back what GET answers', async () => {
      const on = await api.put('/v1/me/settings', agent, { closureMessage: { enabled: true, text: 'Bye!' } });
      expect(on.status).toBe(200);
      const off = await api.put('/v1/me/settings', agent, { closureMessage: { enabled: false, text: '' } });
      expect(off.body.closureMessage).toEqual({ enabled: false, text: '' });
      const read = await api.get(`/v1/me/settings?minPosition=${off.body.position}`, agent);
      const again = await api.put('/v1/me/settings', agent, read.body);
      // Nothing appended: the answer's position is still that of the last change.
      expect({ status: again.status, position: again.body.position }).toEqual({ status: 200, position: off.body.position });
    });

    it.each([
      ['no text', { enabled: true }],
      ['an empty text', { enabled: true, text: '' }],
      ['a blank text', { enabled: true, text: '   ' }],
    ])('refuses an enabled closure message with %s: 400 closure_message_text_required', async (_what, closureMessage) => {
      const res = await api.put('/v1/me/settings', agent, { closureMessage });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'closure_message_text_required', details: [{ field: 'closureMessage.text' }] });
    });
  });

  describe('PUT /v1/settings/live-chat', () => {
    it('merges a partial body with the current settings, like the other settings PUTs', async () => {
      expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'ai_only' })).status).toBe(200);
      const mode = await api.put('/v1/settings/live-chat', admin, { chatMode: 'hybrid' });
      expect({ status: mode.status, body: mode.body }).toMatchObject({ status: 200, body: { requestSupportChat: true, chatMode: 'hybrid' } });
      const toggle = await api.put('/v1/settings/live-chat', admin, { requestSupportChat: false });
      expect({ status: toggle.status, body: toggle.body }).toMatchObject({ status: 200, body: { requestSupportChat: false, chatMode: 'hybrid' } });
      const read = await api.get(`/v1/settings/live-chat?minPosition=${toggle.body.position}`, agent);
      expect(read.body).toMatchObject({ requestSupportChat: false, chatMode: 'hybrid', updatedBy: 'grace' });
    });

    it('accepts exactly what GET returned and appends nothing', async () => {
      const last = await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
      const read = await api.get(`/v1/settings/live-chat?minPosition=${last.body.position}`, admin);
      const written = await api.put('/v1/settings/live-chat', admin, read.body);
      expect({ status: written.status, position: written.body.position }).toEqual({ status: 200, position: last.body.position });
    });
  });

  it('PUT /v1/settings/push-notifications accepts exactly what GET returned and appends nothing', async () => {
    const last = await api.put('/v1/settings/push-notifications', admin, { pushNotificationsEnabled: true });
    const read = await api.get(`/v1/settings/push-notifications?minPosition=${last.body.position}`, admin);
    const written = await api.put('/v1/settings/push-notifications', admin, read.body);
    expect({ status: written.status, position: written.body.position }).toEqual({ status: 200, position: last.body.position });
  });

  it('PUT /v1/settings/escalation accepts exactly what GET returned and appends nothing', async () => {
    const last = await api.put('/v1/settings/escalation', admin, { escalateAfterMinutes: 15 });
    const read = await api.get(`/v1/settings/escalation?minPosition=${last.body.position}`, admin);
    const written = await api.put('/v1/settings/escalation', admin, read.body);
    expect({ status: written.status, position: written.body.position }).toEqual({ status: 200, position: last.body.position });
  });

  it.each([
    ['/v1/settings/live-chat', ['chatMode', 'requestSupportChat']],
    ['/v1/settings/push-notifications', ['pushNotificationsEnabled']],
    ['/v1/me/settings', ['assignedChatActivity', 'closureMessage', 'incomingSupportRequests']],
  ])('PUT %s with a body that names no setting ({} or only read-only fields) is a 400 naming the fields', async (path, fields) => {
    for (const body of [{}, { updatedAt: null }]) {
      const res = await api.put(path, admin, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
      expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(fields);
    }
  });
});
