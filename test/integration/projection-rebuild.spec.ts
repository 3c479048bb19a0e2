/**
 * POST /v1/ops/projections/{name}/rebuild on a running app (real SQLite files, web-push-testing
 * as the push service): a new version builds beside the live one, reads switch once it has
 * caught up, the old one is dropped.
 *
 * - Under a steady read load (clients polling the inbox and a conversation, an SSE stream
 *   open), rebuilding the inbox serves every read (no 5xx, no empty or short page), sends no
 *   push and no SSE event, and the rebuilt read models equal a fresh rebuild from the log.
 * - Rebuilding the alerts while tickets keep opening: the hand-over to the live group skips
 *   nothing and repeats nothing (SSE ids only grow, each new ticket's alert arrives once on
 *   the stream and as one push), and old alerts are never pushed again.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { generateVapidKeys } from '../../src/adapters/web-push/vapid.js';
import { PUSH_ATTEMPTS } from '../../src/application/processing/push-delivery.js';
import { PUSH_DECISIONS } from '../../src/application/processing/push-notifier.js';
import { client, eventually } from '../support/http.js';
import { type PushService, startPushService } from '../support/push-service.js';
import { compareWithRebuild } from '../support/rebuild.js';
import { SseClient } from '../support/sse-client.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const PROPERTY = 'hotel-rebuild';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ProjectionStatus {
  name: string;
  version: number;
  checkpoint: string | null;
  lag: { events: number; ms: number };
  rebuild: null | { id: string; state: string; fromVersion: number; toVersion: number; checkpoint: string | null; finishedAt: string | null };
}

describe('rebuilding a projection beside the live one', () => {
  const vapid = generateVapidKeys();
  let push: PushService;
  let t: TestApp;
  let api: ReturnType<typeof client>;
  /** `operator`: the service operator token (`ops: true`) the projection routes need; `admin` is the hotel's. */
  let admin: string, operator: string, alice: string, agent: string;
  let endpoint: string;
  let readModels: SqliteReadModelStore;
  const conversations: string[] = [];

  async function openTicket(name: string) {
    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: name })).body;
    const r = await api.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken);
    expect(r.body.ticketOpened).toBe(true);
    return g as { conversationId: string; guestToken: string; position: string };
  }

  async function status(): Promise<Map<string, ProjectionStatus>> {
    const r = await api.get('/v1/ops/projections', operator);
    expect(r.status).toBe(200);
    return new Map((r.body.projections as ProjectionStatus[]).map((p) => [p.name, p]));
  }

  /** Waits until the rebuild of `name` is done (old version dropped), recording each state seen. */
  async function untilRebuilt(name: string, states: string[]): Promise<ProjectionStatus> {
    return eventually(async () => {
      const p = (await status()).get(name)!;
      if (p.rebuild && states[states.length - 1] !== p.rebuild.state) states.push(p.rebuild.state);
      if (p.rebuild?.state === 'failed') throw new Error(`rebuild failed: ${JSON.stringify(p.rebuild)}`);
      return p.rebuild?.state === 'done' ? p : undefined;
    }, 40_000, `the rebuild of ${name}`);
  }

  /** Every push the notifier finished, as the push service saw them, and its own journal. */
  async function pushState() {
    return {
      received: (await push.notifications(endpoint)) as Array<{ alertId: string }>,
      attempts: await readModels.count(PUSH_ATTEMPTS, {}),
      decisions: await readModels.count(PUSH_DECISIONS, {}),
    };
  }

  async function quietLog() {
    // AVA answers asynchronously: wait until nothing more is appended and every projection applied it.
    let last = '';
    for (;;) {
      await sleep(300);
      const h = (await api.get('/health')).body;
      const now = JSON.stringify(h);
      if (now === last && h.projections.every((p: { lag: number }) => p.lag === 0)) return;
      last = now;
    }
  }

  beforeAll(async () => {
    push = await startPushService();
    t = await startTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOW_HTTP_ENDPOINTS: 'true' });
    api = client(t.url);
    readModels = new SqliteReadModelStore(join(t.dataDir, 'read-models.db'));
    admin = await t.employee('boss', PROPERTY, 'admin');
    operator = await t.employee('operator', PROPERTY, 'admin', { ops: true });
    alice = await t.employee('alice', PROPERTY);
    agent = await t.employee('bob', PROPERTY);
    expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
    expect((await api.put('/v1/settings/push-notifications', admin, { pushNotificationsEnabled: true })).status).toBe(200);
    expect((await api.put('/v1/me/settings', alice, { incomingSupportRequests: true, assignedChatActivity: true })).status).toBe(200);
    const subscription = await push.subscribe(vapid.publicKey);
    endpoint = subscription.endpoint;
    expect((await api.post('/v1/me/push-subscriptions', alice, subscription)).status).toBe(201);

    // History: tickets opened (each alerts Alice and pushes), some taken over and answered, some closed.
    for (let i = 0; i < 24; i++) {
      const g = await openTicket(`Guest ${i}`);
      conversations.push(g.conversationId);
      await api.post(`/v1/guest/conversations/${g.conversationId}/messages`, g.guestToken, { text: `hello ${i}` });
      if (i % 2 === 0) {
        expect((await api.post(`/v1/conversations/${g.conversationId}/take-over`, alice)).status).toBe(200);
        expect((await api.post(`/v1/conversations/${g.conversationId}/messages`, alice, { text: `Hi ${i}, Alice here` })).status).toBe(201);
        await api.post(`/v1/guest/conversations/${g.conversationId}/messages`, g.guestToken, { text: `thanks ${i}` }); // an activity alert
      }
      if (i % 4 === 0) expect((await api.post(`/v1/conversations/${g.conversationId}/close`, alice)).status).toBe(200);
    }
    await quietLog();
    // 24 incoming-request alerts and 12 activity alerts, each pushed once.
    await eventually(async () => ((await push.notifications(endpoint)).length === 36 ? true : undefined), 30_000, '36 pushes');
  }, 120_000);

  afterAll(async () => {
    await readModels?.close();
    await t?.stop();
    await push?.stop();
  });

  it('answers 404 for an unknown projection and 403 to an agent or an admin without ops', async () => {
    expect((await api.post('/v1/ops/projections/nope/rebuild', operator)).body).toMatchObject({ statusCode: 404, code: 'projection_not_found' });
    expect((await api.post('/v1/ops/projections/inbox/rebuild', admin)).body).toMatchObject({ statusCode: 403, code: 'ops_only' });
    expect((await api.get('/v1/ops/projections', admin)).body).toMatchObject({ statusCode: 403, code: 'ops_only' });
    expect((await api.post('/v1/ops/projections/inbox/rebuild', agent)).status).toBe(403);
    expect((await api.get('/v1/ops/projections', agent)).status).toBe(403);
    expect((await api.get('/v1/ops/projections')).status).toBe(401);
  });

  it('rebuilds the inbox under a steady read load: every read served, no push, no SSE event, equal to a fresh rebuild', async () => {
    const before = await status();
    const inbox = before.get('inbox')!;
    const head = (await api.get('/health')).body.head as string;
    expect(inbox).toMatchObject({ checkpoint: head, lag: { events: 0, ms: 0 } });
    const pushesBefore = await pushState();
    const page = (await api.get('/v1/conversations?limit=100', alice)).body.items.length as number;
    expect(page).toBe(conversations.length);
    const detail = (await api.get(`/v1/conversations/${conversations[0]}`, alice)).body;

    const sse = await SseClient.open(`${t.url}/v1/stream`, { authorization: `Bearer ${alice}` });
    await sse.waitFor((es) => es.some((e) => e.event === 'ready'));
    const heartbeatsBefore = sse.comments;

    // Several clients polling the inbox list and one conversation with its messages.
    const reads = { total: 0, serverErrors: 0, empty: 0, short: 0, wrongDetail: 0, examples: [] as unknown[] };
    let polling = true;
    const pollers = Array.from({ length: 4 }, async (_, i) => {
      while (polling) {
        const r = i % 2 === 0 ? await api.get('/v1/conversations?limit=100', alice) : await api.get(`/v1/conversations/${conversations[0]}`, alice);
        reads.total++;
        if (r.status >= 500) reads.serverErrors++;
        if (r.status !== 200 && reads.examples.length < 3) reads.examples.push(r.body);
        if (i % 2 === 0) {
          if (!r.body?.items?.length) reads.empty++;
          else if (r.body.items.length !== page) reads.short++;
        } else if (JSON.stringify(r.body?.messages) !== JSON.stringify(detail.messages)) reads.wrongDetail++;
      }
    });
    await sleep(200);

    const accepted = await api.post('/v1/ops/projections/inbox/rebuild', operator);
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe('/v1/ops/projections');
    expect(accepted.body).toMatchObject({
      rebuild: { state: 'requested', fromVersion: inbox.version, toVersion: inbox.version + 1, requestedBy: 'operator' },
      statusUrl: '/v1/ops/projections',
    });
    const again = await api.post('/v1/ops/projections/inbox/rebuild', operator);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'rebuild_in_progress', details: { rebuild: { id: accepted.body.rebuild.id } } });

    const states: string[] = [];
    const rebuilt = await untilRebuilt('inbox', states);
    await sleep(500); // and reads go on after the old version is dropped
    polling = false;
    await Promise.all(pollers);

    expect(states).toContain('switched');
    expect(rebuilt).toMatchObject({ version: inbox.version + 1, checkpoint: head, lag: { events: 0, ms: 0 } });
    expect(rebuilt.rebuild).toMatchObject({ id: accepted.body.rebuild.id, state: 'done', fromVersion: inbox.version, toVersion: inbox.version + 1 });
    expect(reads.total).toBeGreaterThan(50);
    expect(reads).toMatchObject({ serverErrors: 0, empty: 0, short: 0, wrongDetail: 0, examples: [] });
    // The other projections were not touched.
    for (const [name, p] of await status()) if (name !== 'inbox') expect(p.version).toBe(before.get(name)!.version);

    // Nothing published, nothing pushed again (the stream was alive: it kept its heartbeats).
    expect(sse.events.filter((e) => e.event !== 'ready')).toEqual([]);
    expect(sse.comments).toBeGreaterThan(heartbeatsBefore);
    sse.close();
    await sleep(300);
    expect(await pushState()).toEqual(pushesBefore);

    // The old version is gone; the new one equals a fresh rebuild from the log.
    const db = new Database(join(t.dataDir, 'read-models.db'), { readonly: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining([`rm_conversations_v${inbox.version + 1}`, `rm_messages_v${inbox.version + 1}`]));
      expect(tables.filter((n) => n.endsWith(`_v${inbox.version}`) && /^rm_(conversations|messages|chatModes)_/.test(n))).toEqual([]);
      expect(db.prepare('SELECT projector FROM checkpoints WHERE projector = ?').all(`inbox@${inbox.version}`)).toEqual([]);
    } finally {
      db.close();
    }
    const { live, rebuilt: fresh } = await compareWithRebuild(t.dataDir);
    expect(live.conversations).toHaveLength(conversations.length);
    expect(live).toEqual(fresh);
  }, 60_000);

  it('hands a rebuilt projection over while tickets keep opening: nothing skipped, repeated or pushed twice', async () => {
    const alerts = (await status()).get('alerts')!;
    const pushesBefore = await pushState();
    const sse = await SseClient.open(`${t.url}/v1/stream`, { authorization: `Bearer ${alice}` });
    await sse.waitFor((es) => es.some((e) => e.event === 'ready'));

    const opened: string[] = [];
    let writing = true;
    const writers = Array.from({ length: 2 }, async (_, w) => {
      while (writing) opened.push((await openTicket(`Late ${w}-${opened.length}`)).conversationId);
    });
    await sleep(300);
    expect((await api.post('/v1/ops/projections/alerts/rebuild', operator)).status).toBe(202);
    await untilRebuilt('alerts', []);
    await sleep(300);
    writing = false;
    await Promise.all(writers);
    await quietLog();
    expect(opened.length).toBeGreaterThan(5);

    // The stream: ids only grow, and each new ticket's alert came exactly once.
    await eventually(async () => (sse.of('alert.created').length >= opened.length ? true : undefined), 10_000, 'the alerts on the stream');
    await sleep(300);
    const ids = sse.events.filter((e) => e.id !== undefined && e.event !== 'ready').map((e) => e.id!);
    const order = (id: string) => id.split('-').map(BigInt) as [bigint, bigint];
    for (let i = 1; i < ids.length; i++) {
      const [a, b] = [order(ids[i - 1]!), order(ids[i]!)];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
    }
    const alertsSeen = sse.of('alert.created').map((e) => e.data.alert.conversationId as string);
    expect([...alertsSeen].sort()).toEqual([...opened].sort());
    sse.close();

    // One push per new ticket, none of the old ones again.
    const pushes = await eventually(async () => {
      const s = await pushState();
      return s.received.length >= pushesBefore.received.length + opened.length ? s : undefined;
    }, 20_000, 'the new tickets pushed');
    await sleep(500);
    const after = await pushState();
    expect(after.received).toHaveLength(pushesBefore.received.length + opened.length);
    expect(new Set(after.received.map((n) => n.alertId)).size).toBe(after.received.length);
    expect(after.received.slice(0, pushesBefore.received.length)).toEqual(pushesBefore.received);
    expect(pushes.decisions).toBe(pushesBefore.decisions + opened.length);

    expect((await status()).get('alerts')!.version).toBe(alerts.version + 1);
    const { live, rebuilt } = await compareWithRebuild(t.dataDir);
    expect(live.alerts!.length).toBeGreaterThanOrEqual(36 + opened.length);
    expect(live).toEqual(rebuilt);
  }, 90_000);
});
