/**
 * Alerts that arrive: the push notifier end to end, with web-push-testing as the real push
 * service (it verifies our VAPID JWT and decrypts the payload) and the app on real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateVapidKeys } from '../../src/adapters/web-push/vapid.js';
import { employeeStream } from '../../src/domain/settings.js';
import { client, eventually } from '../support/http.js';
import { type PushService, type PushSubscriptionJson, startFaultyProxy, startPushService } from '../support/push-service.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

type Api = ReturnType<typeof client>;
interface Decision {
  employeeId: string;
  kind: string;
  conversationId: string;
  outcome: string;
  reason: string;
  alertId: string | null;
  push: null | { decided: boolean; reason: string | null; deliveries: Array<{ subscriptionId: string; status: string; attempts: Array<{ status: string; httpStatus: number | null; retryAfterMs: number | null }> }> };
}

describe('push alerts through web-push-testing', () => {
  const vapid = generateVapidKeys();
  let push: PushService;
  let t: TestApp;
  let api: Api;

  beforeAll(async () => {
    push = await startPushService();
    t = await startTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOW_HTTP_ENDPOINTS: 'true' });
    api = client(t.url);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await push?.stop();
  });

  async function property(propertyId: string, pushOn: boolean) {
    const admin = await t.employee(`admin-${propertyId}`, propertyId, 'admin');
    expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
    expect((await api.put('/v1/settings/push-notifications', admin, { pushNotificationsEnabled: pushOn })).status).toBe(200);
    return admin;
  }

  /** An employee who has saved these toggles (one who switched alerts off after having them on, when both are off). */
  async function employee(id: string, propertyId: string, toggles: { incoming: boolean; activity: boolean }) {
    const token = await t.employee(id, propertyId);
    // Recipients are the employees known from their settings: defaults saved as such record nothing.
    if (!toggles.incoming && !toggles.activity) await api.put('/v1/me/settings', token, { incomingSupportRequests: true });
    const r = await api.put('/v1/me/settings', token, { incomingSupportRequests: toggles.incoming, assignedChatActivity: toggles.activity });
    expect(r.status).toBe(200);
    return token;
  }

  async function subscribe(token: string, subscription: PushSubscriptionJson) {
    const r = await api.post('/v1/me/push-subscriptions', token, subscription);
    expect(r.status).toBe(201);
    return r.body as { subscription: { id: string }; position: string };
  }

  async function openTicket(propertyId: string, guestName = 'Tom') {
    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId, guestName })).body;
    const r = await api.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken);
    expect(r.body.ticketOpened).toBe(true);
    return g as { conversationId: string; guestToken: string };
  }

  /** Waits until the notifier has decided (and finished delivering) every alert of the conversation. */
  async function settledDecisions(token: string, conversationId: string, employeeId?: string): Promise<Decision[]> {
    const q = `/v1/me/alerts/decisions?conversationId=${conversationId}${employeeId ? `&employeeId=${employeeId}` : ''}`;
    return eventually(async () => {
      const items = (await api.get(q, token)).body.items as Decision[];
      const settled = items.every(
        (d) => d.push === null || (d.push.decided && d.push.deliveries.every((x) => x.status !== 'retrying')),
      );
      const delivering = items.every((d) => d.push?.reason !== 'alerted' || d.push.deliveries.length > 0);
      return items.length > 0 && settled && delivering ? items : undefined;
    }, 30_000, `push decisions for ${conversationId}`);
  }

  it('delivers the alert for a new ticket, encrypted for the subscription and signed with our VAPID key', async () => {
    await property('hotel-e2e', true);
    const alice = await employee('alice', 'hotel-e2e', { incoming: true, activity: false });
    const key = await api.get('/v1/push/vapid-public-key', alice);
    expect(key.body).toEqual({ publicKey: vapid.publicKey });
    const mine = await push.subscribe(key.body.publicKey);
    // A subscription made for another application server key: the push service must refuse our JWT for it.
    const foreign = await push.subscribe(generateVapidKeys().publicKey);
    await subscribe(alice, mine);
    const registered = await subscribe(alice, foreign);

    const { conversationId } = await openTicket('hotel-e2e', 'Ms Rivera');
    const [decision] = await settledDecisions(alice, conversationId);
    expect(decision).toMatchObject({ kind: 'incoming_support_request', reason: 'alerted', push: { decided: true, reason: 'alerted' } });

    const [alert] = (await api.get('/v1/me/alerts', alice)).body.items;
    const received = await eventually(async () => {
      const n = await push.notifications(mine.endpoint);
      return n.length > 0 ? n : undefined;
    }, 10_000, 'the push to arrive');
    expect(received).toEqual([
      {
        alertId: alert.id,
        kind: 'incoming_support_request',
        conversationId,
        ticketId: alert.ticketId,
        guestName: 'Ms Rivera',
        title: alert.title,
        body: alert.body,
        url: `/conversations/${conversationId}`,
        at: alert.at,
      },
    ]);
    expect(await push.notifications(foreign.endpoint)).toEqual([]);
    const refused = decision!.push!.deliveries.find((d) => d.subscriptionId === registered.subscription.id)!;
    expect(refused.status).toBe('failed');
    expect(refused.attempts).toHaveLength(1);
    expect(refused.attempts[0]!.httpStatus).toBeGreaterThanOrEqual(400);
    expect(decision!.push!.deliveries.find((d) => d.subscriptionId !== registered.subscription.id)!.status).toBe('delivered');
  });

  it('gives every recipient what SPEC says over push switch × toggle × owner × subscription, with the reason', async () => {
    const combos = [false, true].flatMap((toggle) => [false, true].flatMap((sub) => [false, true].map((owner) => ({ toggle, sub, owner }))));
    const seen: Record<string, { endpoint: string | null; token: string; owner: boolean; toggle: boolean; sub: boolean }> = {};
    for (const pushOn of [false, true]) {
      const propertyId = `hotel-matrix-${pushOn ? 'on' : 'off'}`;
      await property(propertyId, pushOn);
      const people = [];
      for (const c of combos) {
        const id = `e-${c.toggle ? 'T' : 't'}${c.sub ? 'S' : 's'}${c.owner ? 'O' : 'o'}`;
        const token = await employee(id, propertyId, { incoming: c.toggle, activity: c.toggle });
        const sub = c.sub ? await push.subscribe(vapid.publicKey) : null;
        if (sub) await subscribe(token, sub);
        seen[`${propertyId}/${id}`] = { endpoint: sub?.endpoint ?? null, token, ...c };
        people.push({ id, token, ...c });
      }
      // One ticket per owner-to-be, each taken over by them; then the guest writes.
      const tickets: Array<{ conversationId: string; ownerId: string }> = [];
      for (const p of people.filter((x) => x.owner)) {
        const g = await openTicket(propertyId, `Guest of ${p.id}`);
        expect((await api.post(`/v1/conversations/${g.conversationId}/take-over`, p.token)).status).toBe(200);
        expect((await api.post(`/v1/guest/conversations/${g.conversationId}/messages`, g.guestToken, { text: 'Is breakfast included?' })).status).toBe(201);
        tickets.push({ conversationId: g.conversationId, ownerId: p.id });
      }
      const admin = await t.employee(`admin-${propertyId}`, propertyId, 'admin');
      for (const ticket of tickets) {
        for (const p of people) {
          const mine = await settledDecisions(admin, ticket.conversationId, p.id);
          const incoming = mine.filter((d) => d.kind === 'incoming_support_request');
          const activity = mine.filter((d) => d.kind === 'assigned_chat_activity');
          const pushReason = !pushOn ? 'push_switch_off' : p.sub ? 'alerted' : 'no_subscription';
          // Incoming Support Requests: everyone who saved settings is considered.
          expect(incoming.map((d) => d.reason)).toEqual([p.toggle ? pushReason : 'toggle_off']);
          // Assigned Chat Activity: the owner; other employees only if they asked for activity alerts.
          const isOwner = ticket.ownerId === p.id;
          const expected = isOwner ? [p.toggle ? pushReason : 'toggle_off'] : p.toggle ? ['not_owner'] : [];
          expect(activity.map((d) => d.reason)).toEqual(expected);
          for (const d of mine.filter((x) => x.reason === 'alerted')) {
            expect(d.push!.deliveries.map((x) => x.status)).toEqual(['delivered']);
          }
        }
      }
    }
    // What each subscription received: 4 incoming per toggled-on employee with push on, +1 for its own ticket.
    for (const [key, s] of Object.entries(seen)) {
      if (!s.endpoint) continue;
      const expected = key.includes('-on/') && s.toggle ? 4 + (s.owner ? 1 : 0) : 0;
      const got = await push.notifications(s.endpoint);
      expect({ key, count: got.length }).toEqual({ key, count: expected });
    }
  }, 120_000);

  it('removes a subscription the push service reports gone after that one failed push', async () => {
    const admin = await property('hotel-gone', true);
    const bob = await employee('bob', 'hotel-gone', { incoming: true, activity: false });
    const sub = await push.subscribe(vapid.publicKey);
    const { subscription } = await subscribe(bob, sub);
    await push.expire(sub.endpoint);

    const first = await openTicket('hotel-gone');
    const [d1] = await settledDecisions(bob, first.conversationId);
    expect(d1!.push!.deliveries).toEqual([expect.objectContaining({ subscriptionId: subscription.id, status: 'subscription_gone' })]);
    expect(d1!.push!.deliveries[0]!.attempts.map((a) => a.httpStatus)).toEqual([410]);

    await eventually(async () => (await api.get('/v1/me/push-subscriptions', bob)).body.items.length === 0, 10_000, 'the subscription to go');
    const stream = await t.adapters.eventStore.readStream(employeeStream('hotel-gone', 'bob'));
    expect(stream.at(-1)).toMatchObject({ type: 'PushSubscriptionRemoved', data: { subscriptionId: subscription.id, reason: 'gone' } });

    const second = await openTicket('hotel-gone');
    const [d2] = await settledDecisions(bob, second.conversationId);
    expect(d2).toMatchObject({ reason: 'no_subscription', push: { deliveries: [] } });
    void admin;
  });

  it('retries 500, 500 and then delivers once', async () => {
    await property('hotel-retry', true);
    const carol = await employee('carol', 'hotel-retry', { incoming: true, activity: false });
    const sub = await push.subscribe(vapid.publicKey);
    const proxy = await startFaultyProxy(push.url, [{ status: 500 }, { status: 500 }, 'forward']);
    try {
      await subscribe(carol, { ...sub, endpoint: proxy.endpointFor(sub.endpoint) });
      const { conversationId } = await openTicket('hotel-retry');
      const [d] = await settledDecisions(carol, conversationId);
      expect(d!.push!.deliveries[0]!.attempts.map((a) => [a.status, a.httpStatus])).toEqual([
        ['retrying', 500],
        ['retrying', 500],
        ['delivered', 201],
      ]);
      expect(proxy.requests.map((r) => r.status)).toEqual([500, 500, 201]);
      expect(await push.notifications(sub.endpoint)).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  }, 60_000);

  it('honours Retry-After on a 429', async () => {
    await property('hotel-429', true);
    const dan = await employee('dan', 'hotel-429', { incoming: true, activity: false });
    const sub = await push.subscribe(vapid.publicKey);
    const proxy = await startFaultyProxy(push.url, [{ status: 429, headers: { 'retry-after': '3' } }, 'forward']);
    try {
      await subscribe(dan, { ...sub, endpoint: proxy.endpointFor(sub.endpoint) });
      const { conversationId } = await openTicket('hotel-429');
      const [d] = await settledDecisions(dan, conversationId);
      expect(d!.push!.deliveries[0]!.attempts.map((a) => [a.status, a.httpStatus, a.retryAfterMs])).toEqual([
        ['retrying', 429, 3000],
        ['delivered', 201, null],
      ]);
      expect(proxy.requests[1]!.at - proxy.requests[0]!.at).toBeGreaterThanOrEqual(3000);
    } finally {
      await proxy.stop();
    }
  }, 60_000);

  it("keeps one property's subscriptions from another's employees", async () => {
    await property('hotel-own', true);
    await property('hotel-other', true);
    const owner = await employee('erin', 'hotel-own', { incoming: true, activity: false });
    const sameIdElsewhere = await employee('erin', 'hotel-other', { incoming: true, activity: false });
    const sub = await push.subscribe(vapid.publicKey);
    await subscribe(owner, sub);

    expect((await api.get('/v1/me/push-subscriptions', sameIdElsewhere)).body.items).toEqual([]);
    const del = await fetch(`${t.url}/v1/me/push-subscriptions?endpoint=${encodeURIComponent(sub.endpoint)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${sameIdElsewhere}` },
    });
    expect(del.status).toBe(404);
    // A ticket in the other property pushes nothing to this property's subscription.
    const other = await openTicket('hotel-other');
    await settledDecisions(sameIdElsewhere, other.conversationId);
    expect(await push.notifications(sub.endpoint)).toEqual([]);

    // This property's decisions and deliveries are invisible from the other property.
    const own = await openTicket('hotel-own');
    await settledDecisions(owner, own.conversationId);
    expect(await push.notifications(sub.endpoint)).toHaveLength(1);
    const otherAdmin = await t.employee('admin-hotel-other', 'hotel-other', 'admin');
    const peek = await api.get(`/v1/me/alerts/decisions?conversationId=${own.conversationId}&employeeId=erin`, otherAdmin);
    expect(peek.status).toBe(200);
    expect(peek.body.items).toEqual([]);
    expect((await api.get('/v1/me/push-subscriptions', owner)).body.items).toHaveLength(1);
  });

  it('answers a test push with each outcome and records it', async () => {
    const frank = await employee('frank', 'hotel-test', { incoming: false, activity: false });
    const sub = await push.subscribe(vapid.publicKey);
    await subscribe(frank, sub);
    const r = await api.post('/v1/me/push-subscriptions/test', frank);
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([expect.objectContaining({ status: 'delivered', httpStatus: 201 })]);
    const got = await push.notifications(sub.endpoint);
    expect(got).toEqual([expect.objectContaining({ alertId: r.body.alertId, kind: 'test' })]);
  });
});

describe('push alerts on a service without VAPID keys', () => {
  let t: TestApp;
  afterAll(() => t?.stop());

  it('still raises the in-app alert and records push_unavailable', async () => {
    t = await startTestApp({ PUSH_ALLOW_HTTP_ENDPOINTS: 'true' });
    const api = client(t.url);
    const admin = await t.employee('admin', 'hotel-nokeys', 'admin');
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
    await api.put('/v1/settings/push-notifications', admin, { pushNotificationsEnabled: true });
    const gina = await t.employee('gina', 'hotel-nokeys');
    await api.put('/v1/me/settings', gina, { incomingSupportRequests: true });
    const keys = { p256dh: generateVapidKeys().publicKey, auth: Buffer.alloc(16, 7).toString('base64url') };
    expect((await api.post('/v1/me/push-subscriptions', gina, { endpoint: 'http://127.0.0.1:9/push/x', expirationTime: null, keys })).status).toBe(201);

    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-nokeys', guestName: 'Ann' })).body;
    await api.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken);
    const [decision] = await eventually(async () => {
      const items = (await api.get(`/v1/me/alerts/decisions?conversationId=${g.conversationId}`, gina)).body.items as Decision[];
      return items[0]?.push?.decided ? items : undefined;
    }, 20_000, 'the push decision');
    expect(decision).toMatchObject({ outcome: 'alerted', reason: 'push_unavailable', push: { reason: 'push_unavailable', deliveries: [] } });
    expect((await api.get('/v1/me/alerts', gina)).body.items).toHaveLength(1);
  });
});
