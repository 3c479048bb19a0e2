/**
 * SPEC §2 hand-offs through HTTP on real SQLite files: a reply that takes an open ticket over
 * (racing take-overs), release back to the queue, reassign by an admin, an admin's close, what
 * the guest is told — and that no guest route or guest stream ever shows an employee id.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { client, eventually } from '../support/http.js';
import { SseClient } from '../support/sse-client.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const PROPERTY = 'hotel-a';
// Ids no other text can contain by chance, and names that do not contain them: the sweep below looks for the ids.
const staff = {
  alice: { id: 'staff-alice-7f3a', name: 'Alice Ng', role: 'agent' },
  bob: { id: 'staff-bob-41c9', name: 'Bob Ruiz', role: 'agent' },
  carol: { id: 'staff-carol-0d72', name: 'Carol Diaz', role: 'agent' },
  grace: { id: 'staff-grace-b5e1', name: 'Grace Park', role: 'admin' },
  // A token without a `name` claim: the service then knows only the id (name = sub).
  nameless: { id: 'staff-nameless-9c2e', name: 'staff-nameless-9c2e', role: 'agent' },
} as const;
type Who = keyof typeof staff;

describe('hand-offs through the API', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  const token = {} as Record<Who, string>;

  beforeAll(async () => {
    t = await startTestApp();
    api = client(t.url);
    for (const [who, e] of Object.entries(staff)) {
      token[who as Who] = await t.tokens.employeeToken({ id: e.id, propertyId: PROPERTY, role: e.role, name: e.name });
    }
    expect((await api.put('/v1/settings/live-chat', token.grace, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
  });
  afterAll(() => t.stop());

  async function openTicket(guestName = 'Tom') {
    const started = await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName });
    const guest = started.body as { conversationId: string; guestToken: string };
    const support = await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    expect(support.body.ticketOpened).toBe(true);
    return { id: guest.conversationId, guestToken: guest.guestToken, position: support.body.position as string };
  }
  const post = (who: Who, id: string, action: string, body?: unknown) => api.post(`/v1/conversations/${id}/${action}`, token[who], body);
  const view = (who: Who, id: string, position?: string) =>
    api.get(`/v1/conversations/${id}${position ? `?minPosition=${position}` : ''}`, token[who]).then((r) => r.body);

  it('50 employees taking over or replying at once: exactly one wins, 49 conflicts name it, one take-over event', async () => {
    const { id } = await openTicket('Race');
    const racers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => t.tokens.employeeToken({ id: `racer-${i}`, propertyId: PROPERTY, role: 'agent', name: `Racer ${i}` })),
    );
    const answers = await Promise.all(
      racers.map((racer, i) =>
        i % 2 === 0
          ? api.post(`/v1/conversations/${id}/take-over`, racer)
          : api.post(`/v1/conversations/${id}/messages`, racer, { text: `racer ${i} here` }),
      ),
    );

    const winners = answers.filter((a) => a.status === 200 || a.status === 201);
    const losers = answers.filter((a) => a.status === 409);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    const winner = winners[0]!.body.conversation.ticket.ownerId as string;
    // A losing take-over: `already_assigned`; a losing reply: `assigned_to_another_employee`. Both name the winner.
    for (const loser of losers) {
      expect(['already_assigned', 'assigned_to_another_employee']).toContain(loser.body.code);
      expect(loser.body.details).toMatchObject({ ticketStatus: 'assigned', owner: { id: winner } });
    }
    const stream = await t.adapters.eventStore.readStream(`conversation-${id}`);
    expect(stream.filter((e) => e.type === 'TicketTakenOver').map((e) => e.data.employeeId)).toEqual([winner]);
    // A winning reply sent its message in the same decision; no loser's message exists.
    const replies = stream.filter((e) => e.type === 'EmployeeReplied');
    expect(replies.map((e) => e.data.employeeId)).toEqual(winners[0]!.status === 201 ? [winner] : []);
  });

  it('a reply to a ticket already someone else’s is a 409 naming the owner', async () => {
    const { id } = await openTicket();
    expect((await post('alice', id, 'take-over')).status).toBe(200);
    const refused = await post('bob', id, 'messages', { text: 'me too' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'assigned_to_another_employee', details: { owner: { id: staff.alice.id, name: 'Alice Ng' } } });
  });

  it('release: back to open_ticket for everyone, incoming-request alerts again, no more activity alerts for the old owner', async () => {
    await api.put('/v1/me/settings', token.alice, { assignedChatActivity: true });
    await api.put('/v1/me/settings', token.bob, { incomingSupportRequests: true });
    const bobStream = await SseClient.open(`${t.url}/v1/stream`, { authorization: `Bearer ${token.bob}` });
    const carolStream = await SseClient.open(`${t.url}/v1/stream`, { authorization: `Bearer ${token.carol}` });
    await bobStream.waitFor((es) => es.some((e) => e.event === 'ready'));
    await carolStream.waitFor((es) => es.some((e) => e.event === 'ready'));

    const ticket = await openTicket('Rel');
    const replied = await post('alice', ticket.id, 'messages', { text: 'Alice here' });
    expect(replied.body.conversation).toMatchObject({ badge: 'assigned_to_you', actions: { release: true, close: true } });
    expect((await post('carol', ticket.id, 'release')).body.code).toBe('assigned_to_another_employee');

    const released = await post('alice', ticket.id, 'release');
    expect(released.status).toBe(200);
    expect(released.body.conversation).toMatchObject({ ticket: { status: 'open', ownerId: null }, badge: 'open_ticket' });
    expect((await post('alice', ticket.id, 'release')).body).toMatchObject({ code: 'not_assigned', details: { ticketStatus: 'open' } });

    const sawOpenAgain = (s: SseClient) =>
      s.waitFor((es) =>
        es.some((e) => e.event === 'conversation.updated' && e.data.conversation.id === ticket.id && e.data.conversation.position === released.body.position),
      );
    await sawOpenAgain(bobStream);
    await sawOpenAgain(carolStream);
    for (const s of [bobStream, carolStream]) {
      const last = s.of('conversation.updated').filter((e) => e.data.conversation.id === ticket.id).at(-1)!.data.conversation;
      expect(last).toMatchObject({ badge: 'open_ticket', actions: { takeOver: true, reply: true } });
    }
    // Bob (toggle on) is alerted again; Carol (toggle off) is not.
    await bobStream.waitFor((es) => es.filter((e) => e.event === 'alert.created' && e.data.alert.conversationId === ticket.id).length === 2);
    expect(bobStream.of('alert.created').at(-1)!.data.alert).toMatchObject({ kind: 'incoming_support_request', title: 'Support request waiting again' });
    expect(carolStream.of('alert.created')).toEqual([]);
    bobStream.close();
    carolStream.close();

    // The guest writes while the ticket waits: Alice no longer owns it, so no activity alert.
    const wrote = await api.post(`/v1/guest/conversations/${ticket.id}/messages`, ticket.guestToken, { text: 'Hello?' });
    const decisions = await api.get(`/v1/me/alerts/decisions?conversationId=${ticket.id}&minPosition=${wrote.body.position}`, token.alice);
    expect(decisions.body.items.filter((d: { kind: string }) => d.kind === 'assigned_chat_activity')).toEqual([]);
  });

  it('reassign by an admin: the new owner sees assigned_to_you, is alerted, replies and closes; the old owner sees assigned', async () => {
    // Bob's name is learned from his own events (a take-over elsewhere), so the admin may name him by id only.
    const elsewhere = await openTicket('Ann');
    const bobTook = await post('bob', elsewhere.id, 'take-over');
    await view('grace', elsewhere.id, bobTook.body.position);

    const ticket = await openTicket('Ray');
    await post('alice', ticket.id, 'take-over');
    const refused = await post('carol', ticket.id, 'reassign', { employeeId: staff.bob.id });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('admin_only');

    const moved = await post('grace', ticket.id, 'reassign', { employeeId: staff.bob.id });
    expect(moved.status).toBe(200);
    expect(moved.body.conversation).toMatchObject({
      ticket: { status: 'assigned', ownerId: staff.bob.id, ownerName: 'Bob Ruiz' },
      badge: 'assigned',
      actions: { reassign: true, release: true, close: true, reply: false },
    });
    expect((await post('grace', ticket.id, 'reassign', { employeeId: staff.bob.id })).body.code).toBe('already_assigned_to_employee');

    expect(await view('bob', ticket.id, moved.body.position)).toMatchObject({ badge: 'assigned_to_you', actions: { reply: true, close: true, release: true } });
    expect(await view('alice', ticket.id, moved.body.position)).toMatchObject({ badge: 'assigned', actions: { reply: false, close: false, release: false } });
    const alerts = await api.get(`/v1/me/alerts?minPosition=${moved.body.position}`, token.bob);
    expect(alerts.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'ticket_assigned', conversationId: ticket.id, body: 'Grace Park gave you the chat with Ray' })]),
    );

    expect((await post('alice', ticket.id, 'messages', { text: 'still mine?' })).status).toBe(409);
    expect((await post('bob', ticket.id, 'messages', { text: 'Bob here, taking over from Alice.' })).status).toBe(201);
    expect((await post('bob', ticket.id, 'close')).status).toBe(200);

    // History shows who moved the ticket, also as of a moment.
    const history = await api.get(`/v1/ops/conversations/${ticket.id}/history`, token.grace);
    const reassigned = history.body.events.find((e: { type: string }) => e.type === 'TicketReassigned');
    expect(reassigned).toMatchObject({
      data: { previousOwnerId: staff.alice.id, employeeId: staff.bob.id, reassignedBy: { id: staff.grace.id, name: 'Grace Park' } },
      metadata: { actor: { kind: 'employee', id: staff.grace.id } },
    });
    const asOf = await api.get(`/v1/ops/conversations/${ticket.id}/history?at=${encodeURIComponent(reassigned.recordedAt)}`, token.grace);
    expect(asOf.body.state.ticket).toMatchObject({ status: 'assigned', ownerId: staff.bob.id });
    expect(asOf.body.lastTicketEvent).toMatchObject({ type: 'TicketReassigned', data: { reassignedBy: { id: staff.grace.id } } });
  });

  it('an admin closes a ticket someone else owns, with the admin’s own closure message', async () => {
    await api.put('/v1/me/settings', token.grace, { closureMessage: { enabled: true, text: 'Grace from the front office: enjoy your stay!' } });
    await api.put('/v1/me/settings', token.alice, { closureMessage: { enabled: true, text: 'Alice says bye!' } });
    const ticket = await openTicket('Kim');
    await post('alice', ticket.id, 'take-over');
    expect(await view('grace', ticket.id)).toMatchObject({ actions: { close: true, release: true, reassign: true } });
    const closed = await post('grace', ticket.id, 'close');
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ closureMessageSent: true, aiRepliesResumed: true, conversation: { ticket: { status: 'closed' } } });
    const guestView = await api.get(`/v1/guest/conversations/${ticket.id}?minPosition=${closed.body.position}`, ticket.guestToken);
    const texts = guestView.body.messages.map((m: { text: string }) => m.text);
    expect(texts).toContain('Grace from the front office: enjoy your stay!');
    expect(texts).not.toContain('Alice says bye!');
    const history = await api.get(`/v1/ops/conversations/${ticket.id}/history`, token.grace);
    expect(history.body.events.find((e: { type: string }) => e.type === 'TicketClosed').data).toMatchObject({
      employeeId: staff.grace.id,
      closedBy: { id: staff.grace.id, name: 'Grace Park' },
    });
  });

  it('tells the guest, in order, on its stream: a colleague will join, who joined, and that the chat ended', async () => {
    const started = (await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: 'Lu' })).body;
    const stream = await SseClient.open(`${t.url}/v1/guest/conversations/${started.conversationId}/stream`, {
      authorization: `Bearer ${started.guestToken}`,
    });
    await stream.waitFor((es) => es.some((e) => e.event === 'ready'));
    await api.post(`/v1/guest/conversations/${started.conversationId}/support-requests`, started.guestToken);
    await eventually(async () => (await view('carol', started.conversationId)).ticket?.status === 'open', 5000, 'ticket open');
    await post('carol', started.conversationId, 'messages', { text: 'Hi Lu, Carol here.' });
    await post('carol', started.conversationId, 'close');
    await stream.waitFor((es) => es.some((e) => e.event === 'message.created' && e.data.message.notice === 'ticket_closed'));
    stream.close();
    expect(stream.of('message.created').map((e) => [e.data.message.author, e.data.message.text])).toEqual([
      ['system', 'A colleague will join shortly.'],
      ['system', 'Carol Diaz has joined the chat.'],
      ['employee', 'Hi Lu, Carol here.'],
      ['system', 'This chat has ended. AVA, our assistant, is back to help.'],
    ]);
  });

  it('no guest route and no guest stream event ever carries an employee id', async () => {
    const seen: string[] = [];
    const record = <T extends { body: unknown }>(res: T) => {
      seen.push(JSON.stringify(res.body));
      return res;
    };
    const started = record(await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: 'Zoe' })).body as {
      conversationId: string;
      guestToken: string;
    };
    const id = started.conversationId;
    const g = started.guestToken;
    const stream = await SseClient.open(`${t.url}/v1/guest/conversations/${id}/stream`, { authorization: `Bearer ${g}` });
    await stream.waitFor((es) => es.some((e) => e.event === 'ready'));
    const guestTurn = async (text: string, position: string) => {
      record(await api.post(`/v1/guest/conversations/${id}/messages`, g, { text }));
      record(await api.post(`/v1/guest/conversations/${id}/support-requests`, g));
      record(await api.get(`/v1/guest/conversations/${id}?minPosition=${position}`, g));
    };

    const opened = record(await api.post(`/v1/guest/conversations/${id}/support-requests`, g)).body;
    await guestTurn('anyone there?', opened.position);
    let last = await post('alice', id, 'take-over');
    await guestTurn('hi Alice', last.body.position);
    last = await post('alice', id, 'messages', { text: 'How can I help?' });
    await guestTurn('my room key', last.body.position);
    last = await post('alice', id, 'release');
    await guestTurn('hello?', last.body.position);
    last = await post('bob', id, 'messages', { text: 'Bob here.' });
    await guestTurn('thanks Bob', last.body.position);
    last = await post('grace', id, 'reassign', { employeeId: staff.nameless.id });
    await guestTurn('who is this?', last.body.position);
    last = await post('grace', id, 'reassign', { employeeId: staff.carol.id, employeeName: 'Carol Diaz' });
    await guestTurn('ok', last.body.position);
    last = await post('carol', id, 'close');
    await guestTurn('bye', last.body.position);

    await stream.waitFor((es) => es.some((e) => e.event === 'conversation.updated' && e.data.conversation.position === last.body.position));
    stream.close();
    seen.push(...stream.events.map((e) => JSON.stringify(e)));

    const everything = seen.join('\n');
    // The walk did reach the guest: every step is there, by display name.
    for (const text of ['Alice Ng has joined the chat.', 'Bob Ruiz has joined the chat.', 'A colleague has joined the chat.', 'Carol Diaz has joined the chat.', 'How can I help?']) {
      expect(everything).toContain(text);
    }
    expect(stream.of('message.created').length).toBeGreaterThan(10);
    for (const e of Object.values(staff)) expect({ id: e.id, leaked: everything.includes(e.id) }).toEqual({ id: e.id, leaked: false });
  });
});
