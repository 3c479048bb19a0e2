/**
 * The whole SPEC §2 flow through HTTP on real SQLite files: declined request with its reason,
 * admin enables hybrid, ticket opens, badges per viewer, a reply that takes the open ticket
 * over, owner-only reply/close, the guest receives the reply, the closure message and the
 * notices of what happened, AI replies resume as the mode allows. (Release, reassign, admin
 * close and the race of replies: handoff.spec.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SseClient } from '../support/sse-client.js';
import { client, eventually } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

describe('ticket lifecycle through the API', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let alice: string, bob: string, admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    api = client(t.url);
    alice = await t.employee('alice');
    bob = await t.employee('bob');
    admin = await t.employee('grace', 'hotel-a', 'admin');
  });
  afterAll(() => t.stop());

  async function startGuest(name = 'Tom') {
    const res = await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: name });
    expect(res.status).toBe(201);
    return res.body as { conversationId: string; guestToken: string; position: string };
  }

  it('follows the seed flow end to end', async () => {
    // Closure message enabled for Alice, toggles for alerts on.
    const mine = await api.put('/v1/me/settings', alice, {
      incomingSupportRequests: true,
      closureMessage: { enabled: true, text: 'Thanks for staying with us!' },
    });
    expect(mine.status).toBe(200);
    expect(mine.body.closureMessage).toEqual({ enabled: true, text: 'Thanks for staying with us!' });

    // Defaults: a request for a person opens no ticket, and says why.
    const guest = await startGuest();
    const declined = await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    expect(declined.status).toBe(201);
    expect(declined.body).toMatchObject({ ticketOpened: false, declinedReasons: ['request_support_chat_off', 'chat_mode_not_hybrid'] });
    const afterDecline = await api.get(`/v1/conversations/${guest.conversationId}?minPosition=${declined.body.position}`, alice);
    expect(afterDecline.body.lastSupportRequest).toMatchObject({ outcome: 'declined', reasons: ['request_support_chat_off', 'chat_mode_not_hybrid'] });
    expect(afterDecline.body.badge).toBeNull();

    // Only an admin may change live chat settings.
    expect((await api.put('/v1/settings/live-chat', alice, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(403);
    const enabled = await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
    expect(enabled.status).toBe(200);
    const settings = await api.get(`/v1/settings/live-chat?minPosition=${enabled.body.position}`, bob);
    expect(settings.body).toMatchObject({ requestSupportChat: true, chatMode: 'hybrid', updatedBy: 'grace' });

    // The guest listens; asking AVA for a human opens a ticket.
    const guestStream = await SseClient.open(`${t.url}/v1/guest/conversations/${guest.conversationId}/stream`, {
      authorization: `Bearer ${guest.guestToken}`,
    });
    await guestStream.waitFor((es) => es.some((e) => e.event === 'ready'));
    await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'Can I speak to someone, please?' });
    const opened = await eventually(async () => {
      const r = await api.get(`/v1/conversations/${guest.conversationId}`, bob);
      return r.body.ticket?.status === 'open' ? r.body : undefined;
    }, 5000, 'ticket to open');
    expect(opened.badge).toBe('open_ticket');
    expect(opened.actions).toEqual({ takeOver: true, reply: true, close: false, release: false, reassign: false });
    expect((await api.get(`/v1/conversations/${guest.conversationId}`, alice)).body.badge).toBe('open_ticket');
    const inboxOpen = await api.get('/v1/conversations?status=open', bob);
    expect(inboxOpen.body.items.map((c: { id: string }) => c.id)).toContain(guest.conversationId);

    // Alice replies to the open ticket: that takes it over — hers, and "assigned" for everyone else.
    const taken = await api.post(`/v1/conversations/${guest.conversationId}/messages`, alice, { text: 'Hi Tom, Alice here.' });
    expect(taken.status).toBe(201);
    expect(taken.body.conversation).toMatchObject({
      badge: 'assigned_to_you',
      actions: { takeOver: false, reply: true, close: true, release: true, reassign: false },
    });
    expect((await api.post(`/v1/conversations/${guest.conversationId}/take-over`, alice)).body.code).toBe('already_assigned_to_you');
    const bobView = await api.get(`/v1/conversations/${guest.conversationId}?minPosition=${taken.body.position}`, bob);
    expect(bobView.body).toMatchObject({ badge: 'assigned', actions: { takeOver: false, reply: false, close: false, release: false, reassign: false } });
    const aliceMine = await api.get(`/v1/conversations?status=mine&minPosition=${taken.body.position}`, alice);
    expect(aliceMine.body.items.map((c: { id: string }) => c.id)).toContain(guest.conversationId);

    // Only the owner replies and closes.
    const bobReply = await api.post(`/v1/conversations/${guest.conversationId}/messages`, bob, { text: 'me too' });
    expect(bobReply.status).toBe(409);
    expect(bobReply.body).toMatchObject({ code: 'assigned_to_another_employee', details: { owner: { id: 'alice' } } });
    expect((await api.post(`/v1/conversations/${guest.conversationId}/close`, bob)).status).toBe(403);

    // While assigned, AVA stays silent.
    const during = await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'Thanks Alice!' });
    const closed = await api.post(`/v1/conversations/${guest.conversationId}/close`, alice);
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ closureMessageSent: true, aiRepliesResumed: true, conversation: { badge: null } });
    expect((await api.post(`/v1/conversations/${guest.conversationId}/close`, alice)).status).toBe(409);

    // The guest saw what happened, Alice's reply and the closure message (in AVA's name), and no AI reply while assigned.
    await guestStream.waitFor((es) => es.filter((e) => e.event === 'message.created').some((e) => e.data.message.notice === 'ticket_closed'));
    const messages = guestStream.of('message.created').map((e) => e.data.message);
    expect(messages.map((m) => [m.author, m.text])).toEqual([
      ['guest', 'Can I speak to someone, please?'],
      ['system', 'A colleague will join shortly.'],
      ['system', 'Employee alice has joined the chat.'],
      ['employee', 'Hi Tom, Alice here.'],
      ['guest', 'Thanks Alice!'],
      ['ai', 'Thanks for staying with us!'],
      ['system', 'This chat has ended. AVA, our assistant, is back to help.'],
    ]);
    expect(messages[5]).toMatchObject({ authorName: 'AVA', kind: 'closure_message' });
    expect(Number(during.body.position)).toBeGreaterThan(0);
    guestStream.close();

    // After close in hybrid mode, AVA answers again.
    await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'What time is checkout?' });
    await eventually(async () => {
      const r = await api.get(`/v1/guest/conversations/${guest.conversationId}`, guest.guestToken);
      return r.body.messages.at(-1)?.author === 'ai' ? true : undefined;
    }, 5000, 'AI reply after close');

    // Alice was alerted about the new ticket; the decision says why.
    const alerts = await api.get('/v1/me/alerts', alice);
    expect(alerts.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'incoming_support_request', conversationId: guest.conversationId })]),
    );
    const decisions = await api.get('/v1/me/alerts/decisions', bob);
    expect(decisions.body.items).toEqual([]); // Bob never opted in: not a known recipient
  });

  it('keeps AI replies off after close when the chat mode is off', async () => {
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
    const guest = await startGuest('Ann');
    await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    expect((await api.post(`/v1/conversations/${guest.conversationId}/take-over`, bob)).status).toBe(200);
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'off' });
    const closed = await api.post(`/v1/conversations/${guest.conversationId}/close`, bob);
    expect(closed.body).toMatchObject({ closureMessageSent: false, aiRepliesResumed: false });
    const msg = await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'Hello?' });
    // Give the AI worker time it would need; it must stay silent.
    await new Promise((r) => setTimeout(r, 300));
    const view = await api.get(`/v1/guest/conversations/${guest.conversationId}?minPosition=${msg.body.position}`, guest.guestToken);
    expect(view.body.messages.map((m: { author: string }) => m.author).filter((a: string) => a !== 'system')).toEqual(['guest']);
    expect(view.body.messages.at(-2)).toMatchObject({ author: 'system', notice: 'ticket_closed', text: 'This chat has ended.' });
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
  });

  it('answers in ai_only mode and declines requests for a person with the reason', async () => {
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'ai_only' });
    const guest = await startGuest('Li');
    await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'I need a real person' });
    const view = await eventually(async () => {
      const r = await api.get(`/v1/conversations/${guest.conversationId}`, alice);
      return r.body.messages?.length === 2 ? r.body : undefined;
    }, 5000, 'AI answer');
    expect(view.ticket).toBeNull();
    expect(view.lastSupportRequest).toMatchObject({ outcome: 'declined', reasons: ['chat_mode_not_hybrid'] });
    expect(view.messages[1].author).toBe('ai');
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
  });

  it('returns the first answer for a retried command with the same Idempotency-Key', async () => {
    const guest = await startGuest('Kai');
    await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    const headers = { 'idempotency-key': 'take-over-once' };
    const first = await api.post(`/v1/conversations/${guest.conversationId}/take-over`, alice, undefined, headers);
    const again = await api.post(`/v1/conversations/${guest.conversationId}/take-over`, alice, undefined, headers);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body.position).toBe(first.body.position);
    const history = await api.get(`/v1/ops/conversations/${guest.conversationId}/history`, admin);
    expect(history.body.events.filter((e: { type: string }) => e.type === 'TicketTakenOver')).toHaveLength(1);
  });

  it('serves history as of any moment', async () => {
    const guest = await startGuest('Eve');
    await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await api.post(`/v1/conversations/${guest.conversationId}/take-over`, bob);
    const then = await api.get(`/v1/ops/conversations/${guest.conversationId}/history?at=${encodeURIComponent(between)}`, admin);
    expect(then.body.state.ticket).toMatchObject({ status: 'open', ownerId: null });
    const nowState = await api.get(`/v1/ops/conversations/${guest.conversationId}/history?at=${encodeURIComponent(new Date().toISOString())}`, admin);
    expect(nowState.body.state.ticket).toMatchObject({ status: 'assigned', ownerId: 'bob' });
    const ndjson = await fetch(`${t.url}/v1/ops/conversations/${guest.conversationId}/history`, {
      headers: { authorization: `Bearer ${admin}`, accept: 'application/x-ndjson' },
    });
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await ndjson.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['ConversationStarted', 'TicketOpened', 'GuestNotified', 'TicketTakenOver', 'GuestNotified']);
    expect((await api.get(`/v1/ops/conversations/${guest.conversationId}/history`, alice)).status).toBe(403);
    for (const bad of ['2026-W48', '2026-329', 'yesterday']) {
      const res = await api.get(`/v1/ops/conversations/${guest.conversationId}/history?at=${bad}`, admin);
      expect(res.status).toBe(400);
      expect(res.body.details[0].field).toBe('at');
    }
  });
});
