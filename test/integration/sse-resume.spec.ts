/**
 * SPEC §3 SSE: explicit ids, state payloads for the viewer, heartbeats, resume with
 * Last-Event-ID without loss or duplicates, and an explicit reset when the id is too old.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { compareChangeIds } from '../../src/application/ports/change-feed.js';
import { client, eventually } from '../support/http.js';
import { type SseEvent, SseClient } from '../support/sse-client.js';
import { tempDir } from '../support/temp-dir.js';
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
    const replies = resumed.of('message.created').filter((e) => e.data.message.author === 'employee').map((e) => e.data.message.text);
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

  /**
   * SPEC §3 Operability: "an id the server cannot resume from (too old, malformed, or ahead of
   * the log) gets `reset`, never silence". After the reset the stream is a fresh one: `ready`
   * with the same id, then live events.
   */
  describe('an id the server cannot resume from', () => {
    // A stream left open would keep an app from stopping: close every one, also after a failure.
    const opened: SseClient[] = [];
    const open = async (url: string, headers: Record<string, string> = {}) => {
      const stream = await SseClient.open(url, headers);
      opened.push(stream);
      return stream;
    };
    const closeAll = () => opened.splice(0).forEach((s) => s.close());
    afterEach(closeAll);

    const resetThenReady = (events: SseEvent[], reason: string) => {
      expect(events.slice(0, 2).map((e) => [e.event, e.data])).toEqual([
        ['reset', { reason, refetch: true }],
        ['ready', {}],
      ]);
      expect(events[0]!.id).toMatch(/^\d{1,19}-\d{1,9}$/);
      expect(events[1]!.id).toBe(events[0]!.id);
    };

    it.each([
      ['ahead of the log (Last-Event-ID header)', { 'last-event-id': '999999-0' }, '', 'last_event_id_ahead'],
      ['ahead of the log (?lastEventId=)', {}, '?lastEventId=999999-0', 'last_event_id_ahead'],
      ['malformed (Last-Event-ID header)', { 'last-event-id': 'abc' }, '', 'last_event_id_malformed'],
      ['malformed (?lastEventId=)', {}, '?lastEventId=abc', 'last_event_id_malformed'],
    ])('%s: the employee stream answers reset, ready, then live events', async (_what, headers, query, reason) => {
      const stream = await open(`${t.url}/v1/stream${query}`, { ...auth(bob), ...headers });
      expect(stream.status).toBe(200);
      await stream.waitFor((es) => es.some((e) => e.event === 'ready'), 3000);
      const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Noa' })).body;
      await stream.waitFor((es) => es.some((e) => e.event === 'conversation.updated' && e.data.conversation.id === guest.conversationId), 3000);
      stream.close();
      resetThenReady(stream.events, reason);
      expect(compareChangeIds(stream.events.at(-1)!.id!, stream.events[0]!.id!)).toBeGreaterThan(0);
    });

    it.each([
      ['ahead of the log', '999999-0', 'last_event_id_ahead'],
      ['malformed', 'abc', 'last_event_id_malformed'],
    ])('%s: the guest stream answers reset, ready, then live events', async (_what, lastEventId, reason) => {
      const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Oli' })).body;
      const path = `${t.url}/v1/guest/conversations/${guest.conversationId}/stream`;
      const byHeader = await open(path, { ...auth(guest.guestToken), 'last-event-id': lastEventId });
      const byQuery = await open(`${path}?lastEventId=${lastEventId}`, auth(guest.guestToken));
      for (const s of [byHeader, byQuery]) await s.waitFor((es) => es.some((e) => e.event === 'ready'), 3000);
      await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text: 'still there?' });
      for (const s of [byHeader, byQuery]) {
        await s.waitFor((es) => es.some((e) => e.event === 'message.created' && e.data.message.text === 'still there?'), 3000);
        s.close();
        resetThenReady(s.events, reason);
      }
    });

    it('an id from a store that was reset (another, younger log) is ahead: reset, ready, live events', async () => {
      const witness = await open(`${t.url}/v1/stream`, auth(bob));
      await witness.waitFor((es) => es.some((e) => e.event === 'ready'));
      await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Quin' });
      await witness.waitFor((es) => es.some((e) => e.event === 'conversation.updated'));
      const seen = witness.lastEventId!;
      witness.close();
      const younger = await startTestApp();
      try {
        const stream = await open(`${younger.url}/v1/stream`, { ...auth(await younger.employee('bob')), 'last-event-id': seen });
        await stream.waitFor((es) => es.some((e) => e.event === 'ready'), 3000);
        await client(younger.url).post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Pam' });
        await stream.waitFor((es) => es.some((e) => e.event === 'conversation.updated'), 3000);
        stream.close();
        resetThenReady(stream.events, 'last_event_id_ahead');
      } finally {
        closeAll();
        await younger.stop();
      }
    });

    it('keeps ids valid across a restart of the embedded service: an id from before it resumes with what was missed, no reset', async () => {
      const tmp = tempDir('lct-sse-restart-');
      try {
        let app = await startTestApp({}, tmp.dir);
        const before = await open(`${app.url}/v1/stream`, auth(await app.employee('bob')));
        await client(app.url).post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Rae' });
        await before.waitFor((es) => es.some((e) => e.event === 'conversation.updated'));
        const oldId = before.lastEventId!;
        closeAll();
        // Missed while the client was away: one change before the restart, one after.
        const missedBefore = (await client(app.url).post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Uma' })).body;
        await eventually(async () => (await app.adapters.changeFeed.readAfter(oldId, 10)).entries.length > 0, 5000, 'the missed change in the feed');
        await app.stop();

        app = await startTestApp({}, tmp.dir);
        try {
          const token = await app.employee('bob');
          const missedAfter = (await client(app.url).post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Sol' })).body;
          const resumed = await open(`${app.url}/v1/stream`, { ...auth(token), 'last-event-id': oldId });
          const updated = (id: string) => resumed.events.some((e) => e.event === 'conversation.updated' && e.data.conversation.id === id);
          await resumed.waitFor(() => updated(missedBefore.conversationId) && updated(missedAfter.conversationId), 5000);
          resumed.close();
          expect(resumed.events.map((e) => e.event)).not.toContain('reset');
          expect(resumed.events.map((e) => e.event)).not.toContain('ready');
          expect(resumed.events.every((e) => compareChangeIds(e.id!, oldId) > 0)).toBe(true);
        } finally {
          closeAll();
          await app.stop();
        }
      } finally {
        tmp.cleanup();
      }
    });
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
