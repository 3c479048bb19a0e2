/**
 * `aiActive` in every conversation view says whether AVA will answer the guest's next message:
 * the domain's `aiMayAnswer` — chat mode not `off` and no active ticket (SPEC §2). The chat mode
 * is the property's, so a mode change changes it for every conversation of the property.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { client, eventually } from '../support/http.js';
import { SseClient } from '../support/sse-client.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

describe('aiActive', () => {
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

  const setMode = async (chatMode: 'ai_only' | 'hybrid' | 'off') => {
    const res = await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode });
    expect(res.status).toBe(200);
    return res.body.position as string;
  };
  const startGuest = async (name: string) =>
    (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: name })).body as { conversationId: string; guestToken: string; position: string };
  /** aiActive as the employee view, the inbox list and the guest view say it, read at or after `position`. */
  const aiActive = async (guest: { conversationId: string; guestToken: string }, position: string) => {
    const employee = await api.get(`/v1/conversations/${guest.conversationId}?minPosition=${position}`, agent);
    const list = await api.get(`/v1/conversations?status=all&limit=100&minPosition=${position}`, agent);
    const mine = list.body.items.find((c: { id: string }) => c.id === guest.conversationId);
    const guestView = await api.get(`/v1/guest/conversations/${guest.conversationId}?minPosition=${position}`, guest.guestToken);
    return { employee: employee.body.aiActive, list: mine?.aiActive, guest: guestView.body.aiActive };
  };
  const everywhere = (value: boolean) => ({ employee: value, list: value, guest: value });

  it('is false in `off` mode: nobody answers automatically', async () => {
    const position = await setMode('off');
    const guest = await startGuest('Ada');
    expect(await aiActive(guest, guest.position)).toEqual(everywhere(false));
    expect(await aiActive(guest, position)).toEqual(everywhere(false));
  });

  it('follows a chat mode change for conversations that already exist', async () => {
    await setMode('ai_only');
    const guest = await startGuest('Ben');
    expect(await aiActive(guest, guest.position)).toEqual(everywhere(true));
    expect(await aiActive(guest, await setMode('off'))).toEqual(everywhere(false));
    expect(await aiActive(guest, await setMode('ai_only'))).toEqual(everywhere(true));
  });

  it('is true again after a return to hybrid, and AVA does answer then', async () => {
    await setMode('hybrid');
    const guest = await startGuest('Cy');
    const request = await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    expect(request.body.ticketOpened).toBe(true);
    expect(await aiActive(guest, request.body.position)).toEqual(everywhere(false)); // a person answers now
    expect((await api.post(`/v1/conversations/${guest.conversationId}/take-over`, agent)).status).toBe(200);
    await setMode('off');
    const closed = await api.post(`/v1/conversations/${guest.conversationId}/close`, agent);
    expect(closed.status).toBe(200);
    expect(await aiActive(guest, closed.body.position)).toEqual(everywhere(false));

    expect(await aiActive(guest, await setMode('hybrid'))).toEqual(everywhere(true));
    await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'Anyone?' });
    await eventually(async () => {
      const view = await api.get(`/v1/guest/conversations/${guest.conversationId}`, guest.guestToken);
      return view.body.messages.some((m: { author: string }) => m.author === 'ai') || undefined;
    }, 5000, "AVA's answer");
  });

  it('SSE payloads carry it as of their event', async () => {
    await setMode('off');
    const guest = await startGuest('Dee');
    const stream = await SseClient.open(`${t.url}/v1/guest/conversations/${guest.conversationId}/stream`, {
      authorization: `Bearer ${guest.guestToken}`,
    });
    try {
      await stream.waitFor((es) => es.some((e) => e.event === 'ready'));
      await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'Hello?' });
      await stream.waitFor((es) => es.some((e) => e.event === 'conversation.updated'));
      expect(stream.of('conversation.updated').at(-1)!.data.conversation.aiActive).toBe(false);
    } finally {
      stream.close();
    }
  });
});
