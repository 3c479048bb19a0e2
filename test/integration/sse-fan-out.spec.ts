/**
 * Many SSE streams on one instance (issue 10): the fan-out renders a change once per viewer
 * kind and writes it to each stream, yet every stream still gets exactly its own view (badge
 * and actions for its employee, the guest view without employee ids, nothing for another
 * property or conversation), once, in order; idle streams keep their heartbeats (one shared
 * timer); an HTTP/1.0 client (no chunked encoding) gets a plain stream.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { client, eventually } from '../support/http.js';
import { SseClient } from '../support/sse-client.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

describe('SSE fan-out to many streams', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  const opened: SseClient[] = [];

  beforeAll(async () => {
    // Caps out of the way: this suite opens many streams per principal from one address.
    t = await startTestApp({ SSE_HEARTBEAT_MS: '300', SSE_MAX_STREAMS_PER_PRINCIPAL: '0', SSE_MAX_STREAMS_PER_ADDRESS: '0' });
    api = client(t.url);
    const admin = await t.employee('fan-setup', 'hotel-a', 'admin');
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
  });
  afterAll(async () => {
    for (const s of opened) s.close();
    await t.stop();
  });

  const open = async (path: string, token: string) => {
    const stream = await SseClient.open(`${t.url}${path}`, { authorization: `Bearer ${token}` });
    opened.push(stream);
    expect(stream.status).toBe(200);
    return stream;
  };
  const ready = (streams: SseClient[]) => Promise.all(streams.map((s) => s.waitFor((es) => es.some((e) => e.event === 'ready'), 15000)));
  const ticket = async (guestName: string) => {
    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName })).body;
    await api.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken);
    return g as { conversationId: string; guestToken: string };
  };
  const at = (stream: SseClient, position: string) => stream.events.filter((e) => e.id?.split('-')[0] === position);

  it('gives every stream exactly its view of one change: owner, agents, admins, guests; nothing to another property or conversation', async () => {
    const guest = await ticket('Fan Guest');
    const otherGuest = await ticket('Other Guest');
    const [alice, bob, carol, grace, kim] = await Promise.all([
      t.employee('fan-alice'),
      t.employee('fan-bob'),
      t.employee('fan-carol'),
      t.employee('fan-grace', 'hotel-a', 'admin'),
      t.employee('fan-kim', 'hotel-k'),
    ]);
    const many = (n: number, path: string, token: string) => Promise.all(Array.from({ length: n }, () => open(path, token)));
    const groups = {
      owner: await many(5, '/v1/stream', alice!),
      agents: [...(await many(10, '/v1/stream', bob!)), ...(await many(10, '/v1/stream', carol!))],
      admins: await many(5, '/v1/stream', grace!),
      guests: await many(10, `/v1/guest/conversations/${guest.conversationId}/stream`, guest.guestToken),
      otherProperty: await many(5, '/v1/stream', kim!),
      otherConversation: await many(5, `/v1/guest/conversations/${otherGuest.conversationId}/stream`, otherGuest.guestToken),
    };
    await ready(Object.values(groups).flat());

    const takeOver = await api.post(`/v1/conversations/${guest.conversationId}/take-over`, alice);
    expect(takeOver.status).toBe(200);
    const position: string = takeOver.body.position;
    const receivers = [...groups.owner, ...groups.agents, ...groups.admins, ...groups.guests];
    await Promise.all(receivers.map((s) => s.waitFor(() => at(s, position).some((e) => e.event === 'conversation.updated'), 15000)));
    // Markers the control streams may see, published after the take-over: once they arrive, the take-over would have too (feed order).
    await api.post(`/v1/guest/conversations/${otherGuest.conversationId}/messages`, otherGuest.guestToken, { text: 'marker' });
    const kimTicket = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-k', guestName: 'Kim Guest' })).body;
    await api.post(`/v1/guest/conversations/${kimTicket.conversationId}/support-requests`, kimTicket.guestToken);
    await Promise.all(groups.otherConversation.map((s) => s.waitFor((es) => es.some((e) => e.event === 'message.created' && e.data.message.text === 'marker'), 15000)));
    await Promise.all(groups.otherProperty.map((s) => s.waitFor((es) => es.some((e) => e.event === 'conversation.updated' && e.data.conversation.id === kimTicket.conversationId), 15000)));
    for (const s of [...groups.otherProperty, ...groups.otherConversation]) expect(at(s, position)).toEqual([]);

    const updateOf = (s: SseClient) => {
      const updates = at(s, position).filter((e) => e.event === 'conversation.updated');
      expect(updates).toHaveLength(1); // once, not once per viewer kind or per stream
      return updates[0]!.data.conversation;
    };
    // Every stream of a viewer kind gets the same view, and it is the one REST gives that viewer.
    const viewOf = async (streams: SseClient[], token: string) => {
      const views = streams.map(updateOf);
      for (const v of views) expect(v).toEqual(views[0]);
      const rest = (await api.get(`/v1/conversations/${guest.conversationId}`, token)).body;
      expect(views[0]).toMatchObject({ badge: rest.badge, actions: rest.actions, ticket: rest.ticket });
      return views[0];
    };
    expect(await viewOf(groups.owner, alice!)).toMatchObject({ badge: 'assigned_to_you', actions: { reply: true, close: true, release: true, takeOver: false, reassign: false } });
    expect(await viewOf(groups.agents, bob!)).toMatchObject({ badge: 'assigned', actions: { reply: false, close: false, release: false, takeOver: false, reassign: false } });
    expect(await viewOf(groups.agents.slice(10), carol!)).toMatchObject({ badge: 'assigned' });
    expect(await viewOf(groups.admins, grace!)).toMatchObject({ badge: 'assigned', actions: { close: true, release: true, reassign: true, reply: false } });

    const guestViews = groups.guests.map(updateOf);
    for (const v of guestViews) expect(v).toEqual(guestViews[0]);
    expect(guestViews[0]).toMatchObject({ id: guest.conversationId, support: 'agent_joined' });
    for (const s of groups.guests) {
      // No employee id anywhere in what a guest received (SPEC §2); the display name is fine.
      const text = JSON.stringify(s.events.map((e) => e.data));
      expect(text).not.toContain('"fan-alice"');
      expect(text).not.toMatch(/"(ownerId|employeeId)"/);
      expect(s.events.every((e) => e.event !== 'alert.created')).toBe(true);
    }
  }, 60000);

  it('keeps the heartbeats of idle streams, each with its own, while other streams come and go', async () => {
    const token = await t.employee('fan-idle');
    const idle = await Promise.all(Array.from({ length: 25 }, () => open('/v1/stream', token)));
    await ready(idle);
    // Streams leaving meanwhile must not stop the others' heartbeats.
    const leaving = await Promise.all(Array.from({ length: 10 }, () => open('/v1/stream', token)));
    await ready(leaving);
    for (const s of leaving) s.close();
    const before = idle.map((s) => s.comments);
    await Promise.all(idle.map((s, i) => eventually(async () => s.comments >= before[i]! + 2, 15000, 'two more heartbeats')));
    for (const s of idle) expect(s.commentLines.filter((l) => l.startsWith('heartbeat')).length).toBeGreaterThanOrEqual(2);
  }, 30000);

  it('sends an HTTP/1.0 client (no chunked encoding) the plain stream', async () => {
    const token = await t.employee('fan-http10');
    const { port } = new URL(t.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d));
    socket.write(`GET /v1/stream HTTP/1.0\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    try {
      await eventually(async () => /: heartbeat \d+\n\n/.test(text), 15000, 'a heartbeat');
      const [head, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
      expect(head).toMatch(/^HTTP\/1\.1 200/);
      expect(head.toLowerCase()).not.toContain('transfer-encoding: chunked');
      expect(body).toMatch(/^retry: 2000\n\nid: \d+-\d+\nevent: ready\ndata: \{\}\n\n/);
    } finally {
      socket.destroy();
    }
  }, 30000);
});
