/**
 * Troubleshooting made executable, through HTTP on real SQLite: `GET /v1/diagnostics` answers
 * the help page's three questions — per failing cause the right check fails with what was
 * seen and the fix, and with everything in order every check passes — the support bundle
 * (`GET /v1/ops/conversations/{id}/support-bundle`) and the search by guest name. Pushes go
 * to web-push-testing, a real push service.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateVapidKeys } from '../../src/adapters/web-push/vapid.js';
import { client, eventually } from '../support/http.js';
import { type PushService, type PushSubscriptionJson, startPushService } from '../support/push-service.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

type Api = ReturnType<typeof client>;
interface Check {
  id: string;
  label: string;
  ok: boolean | null;
  observed: any;
  fix: string | null;
  note: string | null;
}
type QuestionId = 'no_open_ticket' | 'close_ticket_missing' | 'alerts_not_arriving';
interface Diagnostics {
  employee: { id: string; name: string; role: string };
  conversationId: string | null;
  questions: Record<QuestionId, { title: string; ok: boolean; checks: Check[] }>;
}

const checkOf = (d: Diagnostics, q: QuestionId, id: string): Check => {
  const c = d.questions[q].checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${q}`);
  return c;
};
const expectFails = (d: Diagnostics, q: QuestionId, id: string, observed: unknown, ...fixSays: string[]) => {
  const c = checkOf(d, q, id);
  expect({ id, ok: c.ok, observed: c.observed }).toEqual({ id, ok: false, observed });
  for (const words of fixSays) expect(c.fix).toContain(words);
  expect(d.questions[q].ok).toBe(false);
};
const expectAllPass = (d: Diagnostics, q: QuestionId) => {
  expect(d.questions[q].checks.map((c) => ({ id: c.id, ok: c.ok, fix: c.fix }))).toEqual(
    d.questions[q].checks.map((c) => ({ id: c.id, ok: true, fix: null })),
  );
  expect(d.questions[q].ok).toBe(true);
};

/** One test app (and one push service) for the whole file; each test gets a property of its own. */
function harness(env: Record<string, string>) {
  const h = {} as { t: TestApp; api: Api };
  let head = 0n;
  const track = <T extends { body: any }>(r: T): T => {
    const p = r.body?.position;
    if (typeof p === 'string' && BigInt(p) > head) head = BigInt(p);
    return r;
  };

  beforeAll(async () => {
    h.t = await startTestApp(env);
    h.api = client(h.t.url);
  }, 60_000);
  afterAll(() => h.t?.stop());

  const helpers = {
    h,
    track,
    /** The newest position any command here answered with: reads wait for it (read-your-writes). */
    head: () => head.toString(),
    async liveChat(admin: string, settings: { requestSupportChat?: boolean; chatMode?: string }) {
      const r = track(await h.api.put('/v1/settings/live-chat', admin, settings));
      expect(r.status).toBe(200);
    },
    async pushSwitch(admin: string, on: boolean) {
      expect(track(await h.api.put('/v1/settings/push-notifications', admin, { pushNotificationsEnabled: on })).status).toBe(200);
    },
    async property(propertyId: string, s: { requestSupportChat: boolean; chatMode: string; push?: boolean }) {
      const admin = await h.t.employee(`admin-${propertyId}`, propertyId, 'admin');
      // Saved even when unchanged (it then appends no setting): an admin's save makes the property known to guests.
      await helpers.liveChat(admin, { requestSupportChat: s.requestSupportChat, chatMode: s.chatMode });
      if (s.push) await helpers.pushSwitch(admin, true);
      return admin;
    },
    /** An employee who saved these toggles (recipients are known from saved settings). */
    async employee(id: string, propertyId: string, toggles: { incoming: boolean; activity: boolean }, role: 'agent' | 'admin' = 'agent') {
      const token = await h.t.employee(id, propertyId, role);
      if (!toggles.incoming && !toggles.activity) track(await h.api.put('/v1/me/settings', token, { incomingSupportRequests: true }));
      const r = track(await h.api.put('/v1/me/settings', token, { incomingSupportRequests: toggles.incoming, assignedChatActivity: toggles.activity }));
      expect(r.status).toBe(200);
      return token;
    },
    async guest(propertyId: string, guestName = 'Tom') {
      const r = track(await h.api.post('/v1/guest/conversations', undefined, { propertyId, guestName }));
      expect(r.status).toBe(201);
      return r.body as { conversationId: string; guestToken: string };
    },
    async ask(g: { conversationId: string; guestToken: string }) {
      const r = track(await h.api.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken));
      expect(r.status).toBe(201);
      return r.body as { ticketOpened: boolean; declinedReasons?: string[] };
    },
    async command(path: string, token: string, body?: unknown) {
      const r = track(await h.api.post(path, token, body));
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
      return r.body;
    },
    async diagnostics(token: string, conversationId?: string): Promise<Diagnostics> {
      const q = new URLSearchParams({ minPosition: head.toString(), ...(conversationId ? { conversationId } : {}) });
      const r = await h.api.get(`/v1/diagnostics?${q}`, token);
      expect(r.status).toBe(200);
      return r.body as Diagnostics;
    },
    /** Diagnostics once the push worker has decided (and delivered) this employee's alert on the conversation. */
    async settledDiagnostics(token: string, conversationId: string, settled: (c: Check) => boolean = (c) => c.ok !== null) {
      return eventually(async () => {
        const d = await helpers.diagnostics(token, conversationId);
        return settled(checkOf(d, 'alerts_not_arriving', 'alert_decision')) ? d : undefined;
      }, 20_000, `the alert decision for ${conversationId}`);
    },
  };
  return helpers;
}

describe('diagnostics through the API', () => {
  const vapid = generateVapidKeys();
  let push: PushService;
  beforeAll(async () => {
    push = await startPushService();
  }, 60_000);
  afterAll(() => push?.stop());

  const x = harness({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOW_HTTP_ENDPOINTS: 'true' });
  const api = () => x.h.api;
  const t = () => x.h.t;
  async function subscribe(token: string, subscription: PushSubscriptionJson) {
    expect(x.track(await api().post('/v1/me/push-subscriptions', token, subscription)).status).toBe(201);
  }

  describe('No Open ticket badge appears', () => {
    it('passes every check when the guest asked and the ticket is open', async () => {
      await x.property('nb-ok', { requestSupportChat: true, chatMode: 'hybrid' });
      const alice = await t().employee('alice', 'nb-ok');
      const g = await x.guest('nb-ok');
      expect((await x.ask(g)).ticketOpened).toBe(true);
      const d = await x.diagnostics(alice, g.conversationId);
      expectAllPass(d, 'no_open_ticket');
      expect(checkOf(d, 'no_open_ticket', 'ticket_state').observed).toBe('open');
      expect(checkOf(d, 'no_open_ticket', 'support_requested').observed).toBe(1);
    });

    it('fails request_support_chat when it is off, and the declined request says so', async () => {
      await x.property('nb-rsc', { requestSupportChat: false, chatMode: 'hybrid' });
      const alice = await t().employee('alice', 'nb-rsc');
      const g = await x.guest('nb-rsc');
      expect(await x.ask(g)).toMatchObject({ ticketOpened: false, declinedReasons: ['request_support_chat_off'] });
      const d = await x.diagnostics(alice, g.conversationId);
      expectFails(d, 'no_open_ticket', 'request_support_chat', false, 'Ask an admin to turn on Settings → Live Chat → Request Support Chat.');
      expect(checkOf(d, 'no_open_ticket', 'chat_mode_hybrid')).toMatchObject({ ok: true, observed: 'hybrid' });
      expectFails(
        d,
        'no_open_ticket',
        'declined_request',
        expect.objectContaining({ outcome: 'declined', reasons: ['request_support_chat_off'], settingsThen: { requestSupportChat: false, chatMode: 'hybrid' } }),
        'Request Support Chat was off',
        'has to ask again',
      );
      expectFails(d, 'no_open_ticket', 'ticket_state', 'none', 'There is no ticket');
    });

    it('fails chat_mode_hybrid with the mode seen', async () => {
      await x.property('nb-mode', { requestSupportChat: true, chatMode: 'ai_only' });
      const alice = await t().employee('alice', 'nb-mode');
      const g = await x.guest('nb-mode');
      await x.ask(g);
      const d = await x.diagnostics(alice, g.conversationId);
      expectFails(d, 'no_open_ticket', 'chat_mode_hybrid', 'ai_only', 'Settings → Live Chat → Chat mode', '“AI + live chat”');
      expect(checkOf(d, 'no_open_ticket', 'request_support_chat').ok).toBe(true);
      expect(checkOf(d, 'no_open_ticket', 'declined_request').fix).toContain('the chat mode was “AI only”');
    });

    it('fails support_requested when the guest never asked', async () => {
      await x.property('nb-ask', { requestSupportChat: true, chatMode: 'hybrid' });
      const alice = await t().employee('alice', 'nb-ask');
      const g = await x.guest('nb-ask', 'Quiet Quentin');
      const d = await x.diagnostics(alice, g.conversationId);
      expectFails(d, 'no_open_ticket', 'support_requested', 0, 'Quiet Quentin has not asked for a person');
      expect(checkOf(d, 'no_open_ticket', 'declined_request').ok).toBeNull();
    });

    it('fails ticket_state when a colleague took the ticket over, by name', async () => {
      await x.property('nb-taken', { requestSupportChat: true, chatMode: 'hybrid' });
      const alice = await t().employee('alice', 'nb-taken');
      const bob = await t().employee('bob', 'nb-taken');
      const g = await x.guest('nb-taken');
      await x.ask(g);
      await x.command(`/v1/conversations/${g.conversationId}/take-over`, bob);
      const d = await x.diagnostics(alice, g.conversationId);
      expectFails(d, 'no_open_ticket', 'ticket_state', 'assigned', 'Employee bob took this ticket over', '“Assigned”');
    });

    it('fails ticket_state when the ticket is closed, by whom', async () => {
      await x.property('nb-closed', { requestSupportChat: true, chatMode: 'hybrid' });
      const alice = await t().employee('alice', 'nb-closed');
      const g = await x.guest('nb-closed');
      await x.ask(g);
      await x.command(`/v1/conversations/${g.conversationId}/take-over`, alice);
      await x.command(`/v1/conversations/${g.conversationId}/close`, alice);
      const d = await x.diagnostics(alice, g.conversationId);
      expectFails(d, 'no_open_ticket', 'ticket_state', 'closed', 'by Employee alice', 'asks for a person again');
    });

    it('declined, then fixed: the settings pass, the request was made before and the guest must ask again; asking again opens the ticket', async () => {
      const admin = await x.property('nb-fixed', { requestSupportChat: false, chatMode: 'ai_only' });
      const alice = await t().employee('alice', 'nb-fixed');
      const g = await x.guest('nb-fixed');
      expect(await x.ask(g)).toMatchObject({ ticketOpened: false, declinedReasons: ['request_support_chat_off', 'chat_mode_not_hybrid'] });
      const before = await x.diagnostics(alice, g.conversationId);
      expectFails(before, 'no_open_ticket', 'request_support_chat', false);
      expectFails(before, 'no_open_ticket', 'chat_mode_hybrid', 'ai_only');
      const declinedAt = checkOf(before, 'no_open_ticket', 'declined_request').observed.at as string;

      await x.liveChat(admin, { requestSupportChat: true, chatMode: 'hybrid' });
      const fixedAt = (await api().get('/v1/settings/live-chat', admin)).body.updatedAt as string;
      const after = await x.diagnostics(alice, g.conversationId);
      expect(checkOf(after, 'no_open_ticket', 'request_support_chat')).toMatchObject({ ok: true, observed: true });
      expect(checkOf(after, 'no_open_ticket', 'chat_mode_hybrid')).toMatchObject({ ok: true, observed: 'hybrid' });
      expectFails(
        after,
        'no_open_ticket',
        'declined_request',
        {
          outcome: 'declined',
          at: declinedAt,
          reasons: ['request_support_chat_off', 'chat_mode_not_hybrid'],
          settingsThen: { requestSupportChat: false, chatMode: 'ai_only' },
          origin: 'guest',
          fixedAt,
          fixedBy: 'admin-nb-fixed',
        },
        `The guest asked for a person at ${declinedAt}, but Request Support Chat was off and the chat mode was “AI only”`,
        `fixed later (at ${fixedAt}, by admin-nb-fixed)`,
        'ask the guest to ask for a person again',
      );

      expect((await x.ask(g)).ticketOpened).toBe(true);
      expectAllPass(await x.diagnostics(alice, g.conversationId), 'no_open_ticket');
    });

    it('checks the settings without a conversation and says the rest needs one', async () => {
      await x.property('nb-none', { requestSupportChat: false, chatMode: 'hybrid' });
      const alice = await t().employee('alice', 'nb-none');
      const d = await x.diagnostics(alice);
      expect(d.conversationId).toBeNull();
      expect(d.employee).toEqual({ id: 'alice', name: 'Employee alice', role: 'agent' });
      expect(checkOf(d, 'no_open_ticket', 'request_support_chat').ok).toBe(false);
      expect(checkOf(d, 'no_open_ticket', 'ticket_state')).toMatchObject({ ok: null, observed: null, fix: expect.stringContaining('conversation') });
    });
  });

  describe('Close Ticket is missing', () => {
    let alice: string, bob: string, admin: string;
    beforeAll(async () => {
      admin = await x.property('ct', { requestSupportChat: true, chatMode: 'hybrid' });
      alice = await t().employee('alice', 'ct');
      bob = await t().employee('bob', 'ct');
    });
    const ticket = async () => {
      const g = await x.guest('ct');
      await x.ask(g);
      return g.conversationId;
    };

    it('passes every check for the owner', async () => {
      const id = await ticket();
      await x.command(`/v1/conversations/${id}/take-over`, alice);
      const d = await x.diagnostics(alice, id);
      expectAllPass(d, 'close_ticket_missing');
      expect(checkOf(d, 'close_ticket_missing', 'ticket_owner').observed).toBe('Employee alice');
    });

    it('fails ticket_state when there is no ticket', async () => {
      const g = await x.guest('ct');
      expectFails(await x.diagnostics(alice, g.conversationId), 'close_ticket_missing', 'ticket_state', 'none', 'nothing to close');
    });

    it('fails ticket_state when the ticket is not assigned yet (take it over first)', async () => {
      const id = await ticket();
      expectFails(await x.diagnostics(alice, id), 'close_ticket_missing', 'ticket_state', 'open', 'take it over');
      // An admin may close an open ticket: for them it passes.
      expect((await x.diagnostics(admin, id)).questions.close_ticket_missing.ok).toBe(true);
    });

    it("fails ticket_owner with the owner's name when it is someone else's and you are not an admin", async () => {
      const id = await ticket();
      await x.command(`/v1/conversations/${id}/take-over`, bob);
      expectFails(
        await x.diagnostics(alice, id),
        'close_ticket_missing',
        'ticket_owner',
        'Employee bob',
        'assigned to Employee bob',
        'you are not its owner and not an admin',
      );
      // The same ticket for an admin: Close Ticket is there.
      expectAllPass(await x.diagnostics(admin, id), 'close_ticket_missing');
    });

    it('names the owner of a reassigned ticket by the name last seen, not the id', async () => {
      const id = await ticket();
      await x.command(`/v1/conversations/${id}/take-over`, bob); // bob's name is now known
      await x.command(`/v1/conversations/${id}/release`, bob);
      await x.command(`/v1/conversations/${id}/reassign`, admin, { employeeId: 'bob' });
      expect(checkOf(await x.diagnostics(alice, id), 'close_ticket_missing', 'ticket_owner').observed).toBe('Employee bob');
    });

    it('fails ticket_state when the ticket is already closed', async () => {
      const id = await ticket();
      await x.command(`/v1/conversations/${id}/take-over`, alice);
      await x.command(`/v1/conversations/${id}/close`, alice);
      expectFails(await x.diagnostics(alice, id), 'close_ticket_missing', 'ticket_state', 'closed', 'already closed', 'Employee alice');
    });

    it("answers 404 for another property's conversation, 400 for a malformed id, 403 for a guest", async () => {
      await x.property('ct-elsewhere', { requestSupportChat: false, chatMode: 'ai_only' });
      const g = await x.guest('ct-elsewhere');
      expect((await api().get(`/v1/diagnostics?conversationId=${g.conversationId}`, alice)).status).toBe(404);
      expect((await api().get('/v1/diagnostics?conversationId=not-a-uuid', alice)).status).toBe(400);
      expect((await api().get('/v1/diagnostics', g.guestToken)).status).toBe(403);
      expect((await api().get('/v1/diagnostics')).status).toBe(401);
    });
  });

  describe('Alerts do not arrive', () => {
    it('passes every check when the alert for a new ticket reached the browser', async () => {
      await x.property('al-ok', { requestSupportChat: true, chatMode: 'hybrid', push: true });
      const alice = await x.employee('alice', 'al-ok', { incoming: true, activity: true });
      await subscribe(alice, await push.subscribe(vapid.publicKey));
      const g = await x.guest('al-ok');
      await x.ask(g);
      const d = await x.settledDiagnostics(alice, g.conversationId, (c) => c.ok === true);
      expectAllPass(d, 'alerts_not_arriving');
      expect(checkOf(d, 'alerts_not_arriving', 'push_subscription').observed).toBe(1);
      expect(checkOf(d, 'alerts_not_arriving', 'last_push_delivery').observed).toMatchObject({ status: 'delivered', httpStatus: 201, error: null, test: false });
      expect(checkOf(d, 'alerts_not_arriving', 'alert_decision').observed).toMatchObject({ kind: 'incoming_support_request', reason: 'alerted', deliveries: ['delivered'] });
    });

    it('fails push_switch when the property switch is off, and the decision says push_switch_off', async () => {
      await x.property('al-switch', { requestSupportChat: true, chatMode: 'hybrid', push: false });
      const alice = await x.employee('alice', 'al-switch', { incoming: true, activity: false });
      await subscribe(alice, await push.subscribe(vapid.publicKey));
      const g = await x.guest('al-switch');
      await x.ask(g);
      const d = await x.settledDiagnostics(alice, g.conversationId);
      expectFails(d, 'alerts_not_arriving', 'push_switch', false, 'Ask an admin to turn on Settings → Customizations → Push Notifications.');
      expectFails(d, 'alerts_not_arriving', 'alert_decision', expect.objectContaining({ reason: 'push_switch_off' }), 'Push Notifications were off');
    });

    it('fails personal_toggle (Incoming Support Requests for an open ticket), and the decision says toggle_off', async () => {
      await x.property('al-toggle', { requestSupportChat: true, chatMode: 'hybrid', push: true });
      const alice = await x.employee('alice', 'al-toggle', { incoming: false, activity: true });
      await subscribe(alice, await push.subscribe(vapid.publicKey));
      const g = await x.guest('al-toggle');
      await x.ask(g);
      const d = await x.settledDiagnostics(alice, g.conversationId);
      expectFails(
        d,
        'alerts_not_arriving',
        'personal_toggle',
        { incomingSupportRequests: false, assignedChatActivity: true, relevant: ['incomingSupportRequests'] },
        'Turn on Personal Settings → Incoming Support Requests',
      );
      expectFails(d, 'alerts_not_arriving', 'alert_decision', expect.objectContaining({ kind: 'incoming_support_request', reason: 'toggle_off' }), 'was off when this alert went out');
    });

    it('fails personal_toggle on Assigned Chat Activity for a ticket the caller owns', async () => {
      await x.property('al-activity', { requestSupportChat: true, chatMode: 'hybrid', push: true });
      const alice = await x.employee('alice', 'al-activity', { incoming: true, activity: false });
      const g = await x.guest('al-activity');
      await x.ask(g);
      await x.command(`/v1/conversations/${g.conversationId}/take-over`, alice);
      x.track(await api().post(`/v1/guest/conversations/${g.conversationId}/messages`, g.guestToken, { text: 'Is breakfast included?' }));
      const d = await x.settledDiagnostics(alice, g.conversationId, (c) => c.observed?.kind === 'assigned_chat_activity');
      const toggle = checkOf(d, 'alerts_not_arriving', 'personal_toggle');
      expect(toggle).toMatchObject({ ok: false, observed: { relevant: ['assignedChatActivity'], assignedChatActivity: false }, note: expect.stringContaining('You own this ticket') });
      expect(toggle.fix).toContain('Personal Settings → Assigned Chat Activity');
      expect(checkOf(d, 'alerts_not_arriving', 'alert_decision').observed).toMatchObject({ kind: 'assigned_chat_activity', reason: 'toggle_off' });
    });

    it('fails push_subscription with 0 when no browser is registered, and the decision says no_subscription', async () => {
      await x.property('al-nosub', { requestSupportChat: true, chatMode: 'hybrid', push: true });
      const alice = await x.employee('alice', 'al-nosub', { incoming: true, activity: false });
      const g = await x.guest('al-nosub');
      await x.ask(g);
      const d = await x.settledDiagnostics(alice, g.conversationId);
      expectFails(d, 'alerts_not_arriving', 'push_subscription', 0, 'allow notifications');
      expectFails(d, 'alerts_not_arriving', 'alert_decision', expect.objectContaining({ reason: 'no_subscription' }), 'no browser was registered');
      expect(checkOf(d, 'alerts_not_arriving', 'last_push_delivery')).toMatchObject({ ok: null, observed: null, fix: expect.stringContaining('test notification') });
    });

    it("fails last_push_delivery with the push service's status, error and time when the last push failed", async () => {
      await x.property('al-failed', { requestSupportChat: true, chatMode: 'hybrid', push: true });
      const alice = await x.employee('alice', 'al-failed', { incoming: true, activity: false });
      // A subscription made for another application server key: the push service refuses our VAPID JWT.
      await subscribe(alice, await push.subscribe(generateVapidKeys().publicKey));
      const test = await api().post('/v1/me/push-subscriptions/test', alice);
      expect(test.body.items).toEqual([expect.objectContaining({ status: 'failed' })]);
      const { httpStatus } = test.body.items[0];
      expect(httpStatus).toBeGreaterThanOrEqual(400);
      const d = await x.diagnostics(alice);
      const last = checkOf(d, 'alerts_not_arriving', 'last_push_delivery');
      expect(last).toMatchObject({ ok: false, observed: { status: 'failed', httpStatus, test: true, pushService: push.url } });
      expect(typeof last.observed.error).toBe('string');
      expect(last.fix).toContain(`HTTP ${httpStatus} at ${last.observed.at}`);
    });

    it('fails last_push_delivery when the browser subscription expired (410, removed)', async () => {
      await x.property('al-gone', { requestSupportChat: true, chatMode: 'hybrid', push: true });
      const alice = await x.employee('alice', 'al-gone', { incoming: true, activity: false });
      const sub = await push.subscribe(vapid.publicKey);
      await subscribe(alice, sub);
      await push.expire(sub.endpoint);
      const test = await api().post('/v1/me/push-subscriptions/test', alice);
      expect(test.body.items).toEqual([expect.objectContaining({ status: 'subscription_gone', httpStatus: 410 })]);
      const d = await eventually(async () => {
        const r = await x.diagnostics(alice);
        return checkOf(r, 'alerts_not_arriving', 'push_subscription').observed === 0 ? r : undefined;
      }, 10_000, 'the gone subscription to be removed');
      expectFails(d, 'alerts_not_arriving', 'last_push_delivery', expect.objectContaining({ status: 'subscription_gone', httpStatus: 410 }), 'expired', 'HTTP 410');
    });
  });

  describe('support bundle', () => {
    it("has who, when the problem started (the declined request), the diagnostics (admin's and owner's), the history and the settings as of then", async () => {
      const admin = await x.property('sb', { requestSupportChat: false, chatMode: 'ai_only' });
      const bob = await x.employee('bob', 'sb', { incoming: true, activity: true });
      const g = await x.guest('sb', 'Ms Rivera');
      await x.ask(g); // declined: both settings off
      await x.liveChat(admin, { requestSupportChat: true, chatMode: 'hybrid' });
      expect((await x.ask(g)).ticketOpened).toBe(true);
      await x.command(`/v1/conversations/${g.conversationId}/take-over`, bob);

      const history = (await api().get(`/v1/ops/conversations/${g.conversationId}/history`, admin)).body.events;
      const declined = history.find((e: { type: string }) => e.type === 'SupportRequestDeclined');
      const r = await api().get(`/v1/ops/conversations/${g.conversationId}/support-bundle`, admin);
      expect(r.status).toBe(200);
      const b = r.body;
      expect(b).toMatchObject({
        conversationId: g.conversationId,
        guestName: 'Ms Rivera',
        startedAt: history[0].data.at,
        problemStartedAt: declined.data.at,
        problemStart: { kind: 'declined_request', at: declined.data.at, position: declined.position },
        settingsAtProblemStart: { requestSupportChat: false, chatMode: 'ai_only', pushNotificationsEnabled: false, escalateAfterMinutes: null, asOf: declined.data.at },
        settingsNow: { requestSupportChat: true, chatMode: 'hybrid', updatedBy: 'admin-sb' },
      });
      // The settings as of then are the ones the declined request was decided on.
      expect({ requestSupportChat: b.settingsAtProblemStart.requestSupportChat, chatMode: b.settingsAtProblemStart.chatMode }).toEqual(declined.data.settings);
      // Bob's alert for the ticket showed in the app only: the push switch is off here.
      expect(b.signals.map((s: { kind: string; description: string }) => [s.kind, s.description])).toEqual([
        ['declined_request', 'Support request declined: Request Support Chat was off and the chat mode was “AI only”.'],
        ['push_not_sent', 'The new support request alert for Employee bob was not pushed: the property’s Push Notifications switch was off.'],
      ]);
      expect(b.history).toEqual(history);
      expect(b.diagnostics.you.employee).toEqual({ id: 'admin-sb', name: 'Employee admin-sb', role: 'admin' });
      expect(b.diagnostics.owner.employee).toEqual({ id: 'bob', name: 'Employee bob', role: null });
      expect(checkOf(b.diagnostics.owner, 'close_ticket_missing', 'ticket_owner')).toMatchObject({ ok: true, observed: 'Employee bob' });
      expect(checkOf(b.diagnostics.you, 'no_open_ticket', 'ticket_state')).toMatchObject({ ok: false, observed: 'assigned' });
      expect(checkOf(b.diagnostics.owner, 'alerts_not_arriving', 'personal_toggle').observed.relevant).toEqual(['assignedChatActivity']);
    });

    it('starts the problem at a failed push when that came first', async () => {
      const admin = await x.property('sb-push', { requestSupportChat: true, chatMode: 'hybrid', push: true });
      const carol = await x.employee('carol', 'sb-push', { incoming: true, activity: false });
      await subscribe(carol, await push.subscribe(generateVapidKeys().publicKey)); // refused by the push service
      const g = await x.guest('sb-push');
      await x.ask(g);
      await x.settledDiagnostics(carol, g.conversationId);
      const b = (await api().get(`/v1/ops/conversations/${g.conversationId}/support-bundle`, admin)).body;
      expect(b.problemStart).toMatchObject({ kind: 'push_failed', description: expect.stringMatching(/^The push of the new support request alert to carol at http:\/\/127\.0\.0\.1:\d+ failed: HTTP 4\d\d\.$/) });
      expect(b.settingsAtProblemStart).toMatchObject({ requestSupportChat: true, chatMode: 'hybrid', pushNotificationsEnabled: true });
      expect(b.diagnostics.owner).toBeNull();
    });

    it('starts at the conversation when nothing went wrong; admin only; 404 for another property', async () => {
      const admin = await x.property('sb-calm', { requestSupportChat: true, chatMode: 'hybrid' });
      const agent = await t().employee('dan', 'sb-calm');
      const g = await x.guest('sb-calm');
      const b = (await api().get(`/v1/ops/conversations/${g.conversationId}/support-bundle`, admin)).body;
      expect(b.problemStart).toMatchObject({ kind: 'conversation_started', at: b.startedAt });
      expect(b.problemStartedAt).toBe(b.startedAt);
      expect((await api().get(`/v1/ops/conversations/${g.conversationId}/support-bundle`, agent)).status).toBe(403);
      const foreignAdmin = await t().employee('admin-x', 'sb-other', 'admin');
      expect((await api().get(`/v1/ops/conversations/${g.conversationId}/support-bundle`, foreignAdmin)).status).toBe(404);
      expect((await api().get('/v1/ops/conversations/00000000-0000-4000-8000-000000000000/support-bundle', admin)).status).toBe(404);
      expect((await api().get('/v1/ops/conversations/nope/support-bundle', admin)).status).toBe(400);
    });
  });

  describe('finding a conversation by guest name', () => {
    it("matches the whole name, ignoring case and extra spaces, within the caller's property only", async () => {
      for (const property of ['gn-a', 'gn-b']) await x.property(property, { requestSupportChat: false, chatMode: 'ai_only' });
      const mine = [await x.guest('gn-a', 'Maria Lopez'), await x.guest('gn-a', '  maria   LOPEZ ')];
      await x.guest('gn-a', 'Maria Lopez-Garcia');
      const theirs = await x.guest('gn-b', 'Maria Lopez');
      const agentA = await t().employee('alice', 'gn-a');
      const agentB = await t().employee('alice', 'gn-b');
      const found = async (token: string, name: string) => {
        const r = await api().get(`/v1/conversations?guestName=${encodeURIComponent(name)}&minPosition=${x.head()}`, token);
        expect(r.status).toBe(200);
        return (r.body.items as Array<{ id: string; guestName: string }>).map((c) => c.id).sort();
      };
      expect(await found(agentA, 'MARIA LOPEZ')).toEqual(mine.map((g) => g.conversationId).sort());
      expect(await found(agentB, 'maria lopez')).toEqual([theirs.conversationId]);
      expect(await found(agentA, 'Maria')).toEqual([]);
      const page = (await api().get('/v1/conversations?guestName=Maria%20Lopez&status=open', agentA)).body;
      expect(page.items).toEqual([]);
      expect((await api().get('/v1/conversations?guestName=%20%20', agentA)).status).toBe(400);
      expect((await api().get(`/v1/conversations?guestName=${'x'.repeat(101)}`, agentA)).status).toBe(400);
    });
  });
});

describe('diagnostics on a service without VAPID keys', () => {
  const x = harness({ PUSH_ALLOW_HTTP_ENDPOINTS: 'true' });

  it('fails push_configured, and the decision says push_unavailable', async () => {
    await x.property('nv', { requestSupportChat: true, chatMode: 'hybrid', push: true });
    const alice = await x.employee('alice', 'nv', { incoming: true, activity: false });
    const g = await x.guest('nv');
    await x.ask(g);
    const d = await x.settledDiagnostics(alice, g.conversationId);
    expectFails(d, 'alerts_not_arriving', 'push_configured', false, 'VAPID', 'IT or operations team');
    expect(checkOf(d, 'alerts_not_arriving', 'push_switch').ok).toBe(true);
    expectFails(d, 'alerts_not_arriving', 'alert_decision', expect.objectContaining({ reason: 'push_unavailable' }));
  });
});
