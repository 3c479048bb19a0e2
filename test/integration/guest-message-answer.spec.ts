/**
 * POST /v1/guest/conversations/{id}/messages answers with the conversation as it stands after
 * the message (openapi GuestMessageResult): the guest view at or after the message's position,
 * and what AVA made of it. AVA answers in a worker after the message is appended, so the answer
 * waits for her, briefly and bounded: `ava` is `replied` / `ticket_opened` once she did,
 * `pending` if she had not within the bound, `not_answering` if nobody answers automatically.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { client, eventually } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const startGuest = async (api: ReturnType<typeof client>, name: string) =>
  (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: name })).body as { conversationId: string; guestToken: string };

describe('a guest message answers with the conversation after it', () => {
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

  const setMode = async (chatMode: 'ai_only' | 'hybrid' | 'off') =>
    expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode })).status).toBe(200);
  const post = (guest: { conversationId: string; guestToken: string }, text: string) =>
    api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text });

  it('says so when AVA opened a ticket from the message', async () => {
    await setMode('hybrid');
    const guest = await startGuest(api, 'Tom');
    const res = await post(guest, 'I want to talk to a human');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      message: { text: 'I want to talk to a human' },
      ava: 'ticket_opened',
      ticketOpened: true,
      conversation: { id: guest.conversationId, support: 'waiting_for_agent', aiActive: false },
    });
    expect(BigInt(res.body.conversation.position)).toBeGreaterThan(BigInt(res.body.position));
    // The ticket really is there for employees.
    const view = await api.get(`/v1/conversations/${guest.conversationId}?minPosition=${res.body.conversation.position}`, agent);
    expect(view.body.ticket).toMatchObject({ status: 'open' });
  });

  it("includes AVA's answer when she replied", async () => {
    await setMode('hybrid');
    const guest = await startGuest(api, 'Uma');
    const res = await post(guest, 'What time is breakfast?');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ava: 'replied', ticketOpened: false, conversation: { support: 'none', aiActive: true } });
    const view = await api.get(`/v1/guest/conversations/${guest.conversationId}?minPosition=${res.body.conversation.position}`, guest.guestToken);
    expect(view.body.messages.map((m: { author: string }) => m.author)).toEqual(['guest', 'ai']);
  });

  it('answers at once when nobody answers automatically (chat mode off, or a person has the chat)', async () => {
    await setMode('off');
    const quiet = await startGuest(api, 'Val');
    const off = await post(quiet, 'Hello?');
    expect(off.body).toMatchObject({ ava: 'not_answering', ticketOpened: false, conversation: { support: 'none', aiActive: false } });
    expect(off.body.conversation.position).toBe(off.body.position);

    await setMode('hybrid');
    const helped = await startGuest(api, 'Wes');
    await api.post(`/v1/guest/conversations/${helped.conversationId}/support-requests`, helped.guestToken);
    expect((await api.post(`/v1/conversations/${helped.conversationId}/take-over`, agent)).status).toBe(200);
    const res = await post(helped, 'Thanks for joining');
    expect(res.body).toMatchObject({ ava: 'not_answering', ticketOpened: false, conversation: { support: 'agent_joined', aiActive: false } });
  });
});

describe('a guest message while the AI service is slow', () => {
  let ai: Server;
  let t: TestApp;

  beforeAll(async () => {
    ai = createServer((_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"reply":"Sorry for the wait!"}'), 2500));
    await new Promise<void>((resolve) => ai.listen(0, '127.0.0.1', resolve));
    t = await startTestApp({ AI_RESPONDER_URL: `http://127.0.0.1:${(ai.address() as AddressInfo).port}/` });
  });
  afterAll(async () => {
    await t.stop();
    ai.closeAllConnections();
    await new Promise((resolve) => ai.close(resolve));
  });

  it('answers within the bound with `pending` and the view at the message; the reply follows', async () => {
    const api = client(t.url);
    const guest = await startGuest(api, 'Xia');
    const started = Date.now();
    const res = await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'Is the pool open?' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.body).toMatchObject({ ava: 'pending', ticketOpened: false, conversation: { support: 'none', aiActive: true } });
    await eventually(async () => {
      const view = await api.get(`/v1/guest/conversations/${guest.conversationId}`, guest.guestToken);
      return view.body.messages.some((m: { text: string }) => m.text === 'Sorry for the wait!') || undefined;
    }, 8000, 'the late reply');
  });
});
