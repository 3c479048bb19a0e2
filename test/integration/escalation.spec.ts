/**
 * Escalation of unattended tickets, through HTTP on real SQLite, with a test clock
 * (`LCT_TEST_CLOCK_FILE`): the test sets the time, nothing waits for real minutes.
 *
 * Negative checks ("this one did not escalate") are made after a later-due ticket escalated:
 * the watcher executes due waits oldest-due first and appends in that order, so once a wait
 * due later has escalated, every earlier one has been decided.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { FILE_CLOCK_REREAD_MS, writeClockFile } from '../../src/adapters/clock/file-clock.js';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { client, eventually } from '../support/http.js';
import { type ServerProcess, startServer } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';

type Api = ReturnType<typeof client>;
interface Alert {
  id: string;
  kind: string;
  conversationId: string;
  ticketId: string;
  title: string;
  body: string;
}
interface HistoryEvent {
  type: string;
  data: Record<string, unknown>;
}

const T0 = Date.parse('2030-06-01T08:00:00.000Z');
const minutes = (m: number) => new Date(T0 + m * 60_000);

/**
 * Sets the test clock to 08:00 + m minutes. The service re-reads the file at most every
 * FILE_CLOCK_REREAD_MS: the one sleep here is that, part of moving the clock.
 */
async function setClockFile(file: string, m: number) {
  writeClockFile(file, minutes(m));
  await new Promise((r) => setTimeout(r, FILE_CLOCK_REREAD_MS + 30));
}

/** The world as one property sees it, through the API. */
function hotel(api: Api, propertyId: string, tokens: { admin: string; agent: string }) {
  const openTicket = async (guestName: string) => {
    const g = await api.post('/v1/guest/conversations', undefined, { propertyId, guestName });
    expect(g.status).toBe(201);
    const r = await api.post(`/v1/guest/conversations/${g.body.conversationId}/support-requests`, g.body.guestToken);
    expect({ status: r.status, opened: r.body.ticketOpened }).toEqual({ status: 201, opened: true });
    return { id: g.body.conversationId as string, guest: g.body.guestToken as string };
  };
  return {
    ...tokens,
    async setUp(escalateAfterMinutes: number | null) {
      // Admins are alerted once they have saved their personal settings (that records their role).
      expect((await api.put('/v1/me/settings', tokens.admin, { incomingSupportRequests: false })).status).toBe(200);
      expect((await api.put('/v1/me/settings', tokens.agent, { assignedChatActivity: true })).status).toBe(200);
      expect((await api.put('/v1/settings/live-chat', tokens.admin, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
      const r = await api.put('/v1/settings/escalation', tokens.admin, { escalateAfterMinutes });
      expect(r.status).toBe(200);
      expect(r.body.escalateAfterMinutes).toBe(escalateAfterMinutes);
    },
    openTicket,
    async takeOver(id: string) {
      expect((await api.post(`/v1/conversations/${id}/take-over`, tokens.agent)).status).toBe(200);
    },
    async guestWrites(c: { id: string; guest: string }, text = 'Is anyone there?') {
      expect((await api.post(`/v1/guest/conversations/${c.id}/messages`, c.guest, { text })).status).toBe(201);
    },
    async reply(id: string) {
      expect((await api.post(`/v1/conversations/${id}/messages`, tokens.agent, { text: 'Right here!' })).status).toBe(201);
    },
    async escalationAlerts(token: string): Promise<Alert[]> {
      const r = await api.get('/v1/me/alerts?limit=200', token);
      expect(r.status).toBe(200);
      return (r.body.items as Alert[]).filter((a) => a.kind === 'escalation');
    },
    async escalations(id: string): Promise<HistoryEvent[]> {
      const r = await api.get(`/v1/ops/conversations/${id}/history`, tokens.admin);
      expect(r.status).toBe(200);
      return (r.body.events as HistoryEvent[]).filter((e) => e.type === 'TicketEscalated');
    },
  };
}

const countBy = (alerts: Alert[]) => {
  const out: Record<string, number> = {};
  for (const a of alerts) out[a.conversationId] = (out[a.conversationId] ?? 0) + 1;
  return out;
};

describe('escalation of unattended tickets (in process, test clock)', () => {
  const tmp = tempDir('lct-escalation-');
  const clockFile = join(tmp.dir, 'clock');
  let t: TestApp;
  let api: Api;
  const setClock = (m: number) => setClockFile(clockFile, m);

  beforeAll(async () => {
    await setClock(0);
    t = await startTestApp({ LCT_TEST_CLOCK_FILE: clockFile }, join(tmp.dir, 'data'));
    api = client(t.url);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    tmp.cleanup();
  });

  it('is off by default, and answers as any employee may read it', async () => {
    const agent = await t.employee('reader', 'hotel-default');
    const r = await api.get('/v1/settings/escalation', agent);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ escalateAfterMinutes: null, updatedAt: null, updatedBy: null });
    expect((await api.put('/v1/settings/escalation', agent, { escalateAfterMinutes: 5 })).status).toBe(403);
  });

  it('raises one alert per ticket and wait: open too long, guest unanswered; never for a ticket taken over or answered', async () => {
    const h = hotel(api, 'hotel-esc', { admin: await t.employee('boss', 'hotel-esc', 'admin'), agent: await t.employee('pat', 'hotel-esc') });
    // Another property with a different setting that an admin shortens later, and one with escalation off.
    const b = hotel(api, 'hotel-esc-b', { admin: await t.employee('boss-b', 'hotel-esc-b', 'admin'), agent: await t.employee('pat-b', 'hotel-esc-b') });
    const off = hotel(api, 'hotel-esc-off', { admin: await t.employee('boss-off', 'hotel-esc-off', 'admin'), agent: await t.employee('pat-off', 'hotel-esc-off') });
    await h.setUp(5);
    await b.setUp(30);
    await off.setUp(null);
    const unchanged = await api.put('/v1/settings/escalation', h.admin, { escalateAfterMinutes: 5 });
    expect(unchanged.body).toMatchObject({ escalateAfterMinutes: 5, updatedBy: 'boss' });
    const read = await api.get(`/v1/settings/escalation?minPosition=${unchanged.body.position}`, h.agent);
    expect(read.body).toEqual({ escalateAfterMinutes: 5, updatedAt: minutes(0).toISOString(), updatedBy: 'boss' });

    // 08:00
    const leftOpen = await h.openTicket('Olivia Open');
    const takenOver = await h.openTicket('Theo Taken');
    const waiting = await h.openTicket('Wanda Waiting');
    const answered = await h.openTicket('Andy Answered');
    const otherHotel = await b.openTicket('Bea Other');
    const offHotel = await off.openTicket('Otto Off');
    // 08:01
    await setClock(1);
    const later = await h.openTicket('Larry Later');
    for (const c of [takenOver, waiting, answered]) await h.takeOver(c.id);
    // 08:02: guests write on assigned tickets; one of them gets an answer at 08:03
    await setClock(2);
    await h.guestWrites(waiting);
    await h.guestWrites(answered);
    await setClock(3);
    await h.guestWrites(waiting, 'Hello??');
    await h.reply(answered.id);

    // 08:05: the open ticket has waited 5 minutes → one escalation, for the admin only (no owner).
    await setClock(5);
    const first = await eventually(async () => {
      const alerts = await h.escalationAlerts(h.admin);
      return alerts.length > 0 ? alerts : undefined;
    }, 30_000, 'the first escalation alert');
    expect(first.map((a) => a.conversationId)).toEqual([leftOpen.id]);
    expect(first[0]).toMatchObject({ title: 'Unattended support request', body: 'Olivia Open has waited 5 min for a colleague to take over' });

    // An admin shortens hotel-b's setting to 6: its waiting ticket is recomputed (due 08:06).
    expect((await api.put('/v1/settings/escalation', b.admin, { escalateAfterMinutes: 6 })).status).toBe(200);

    // 08:06: the ticket opened at 08:01, and hotel-b's.
    await setClock(6);
    await eventually(async () => (await h.escalationAlerts(h.admin)).some((a) => a.conversationId === later.id), 30_000, 'the 08:01 ticket to escalate');
    await eventually(async () => (await b.escalationAlerts(b.admin)).length === 1, 30_000, 'hotel-b to escalate with the new setting');
    expect((await b.escalations(otherHotel.id)).map((e) => e.data.escalateAfterMinutes)).toEqual([6]);

    // 08:07: the guest who wrote at 08:02 (and again at 08:03) has waited 5 minutes since the first message.
    await setClock(7);
    const ownerAlerts = await eventually(async () => {
      const alerts = await h.escalationAlerts(h.agent);
      return alerts.length > 0 ? alerts : undefined;
    }, 30_000, 'the owner to get the guest-waiting escalation');
    expect(ownerAlerts.map((a) => a.conversationId)).toEqual([waiting.id]);
    expect(ownerAlerts[0]).toMatchObject({ title: 'Guest waiting for an answer', body: 'Wanda Waiting has waited 5 min for an answer' });
    const waitingEscalations = await h.escalations(waiting.id);
    expect(waitingEscalations.map((e) => e.data)).toEqual([
      { ticketId: ownerAlerts[0]!.ticketId, reason: 'guest_waiting', waitingSince: minutes(2).toISOString(), escalateAfterMinutes: 5, at: minutes(7).toISOString() },
    ]);

    // Much later: a fresh ticket escalating at 09:05 proves every earlier due wait has been decided.
    await setClock(60);
    const marker = await h.openTicket('Mark Marker');
    await setClock(65);
    await eventually(async () => (await h.escalationAlerts(h.admin)).some((a) => a.conversationId === marker.id), 30_000, 'the marker to escalate');

    expect(countBy(await h.escalationAlerts(h.admin))).toEqual({ [leftOpen.id]: 1, [later.id]: 1, [waiting.id]: 1, [marker.id]: 1 });
    expect(countBy(await h.escalationAlerts(h.agent))).toEqual({ [waiting.id]: 1 });
    for (const c of [takenOver, answered]) expect(await h.escalations(c.id)).toEqual([]);
    expect(await h.escalations(leftOpen.id)).toHaveLength(1);
    expect(await off.escalations(offHotel.id)).toEqual([]);
    expect(await off.escalationAlerts(off.admin)).toEqual([]);

    // Why did the admin get it? The decision is recorded; push is the notifier's (the property's switch is off).
    const decisions = await eventually(async () => {
      const r = await api.get(`/v1/me/alerts/decisions?conversationId=${leftOpen.id}`, h.admin);
      const mine = (r.body.items as Array<{ kind: string; employeeId: string; reason: string; push: { decided: boolean } }>).filter(
        (d) => d.kind === 'escalation',
      );
      return mine.length === 1 && mine[0]!.push.decided ? mine : undefined;
    }, 30_000, 'the push decision');
    expect(decisions[0]).toMatchObject({ employeeId: 'boss', reason: 'push_switch_off' });
  }, 120_000);
});

describe('escalation watcher across a SIGKILL (real process, test clock)', () => {
  const tmp = tempDir('lct-escalation-crash-');
  const clockFile = join(tmp.dir, 'clock');
  const env = { DATA_DIR: join(tmp.dir, 'data'), LCT_TEST_CLOCK_FILE: clockFile };
  const tokens = new TokenService(TEST_SECRET);
  const setClock = (m: number) => setClockFile(clockFile, m);
  let server: ServerProcess | null = null;

  afterAll(async () => {
    await server?.kill('SIGKILL');
    tmp.cleanup();
  });

  const OPEN = 120;
  const WAITING = 20;

  it('loses no escalation and repeats none when the worker is killed mid-way and restarted', async () => {
    await setClock(0);
    server = await startServer(env);
    let api = client(server.url);
    const propertyId = 'hotel-crash';
    const admin = await tokens.employeeToken({ id: 'boss', propertyId, role: 'admin', name: 'Boss' });
    const agent = await tokens.employeeToken({ id: 'pat', propertyId, role: 'agent', name: 'Pat' });
    let h = hotel(api, propertyId, { admin, agent });
    await h.setUp(5);

    // 08:00: tickets left open; tickets taken over whose guest writes at 08:01.
    const open: string[] = [];
    const waiting: Array<{ id: string; guest: string }> = [];
    const lanes = 6;
    for (let i = 0; i < OPEN; i += lanes) {
      open.push(...(await Promise.all(Array.from({ length: Math.min(lanes, OPEN - i) }, (_, j) => h.openTicket(`Open ${i + j}`)))).map((c) => c.id));
    }
    for (let i = 0; i < WAITING; i++) waiting.push(await h.openTicket(`Waiting ${i}`));
    for (const c of waiting) await h.takeOver(c.id);
    await setClock(1);
    for (const c of waiting) await h.guestWrites(c);

    // 08:05: the open tickets fall due; kill the process as soon as the first escalation is in the log.
    await setClock(5);
    const beforeKill = await eventually(async () => {
      const n = (await h.escalationAlerts(admin)).length;
      return n > 0 ? n : undefined;
    }, 60_000, 'escalations to begin');
    await server.kill('SIGKILL');

    // While it is down, the guest-waiting tickets fall due too (08:06).
    await setClock(6);
    server = await startServer(env);
    api = client(server.url);
    h = hotel(api, propertyId, { admin, agent });
    const all = [...open, ...waiting.map((c) => c.id)];
    const alerts = await eventually(async () => {
      const list = await h.escalationAlerts(admin);
      return list.length >= all.length ? list : undefined;
    }, 120_000, 'every ticket to escalate after the restart');
    console.log(`escalation crash test: ${beforeKill} of ${OPEN} open tickets' escalations visible at the kill, ${all.length} tickets in all`);
    const perTicket = countBy(alerts);
    expect(Object.keys(perTicket).sort()).toEqual([...all].sort());
    expect(Object.values(perTicket).every((n) => n === 1)).toBe(true);

    // Restart once more (the watcher starts over from its checkpoint), then prove a full tick has
    // passed with a fresh ticket escalating: still exactly one escalation per ticket.
    await server.kill('SIGKILL');
    server = await startServer(env);
    api = client(server.url);
    h = hotel(api, propertyId, { admin, agent });
    await setClock(30);
    const marker = await h.openTicket('Mark Marker');
    await setClock(35);
    await eventually(async () => (await h.escalationAlerts(admin)).some((a) => a.conversationId === marker.id), 60_000, 'the marker to escalate');
    const final = countBy(await h.escalationAlerts(admin));
    expect(Object.keys(final)).toHaveLength(all.length + 1);
    expect(Object.values(final).every((n) => n === 1)).toBe(true);
    for (const id of [open[0]!, open[OPEN - 1]!, waiting[0]!.id]) expect(await h.escalations(id)).toHaveLength(1);
    const guestWait = (await h.escalations(waiting[0]!.id))[0]!;
    expect(guestWait.data).toMatchObject({ reason: 'guest_waiting', waitingSince: minutes(1).toISOString(), at: minutes(6).toISOString() });
  }, 300_000);
});
