/**
 * SPEC §3 SSE: explicit ids, state payloads for the viewer, heartbeats, resume with
 * Last-Event-ID without loss or duplicates, and an explicit reset when the id is too old.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compareChangeIds } from '../../src/application/ports/change-feed.js';
import { client } from '../support/http.js';
import { SseClient } from '../support/sse-client.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

describe('Server-Sent Events', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let alice: string, bob: string, admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    api = client(t.url);
    alice = await t.employee('alice');
    bob = await t.employee('bob');
    admin = await t.employee('grace', 'hotel-a', 'admin');
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
  });
  afterAll(() => t.stop());

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  it('resumes after ten changes with exactly what happened, nothing lost, nothing twice', async () => {
    const witness = await SseClient.open(`${t.url}/v1/stream`, auth(bob)); // never disconnects
    const resumer = await SseClient.open(`${t.url}/v1/stream`, auth(bob));
    await witness.waitFor((es) => es.some((e) => e.event === 'ready'));
    await resumer.waitFor((es) => es.some((e) => e.event === 'ready'));

    const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Ivy' })).body;
    await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    await resumer.waitFor((es) => es.some((e) => e.event === 'conversation.updated' && e.data.conversation.ticket?.status === 'open'));
    const lastSeen = resumer.lastEventId!;
    resumer.close();

    // Ten changes while disconnected.
    await api.post(`/v1/conversations/${guest.conversationId}/take-over`, alice);
    for (let i = 1; i <= 8; i++) await api.post(`/v1/conversations/${guest.conversationId}/messages`, alice, { text: `reply ${i}` });
    const closed = await api.post(`/v1/conversations/${guest.conversationId}/close`, alice);
    await witness.waitFor((es) => es.some((e) => e.event === 'conversation.updated' && e.data.conversation.ticket?.status === 'closed'));

    const resumed = await SseClient.open(`${t.url}/v1/stream`, { ...auth(bob), 'last-event-id': lastSeen });
    const expected = witness.events.filter((e) => e.id && compareChangeIds(e.id, lastSeen) > 0 && e.event !== 'ready');
    await resumed.waitFor((es) => es.length >= expected.length);
    await new Promise((r) => setTimeout(r, 200)); // anything extra would arrive now
    resumed.close();
    witness.close();

    expect(resumed.events.map((e) => [e.id, e.event])).toEqual(expected.map((e) => [e.id, e.event]));
    expect(new Set(resumed.events.map((e) => e.id)).size).toBe(resumed.events.length);
    const replies = resumed.of('message.created').map((e) => e.data.message.text);
    expect(replies).toEqual(Array.from({ length: 8 }, (_, i) => `reply ${i + 1}`));
    const final = resumed.of('conversation.updated').at(-1)!.data.conversation;
    expect(final).toMatchObject({ ticket: { status: 'closed', ownerId: 'alice' }, badge: null });
    expect(final.position).toBe(closed.body.position);
    // Payloads are the viewer's: Bob saw "assigned", never "assigned_to_you".
    const badges = resumed.of('conversation.updated').map((e) => e.data.conversation.badge);
    expect(badges).toContain('assigned');
    expect(badges).not.toContain('assigned_to_you');
  });

  it('sends a reset event when Last-Event-ID is older than the feed holds', async () => {
    const stream = await SseClient.open(`${t.url}/v1/stream`, { ...auth(bob), 'last-event-id': '0-0' });
    await stream.waitFor((es) => es.length > 0);
    stream.close();
    expect(stream.events[0]).toMatchObject({ event: 'reset', data: { reason: 'last_event_id_too_old', refetch: true } });
    expect(stream.events[0]!.id).toMatch(/^\d+-\d+$/);
  });

  it('accepts a short-lived stream token in the query string and sends heartbeats', async () => {
    const { token } = (await api.post('/v1/stream-tokens', alice)).body;
    const stream = await SseClient.open(`${t.url}/v1/stream?access_token=${token}`);
    expect(stream.status).toBe(200);
    await stream.waitFor((es) => es.some((e) => e.event === 'ready'));
    await new Promise((r) => setTimeout(r, 1300)); // SSE_HEARTBEAT_MS=1000 in tests
    expect(stream.comments).toBeGreaterThanOrEqual(1);
    stream.close();
    const noToken = await SseClient.open(`${t.url}/v1/stream`);
    expect(noToken.status).toBe(401);
    noToken.close();
  });

  it('streams alerts only to their employee, and nothing of another property', async () => {
    await api.put('/v1/me/settings', alice, { incomingSupportRequests: true });
    const aliceStream = await SseClient.open(`${t.url}/v1/stream`, auth(alice));
    const bobStream = await SseClient.open(`${t.url}/v1/stream`, auth(bob));
    const otherProperty = await SseClient.open(`${t.url}/v1/stream`, auth(await t.employee('zed', 'hotel-b')));
    for (const s of [aliceStream, bobStream, otherProperty]) await s.waitFor((es) => es.some((e) => e.event === 'ready'));
    const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Max' })).body;
    await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    await aliceStream.waitFor((es) => es.some((e) => e.event === 'alert.created'));
    await bobStream.waitFor((es) => es.some((e) => e.event === 'conversation.updated' && e.data.conversation.id === guest.conversationId));
    await new Promise((r) => setTimeout(r, 100));
    expect(aliceStream.of('alert.created')[0]!.data.alert).toMatchObject({ kind: 'incoming_support_request', conversationId: guest.conversationId });
    expect(bobStream.of('alert.created')).toEqual([]);
    expect(otherProperty.events.filter((e) => e.event !== 'ready')).toEqual([]);
    [aliceStream, bobStream, otherProperty].forEach((s) => s.close());
  });
});
