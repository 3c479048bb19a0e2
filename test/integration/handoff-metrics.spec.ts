/**
 * Hand-off metrics and the settings history through HTTP on real SQLite, with a test clock
 * (`LCT_TEST_CLOCK_FILE`): every command is stamped with a time the test set, so each figure
 * can be computed by hand. The clock stands still between writes, so AVA's answers and the
 * escalation watcher's events are stamped with the same known times.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { FILE_CLOCK_REREAD_MS, writeClockFile } from '../../src/adapters/clock/file-clock.js';
import { client, eventually } from '../support/http.js';
import { tempDir } from '../support/temp-dir.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

type Api = ReturnType<typeof client>;

const DAY1 = Date.parse('2030-06-01T08:00:00.000Z');
const DAY2 = Date.parse('2030-06-02T08:00:00.000Z');
const MIN = 60_000;

describe('hand-off metrics and settings history (in process, test clock)', () => {
  const tmp = tempDir('lct-handoff-metrics-');
  const clockFile = join(tmp.dir, 'clock');
  let t: TestApp;
  let api: Api;
  /** Moves the service's clock; it re-reads the file at most every FILE_CLOCK_REREAD_MS. */
  const setClock = async (at: Date) => {
    writeClockFile(clockFile, at);
    await new Promise((r) => setTimeout(r, FILE_CLOCK_REREAD_MS + 30));
  };

  beforeAll(async () => {
    await setClock(new Date(DAY1));
    t = await startTestApp({ LCT_TEST_CLOCK_FILE: clockFile }, join(tmp.dir, 'data'));
    api = client(t.url);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    tmp.cleanup();
  });

  /** One property, as its people and guests use the API. Every call checks its status and remembers the last position. */
  function hotel(propertyId: string) {
    let last = '0';
    const track = <T extends { status: number; body: any }>(r: T, status: number, what: string): T => {
      expect({ what, status: r.status, body: r.status === status ? 'ok' : r.body }).toEqual({ what, status, body: 'ok' });
      if (typeof r.body?.position === 'string' && BigInt(r.body.position) > BigInt(last)) last = r.body.position;
      return r;
    };
    const staff = async (id: string, name: string, role: 'agent' | 'admin' = 'agent') => t.tokens.employeeToken({ id, propertyId, role, name });
    return {
      staff,
      position: () => last,
      async guest(guestName: string) {
        const r = track(await api.post('/v1/guest/conversations', undefined, { propertyId, guestName }), 201, `start ${guestName}`);
        const g = { id: r.body.conversationId as string, token: r.body.guestToken as string };
        return {
          id: g.id,
          requestSupport: async () => track(await api.post(`/v1/guest/conversations/${g.id}/support-requests`, g.token), 201, `${guestName} asks`).body,
          write: async (text: string, ava: string) => {
            const w = track(await api.post(`/v1/guest/conversations/${g.id}/messages`, g.token, { text }), 201, `${guestName} writes`);
            expect({ text, ava: w.body.ava }).toEqual({ text, ava });
            return w.body;
          },
        };
      },
      act: async (token: string, id: string, action: string, body?: unknown, status = 200) =>
        track(await api.post(`/v1/conversations/${id}/${action}`, token, body), status, action).body,
      put: async (token: string, path: string, body: unknown) => track(await api.put(path, token, body), 200, `PUT ${path}`).body,
      get: async (token: string, path: string, status = 200) => track(await api.get(path, token), status, `GET ${path}`).body,
    };
  }

  /** The conversation's events of one type (its history, as ops sees it). */
  const historyOf = async (admin: string, id: string, type: string) => {
    const r = await api.get(`/v1/ops/conversations/${id}/history`, admin);
    expect(r.status).toBe(200);
    return (r.body.events as Array<{ type: string; data: Record<string, unknown> }>).filter((e) => e.type === type);
  };

  it('Metrics match hand-computed values for a scripted scenario with known timestamps', async () => {
    const at = (m: number) => new Date(DAY1 + m * MIN);
    const clock = (m: number) => setClock(at(m));
    const h = hotel('hotel-metrics');
    const grace = await h.staff('grace', 'Grace', 'admin');
    const alice = await h.staff('alice', 'Alice');
    const bob = await h.staff('bob', 'Bob');
    const other = hotel('hotel-elsewhere');
    const otherAdmin = await other.staff('olga', 'Olga', 'admin');
    const otherAgent = await other.staff('oscar', 'Oscar');

    // Eight days before: a ticket outside the default 7-day window (and outside 08:00–09:00).
    await setClock(new Date(DAY1 - 8 * 24 * 60 * MIN));
    await h.put(grace, '/v1/settings/live-chat', { requestSupportChat: true, chatMode: 'hybrid' });
    const old = await h.guest('Olaf Old');
    await old.requestSupport();
    await h.act(alice, old.id, 'take-over');
    await h.act(alice, old.id, 'close');
    await h.put(grace, '/v1/settings/live-chat', { requestSupportChat: false, chatMode: 'ai_only' });
    await h.put(alice, '/v1/me/settings', { closureMessage: { enabled: true, text: 'Thanks for chatting, Alice.' } });

    // 08:00 Gil asks for a person: Request Support Chat is off and the mode is ai_only.
    await clock(0);
    const gil = await h.guest('Gil Declined');
    expect((await gil.requestSupport()).declinedReasons).toEqual(['request_support_chat_off', 'chat_mode_not_hybrid']);
    // 08:01 Request Support Chat on, still ai_only: declined again, for the mode only.
    await clock(1);
    await h.put(grace, '/v1/settings/live-chat', { requestSupportChat: true });
    expect((await gil.requestSupport()).declinedReasons).toEqual(['chat_mode_not_hybrid']);
    // 08:02 hybrid; unattended tickets escalate after 5 minutes.
    await clock(2);
    await h.put(grace, '/v1/settings/live-chat', { chatMode: 'hybrid' });
    await h.put(grace, '/v1/settings/escalation', { escalateAfterMinutes: 5 });

    // 08:03 Ann chats with AVA first (AVA's answer is no human reply); another hotel's ticket opens.
    await clock(3);
    const ann = await h.guest('Ann');
    await ann.write('What time is breakfast?', 'replied');
    await other.put(otherAdmin, '/v1/settings/live-chat', { requestSupportChat: true, chatMode: 'hybrid' });
    const elsewhere = await other.guest('Eli Elsewhere');
    await elsewhere.requestSupport();
    await other.act(otherAgent, elsewhere.id, 'take-over');
    // 08:04 Ann asks for a person: ticket A opens; asking again is declined (ticket_already_active).
    await clock(4);
    expect((await ann.requestSupport()).ticketOpened).toBe(true);
    expect((await ann.requestSupport()).declinedReasons).toEqual(['ticket_already_active']);
    // 08:05 Ben asks AVA for a human: AVA opens ticket B (at his message's time).
    await clock(5);
    const ben = await h.guest('Ben');
    expect((await ben.write('I want to talk to a human', 'ticket_opened')).ticketOpened).toBe(true);
    // 08:06 Alice takes A over.
    await clock(6);
    await h.act(alice, ann.id, 'take-over');
    // 08:07 Cy asks: ticket C opens.
    await clock(7);
    const cy = await h.guest('Cy');
    await cy.requestSupport();
    // 08:08 Bob replies to the OPEN ticket B: take-over and first reply at one instant.
    await clock(8);
    await h.act(bob, ben.id, 'messages', { text: 'Hi Ben, Bob here.' }, 201);
    // 08:09 Alice answers Ann.
    await clock(9);
    await h.act(alice, ann.id, 'messages', { text: 'Hi Ann, Alice here.' }, 201);
    // 08:10 Bob releases B: back in the queue.
    await clock(10);
    await h.act(bob, ben.id, 'release');
    // 08:12 C has waited 5 minutes: escalated (the watcher stamps it with the clock: 08:12). Grace gives B to Alice.
    await clock(12);
    const [escalatedC] = await eventually(async () => {
      const e = await historyOf(grace, cy.id, 'TicketEscalated');
      return e.length > 0 ? e : undefined;
    }, 30_000, 'C to escalate');
    expect(escalatedC!.data).toMatchObject({ reason: 'open_unattended', at: at(12).toISOString() });
    await h.act(grace, ben.id, 'reassign', { employeeId: 'alice' });
    // 08:13 Alice takes C over. 08:14 Alice writes to Ben (B's second human reply); Cy writes.
    await clock(13);
    await h.act(alice, cy.id, 'take-over');
    await clock(14);
    await h.act(alice, ben.id, 'messages', { text: 'Alice here now.' }, 201);
    await cy.write('Hello?', 'not_answering');
    // 08:15 Grace gives C to Bob. 08:17 Bob answers Cy (C's first human reply).
    await clock(15);
    await h.act(grace, cy.id, 'reassign', { employeeId: 'bob' });
    await clock(17);
    await h.act(bob, cy.id, 'messages', { text: 'Bob here, sorry for the wait.' }, 201);
    // 08:20 Alice closes A (her closure message goes out in AVA's name). 08:21 Ann writes again: AVA answers.
    await clock(20);
    expect((await h.act(alice, ann.id, 'close')).closureMessageSent).toBe(true);
    await clock(21);
    await ann.write('One more thing: is the pool open?', 'replied');
    // 08:30 Grace (admin) closes B.
    await clock(30);
    await h.act(grace, ben.id, 'close');
    // 08:40 Dee asks: ticket D; nobody takes it; it escalates at 08:45.
    await clock(40);
    const dee = await h.guest('Dee');
    await dee.requestSupport();
    await clock(45);
    await eventually(async () => (await historyOf(grace, dee.id, 'TicketEscalated')).length === 1, 30_000, 'D to escalate');
    await clock(50);
    // The escalation events' positions are before this one: reading at it sees them too.
    await h.put(grace, '/v1/settings/escalation', { escalateAfterMinutes: null });
    const pos = h.position();

    const metrics = async (query: string, token = grace) => h.get(token, `/v1/ops/handoff-metrics?minPosition=${pos}${query}`);
    const stats = (count: number, p50: number | null, p90: number | null) => ({
      count,
      p50Ms: p50 === null ? null : p50 * MIN,
      p90Ms: p90 === null ? null : p90 * MIN,
    });
    const noDurations = { requestToTakeOver: stats(0, null, null), takeOverToFirstHumanReply: stats(0, null, null), requestToClose: stats(0, null, null) };

    // By hand, 08:00–09:00. Tickets A (opened 04), B (05), C (07), D (40):
    //   request → take-over: A 06−04 = 2, B 08−05 = 3, C 13−07 = 6 (D never)        → [2, 3, 6]: p50 3, p90 6
    //   take-over → first human reply: A 09−06 = 3, B 08−08 = 0, C 17−13 = 4        → [0, 3, 4]: p50 3, p90 4
    //     (AVA's answers at 03 and 21 and Alice's closure message at 20 are no replies)
    //   request → close: A 20−04 = 16, B 30−05 = 25                                 → [16, 25]: p50 16, p90 25
    //   released: B at 10; reassigned: B at 12, C at 15; escalated: C at 12, D at 45
    //   declined: Gil at 00 (off + not hybrid), Gil at 01 (not hybrid), Ann at 04 (already active)
    // First owners: A, C → Alice (C is Bob's now, but Alice took it from the queue); B → Bob.
    const full = await metrics(`&from=${encodeURIComponent(at(0).toISOString())}&to=${encodeURIComponent(at(60).toISOString())}`);
    const property = {
      counts: { opened: 4, takenOver: 3, closed: 2, released: 1, reassigned: 2, escalated: 2 },
      requestToTakeOver: stats(3, 3, 6),
      takeOverToFirstHumanReply: stats(3, 3, 4),
      requestToClose: stats(2, 16, 25),
      declined: { total: 3, byReason: { request_support_chat_off: 1, chat_mode_not_hybrid: 2, ticket_already_active: 1 } },
    };
    const aliceRow = {
      employeeId: 'alice',
      employeeName: 'Alice',
      counts: { opened: 2, takenOver: 2, closed: 1, released: 0, reassigned: 1, escalated: 1 },
      requestToTakeOver: stats(2, 2, 6),
      takeOverToFirstHumanReply: stats(2, 3, 4),
      requestToClose: stats(1, 16, 16),
    };
    const bobRow = {
      employeeId: 'bob',
      employeeName: 'Bob',
      counts: { opened: 1, takenOver: 1, closed: 1, released: 1, reassigned: 1, escalated: 0 },
      requestToTakeOver: stats(1, 3, 3),
      takeOverToFirstHumanReply: stats(1, 0, 0),
      requestToClose: stats(1, 25, 25),
    };
    expect(full).toEqual({ from: at(0).toISOString(), to: at(60).toISOString(), property, employees: [aliceRow, bobRow] });

    // Default window: the 7 days before now (08:50 by the service's clock): the same tickets, not the one of 8 days ago.
    expect(await metrics('')).toEqual({
      from: new Date(at(50).getTime() - 7 * 24 * 60 * MIN).toISOString(),
      to: at(50).toISOString(),
      property,
      employees: [aliceRow, bobRow],
    });

    // One employee: that row; the property whole.
    expect(await metrics(`&from=${encodeURIComponent(at(0).toISOString())}&to=${encodeURIComponent(at(60).toISOString())}&employeeId=bob`)).toEqual({
      ...full,
      employees: [bobRow],
    });
    expect((await metrics(`&from=${encodeURIComponent(at(0).toISOString())}&employeeId=nobody`)).employees).toEqual([
      { employeeId: 'nobody', employeeName: null, counts: { opened: 0, takenOver: 0, closed: 0, released: 0, reassigned: 0, escalated: 0 }, ...noDurations },
    ]);

    // As of 08:13 (exclusive): A, B, C opened; A taken 06, replied 09, not closed yet; B taken and replied 08,
    // released 10, reassigned 12; C escalated 12, not taken over yet (13 is not before 13).
    const early = await metrics(`&from=${encodeURIComponent(at(0).toISOString())}&to=${encodeURIComponent(at(13).toISOString())}`);
    expect(early.property).toEqual({
      counts: { opened: 3, takenOver: 2, closed: 0, released: 1, reassigned: 1, escalated: 1 },
      requestToTakeOver: stats(2, 2, 3),
      takeOverToFirstHumanReply: stats(2, 0, 3),
      requestToClose: stats(0, null, null),
      declined: property.declined,
    });
    expect(early.employees.map((e: { employeeId: string; counts: { opened: number } }) => [e.employeeId, e.counts.opened])).toEqual([
      ['alice', 1],
      ['bob', 1],
    ]);

    // A window with a time zone offset is the same instant: 10:04+02:00 = 08:04Z, so A (opened 08:04) is in, Gil's declines are not.
    const fromA = await metrics(`&from=${encodeURIComponent('2030-06-01T10:04:00+02:00')}&to=${encodeURIComponent(at(5).toISOString())}`);
    expect(fromA.property.counts.opened).toBe(1);
    expect(fromA.property.declined.total).toBe(1);

    // The other hotel sees only its own ticket.
    const theirs = await other.get(otherAdmin, `/v1/ops/handoff-metrics?minPosition=${pos}&from=${encodeURIComponent(at(0).toISOString())}`);
    expect(theirs.property.counts).toEqual({ opened: 1, takenOver: 1, closed: 0, released: 0, reassigned: 0, escalated: 0 });
    expect(theirs.employees.map((e: { employeeId: string }) => e.employeeId)).toEqual(['oscar']);

    // Errors: agents may not; bad times and ranges are 400 naming the field.
    expect((await api.get('/v1/ops/handoff-metrics', alice)).status).toBe(403);
    expect((await api.get('/v1/ops/handoff-metrics')).status).toBe(401);
    for (const [query, field] of [
      ['from=yesterday', 'from'],
      ['to=2030-W22', 'to'],
      [`from=${at(10).toISOString()}&to=${at(10).toISOString()}`, 'from'],
      [`from=${at(0).toISOString()}&to=${new Date(at(0).getTime() + 93 * 24 * 60 * MIN).toISOString()}`, 'to'],
      ['employeeId=has%20space', 'employeeId'],
      ['bogus=1', 'bogus'],
    ] as const) {
      const r = await api.get(`/v1/ops/handoff-metrics?${query}`, grace);
      expect({ query, status: r.status, field: r.body.details?.[0]?.field }).toEqual({ query, status: 400, field });
    }
  }, 120_000);

  it('`?at=` for a series of instants recorded during a scripted scenario returns exactly the state observed at each instant (conversation and settings)', async () => {
    const at = (m: number) => new Date(DAY2 + m * MIN);
    const h = hotel('hotel-as-of');
    const grace = await h.staff('grace', 'Grace', 'admin');
    const hank = await h.staff('hank', 'Hank', 'admin');
    const alice = await h.staff('alice', 'Alice');
    const bob = await h.staff('bob', 'Bob');
    let conversationId: string | null = null;

    /** The fields a history state shares with the inbox view (the inbox adds `assignedAt`/`closedAt`, messages, badge…). */
    const shared = (c: { guestName: string; startedAt: string; ticket: Record<string, unknown> | null }) => ({
      guestName: c.guestName,
      startedAt: c.startedAt,
      ticket: c.ticket && { id: c.ticket.id, status: c.ticket.status, ownerId: c.ticket.ownerId, ownerName: c.ticket.ownerName, openedAt: c.ticket.openedAt },
    });
    interface Observation {
      at: Date;
      conversation: ReturnType<typeof shared> | null;
      settings: Record<string, unknown>;
    }
    const observed: Observation[] = [];
    /** What an employee sees now (read models, at the last command's position), at the clock's instant. */
    const observe = async (instant: Date) => {
      const q = `?minPosition=${h.position()}`;
      const liveChat = await h.get(alice, `/v1/settings/live-chat${q}`);
      const push = await h.get(alice, `/v1/settings/push-notifications${q}`);
      const escalation = await h.get(alice, `/v1/settings/escalation${q}`);
      // The three settings GETs show one document: the same updatedAt/updatedBy (the last change of any of them).
      expect([push.updatedAt, escalation.updatedAt, push.updatedBy, escalation.updatedBy]).toEqual([
        liveChat.updatedAt,
        liveChat.updatedAt,
        liveChat.updatedBy,
        liveChat.updatedBy,
      ]);
      observed.push({
        at: instant,
        conversation: conversationId === null ? null : shared(await h.get(alice, `/v1/conversations/${conversationId}${q}`)),
        settings: {
          requestSupportChat: liveChat.requestSupportChat,
          chatMode: liveChat.chatMode,
          pushNotificationsEnabled: push.pushNotificationsEnabled,
          escalateAfterMinutes: escalation.escalateAfterMinutes,
          updatedAt: liveChat.updatedAt,
          updatedBy: liveChat.updatedBy,
        },
      });
    };
    /** At minute m: move the clock, do the step, observe. */
    const step = async (m: number, action: () => Promise<unknown>) => {
      await setClock(at(m));
      await action();
      await observe(at(m));
    };

    let guest: Awaited<ReturnType<typeof h.guest>>;
    await step(0, async () => undefined);
    await step(1, () => h.put(grace, '/v1/settings/live-chat', { requestSupportChat: true, chatMode: 'hybrid' }));
    await step(2, async () => {
      guest = await h.guest('Gwen');
      conversationId = guest.id;
      await guest.write('Do you have parking?', 'replied');
    });
    await step(3, () => h.put(grace, '/v1/settings/push-notifications', { pushNotificationsEnabled: true }));
    await step(4, () => guest.requestSupport());
    await step(5, () => h.act(alice, conversationId!, 'take-over'));
    await step(6, () => h.put(hank, '/v1/settings/escalation', { escalateAfterMinutes: 30 }));
    await step(7, () => h.act(alice, conversationId!, 'release'));
    await step(8, () => h.act(grace, conversationId!, 'reassign', { employeeId: 'bob' }));
    await step(9, () => h.put(hank, '/v1/settings/live-chat', { chatMode: 'ai_only' }));
    await step(10, () => h.act(bob, conversationId!, 'close'));
    await step(11, async () => {
      await h.put(grace, '/v1/settings/escalation', { escalateAfterMinutes: null });
      await h.put(grace, '/v1/settings/push-notifications', { pushNotificationsEnabled: false });
    });
    // Sanity: the scenario went through distinct states.
    // Tickets: none, open (again after the release), Alice's, Bob's, closed. Settings: defaults, then the changes at 1, 3, 6, 9, 11.
    expect(new Set(observed.map((o) => JSON.stringify(o.conversation?.ticket ?? null))).size).toBe(5);
    expect(new Set(observed.map((o) => JSON.stringify(o.settings))).size).toBe(6);

    const asOf = async (instant: Date) => {
      const iso = encodeURIComponent(instant.toISOString());
      const conversation = await h.get(grace, `/v1/ops/conversations/${conversationId}/history?at=${iso}`);
      const settings = await h.get(grace, `/v1/ops/settings/history?at=${iso}`);
      return {
        conversation: conversation.existed ? shared(conversation.state) : null,
        settings: { ...settings.settings, updatedAt: settings.updatedAt, updatedBy: settings.updatedBy },
      };
    };
    for (const o of observed) {
      // At the instant itself, and half a minute later (nothing happened in between): what was observed then.
      for (const instant of [o.at, new Date(o.at.getTime() + 30_000)]) {
        expect({ at: instant.toISOString(), ...(await asOf(instant)) }).toEqual({
          at: instant.toISOString(),
          conversation: o.conversation,
          settings: o.settings,
        });
      }
    }
    // Before anything: no conversation, the defaults.
    expect(await asOf(at(-1))).toEqual({
      conversation: null,
      settings: { requestSupportChat: false, chatMode: 'ai_only', pushNotificationsEnabled: false, escalateAfterMinutes: null, updatedAt: null, updatedBy: null },
    });

    // The whole settings history: every change in order, who made it (data and metadata), and the settings it left.
    const history = await h.get(grace, '/v1/ops/settings/history');
    expect(history.propertyId).toBe('hotel-as-of');
    const rows = (history.events as Array<{ type: string; data: Record<string, unknown>; metadata: { actor: { id: string } }; settings: unknown }>).map(
      (e) => [e.type, e.data.at, e.data.changedBy, e.metadata.actor.id],
    );
    expect(rows).toEqual([
      ['LiveChatSettingsChanged', at(1).toISOString(), 'grace', 'grace'],
      ['PushNotificationsSwitched', at(3).toISOString(), 'grace', 'grace'],
      ['EscalationSettingsChanged', at(6).toISOString(), 'hank', 'hank'],
      ['LiveChatSettingsChanged', at(9).toISOString(), 'hank', 'hank'],
      ['EscalationSettingsChanged', at(11).toISOString(), 'grace', 'grace'],
      ['PushNotificationsSwitched', at(11).toISOString(), 'grace', 'grace'],
    ]);
    // Each entry's `settings` is the state right after it: what was observed after that step.
    const after = (m: number) => {
      const { updatedAt: _a, updatedBy: _b, ...s } = observed.find((o) => o.at.getTime() === at(m).getTime())!.settings;
      return s;
    };
    expect(history.events.map((e: { settings: unknown }) => e.settings)).toEqual([
      after(1),
      after(3),
      after(6),
      after(9),
      { ...after(11), pushNotificationsEnabled: true },
      after(11),
    ]);
    const ndjson = await fetch(`${t.url}/v1/ops/settings/history`, { headers: { authorization: `Bearer ${grace}`, accept: 'application/x-ndjson' } });
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    expect((await ndjson.text()).trim().split('\n').map((l) => JSON.parse(l))).toEqual(history.events);

    // A property that never changed a setting has an empty history; agents may not read it.
    const fresh = await t.tokens.employeeToken({ id: 'new-admin', propertyId: 'hotel-untouched', role: 'admin', name: 'New' });
    expect((await api.get('/v1/ops/settings/history', fresh)).body).toEqual({ propertyId: 'hotel-untouched', events: [] });
    expect((await api.get('/v1/ops/settings/history', alice)).status).toBe(403);
    expect((await api.get('/v1/ops/settings/history?at=yesterday', grace)).status).toBe(400);
  }, 120_000);
});
