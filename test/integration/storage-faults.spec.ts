/**
 * Storage faults (issue 9, item 6) on a real full disk: the data dir is a small tmpfs
 * (test/support/small-disk.ts: it fails loudly if it cannot be mounted), filled to the last
 * byte with a ballast file, so SQLite itself answers SQLITE_FULL. Through HTTP:
 * - while full: commands answer 503 `storage_unavailable` with Retry-After in the one error
 *   shape, reads still work, /health/ready is 503 naming the event store;
 * - nothing half-written: a refused message is not in the log, and retried with its
 *   Idempotency-Key once space is back it is appended once;
 * - AVA retries the replies she could not write (the AI answers while the disk is full: a
 *   local AI service holds its answers until the disk has been filled), so every accepted
 *   guest message gets exactly one answer once space is back — also across a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { OPENAPI_FILE } from '../../src/app.js';
import { client, eventually } from '../support/http.js';
import { type Json, type JsonObject, deref, loadSpec, validate } from '../support/openapi.js';
import { type SmallDisk, mountSmallDisk } from '../support/small-disk.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const PROPERTY = 'hotel-full-disk';

/** An AI service that answers every message, and can hold its answers until released. */
class HeldAi {
  calls = 0;
  private held: Array<() => void> | null = null;
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        this.calls++;
        const { text } = JSON.parse(body) as { text: string };
        const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ reply: `Re: ${text}` }));
        if (this.held) this.held.push(answer);
        else answer();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ai`;
  }
  hold() {
    this.held = [];
  }
  get waiting() {
    return this.held?.length ?? 0;
  }
  release() {
    const held = this.held ?? [];
    this.held = null;
    for (const answer of held) answer();
  }
  stop() {
    this.release();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

let disk: SmallDisk;
let dataDir: string;
const ai = new HeldAi();
let app: TestApp;
let api: ReturnType<typeof client>;
let admin: string;
const env = () => ({ AI_RESPONDER_URL: ai.url, RATE_LIMIT_ENABLED: 'false' });

interface Guest {
  conversationId: string;
  guestToken: string;
}
/** Every guest message the service accepted (201), per conversation. */
const accepted = new Map<string, string[]>();

async function startGuest(name: string): Promise<Guest> {
  const res = await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: name });
  expect(res.status).toBe(201);
  accepted.set(res.body.conversationId, []);
  return res.body;
}

async function post(guest: Guest, text: string, key = `msg-${Buffer.from(text).toString("hex")}`) {
  const res = await api.post(`/v1/guest/conversations/${guest.conversationId}/messages`, guest.guestToken, { text }, { 'idempotency-key': key });
  if (res.status === 201) accepted.get(guest.conversationId)!.push(res.body.message.id);
  return res;
}

/** Guest messages until one is refused: on a full disk SQLite may still fit a few into its WAL. */
async function postUntilRefused(guest: Guest, prefix: string) {
  for (let i = 0; i < 200; i++) {
    const res = await post(guest, `${prefix}-${i}`);
    if (res.status !== 201) return { res, text: `${prefix}-${i}` };
  }
  throw new Error('200 guest messages were accepted on a full disk');
}

async function history(conversationId: string) {
  const res = await api.get(`/v1/ops/conversations/${conversationId}/history`, admin);
  expect(res.status).toBe(200);
  return res.body.events as Array<{ type: string; data: Record<string, string> }>;
}

/** Every accepted guest message has exactly one AVA reply, and there are no others. */
async function everyMessageAnsweredOnce(): Promise<true | false> {
  for (const [conversationId, messageIds] of accepted) {
    const events = await history(conversationId);
    const replies = events.filter((e) => e.type === 'AiReplyPosted').map((e) => e.data.inReplyTo);
    const posted = events.filter((e) => e.type === 'GuestMessagePosted').map((e) => e.data.messageId);
    expect(posted.sort()).toEqual([...messageIds].sort()); // nothing refused got in, nothing accepted got lost
    expect(replies.length).toBeLessThanOrEqual(posted.length);
    expect(new Set(replies).size).toBe(replies.length); // never twice
    if (replies.length < posted.length) return false;
    expect(replies.sort()).toEqual(posted.sort());
  }
  return true;
}

const ready = async () => (await api.get('/health/ready')).status;

beforeAll(async () => {
  disk = mountSmallDisk(24); // throws (the suite fails) if no tmpfs can be mounted
  dataDir = join(disk.dir, 'data');
  await ai.start();
  app = await startTestApp(env(), dataDir);
  api = client(app.url);
  admin = await app.employee('fay', PROPERTY, 'admin');
  expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: false, chatMode: 'ai_only' })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await app?.stop().catch(() => undefined);
  await ai.stop();
  disk?.unmount();
});

describe('a full disk', () => {
  it('answers 503 storage_unavailable, keeps reads, reports it on /health/ready, and AVA answers what she could not once space is back', async () => {
    const anna = await startGuest('Anna');
    const ben = await startGuest('Ben');
    expect((await post(anna, 'hello')).body).toMatchObject({ ava: 'replied' });

    // AVA is asked while there is room, and answers once the disk is full.
    ai.hold();
    expect((await post(anna, 'breakfast?')).status).toBe(201);
    expect((await post(ben, 'parking?')).status).toBe(201);
    await eventually(async () => ai.waiting >= 1, 10_000, 'AVA to ask the AI');
    expect(disk.fill()).toBeGreaterThan(0);
    const refused = await postUntilRefused(ben, 'full');
    const callsBefore = ai.calls;
    ai.release();

    expect(refused.res.status).toBe(503);
    expect(refused.res.headers.get('retry-after')).toBe('5');
    expect(refused.res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Storage is unavailable right now; nothing was written, try again later',
      code: 'storage_unavailable',
      details: { store: 'eventStore' },
      requestId: refused.res.headers.get('x-request-id'),
    });
    // As documented: the guest message route lists this 503, and the body is its Error shape.
    const spec = loadSpec(OPENAPI_FILE);
    const documented = deref(spec, ((spec.paths['/v1/guest/conversations/{id}/messages']!.post as JsonObject).responses as JsonObject)['503']!) as JsonObject;
    const schema = ((documented.content as JsonObject)['application/json'] as JsonObject).schema!;
    expect(validate(spec, schema, refused.res.body as Json, '$', { closed: true })).toEqual([]);
    expect(Object.keys(documented.headers as JsonObject)).toEqual(['Retry-After']);

    const settings = await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true });
    expect(settings).toMatchObject({ status: 503, body: { code: 'storage_unavailable' } });
    const started = await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: 'Cleo' });
    expect(started).toMatchObject({ status: 503, body: { code: 'storage_unavailable' } });

    // Reads keep working; readiness says what is wrong.
    expect((await api.get(`/v1/guest/conversations/${anna.conversationId}`, anna.guestToken)).status).toBe(200);
    const notReady = await api.get('/health/ready');
    expect(notReady).toMatchObject({ status: 503, body: { code: 'not_ready' } });
    expect(notReady.body.message).toContain('eventStore');

    // AVA got her answers from the AI, could not write them, and keeps trying (it asks again).
    await eventually(async () => ai.calls >= callsBefore + 2, 20_000, 'AVA to retry a reply she could not write');
    expect(await everyMessageAnsweredOnce()).toBe(false);
    expect(await ready()).toBe(503);

    disk.free();
    await eventually(async () => (await ready()) === 200, 20_000, '/health/ready to be 200 again');
    await eventually(everyMessageAnsweredOnce, 30_000, 'every accepted guest message to have exactly one AVA answer');

    // The refused message was not written; retried with its key it is now, once.
    expect((await history(ben.conversationId)).some((e) => e.type === 'GuestMessagePosted' && e.data.text === refused.text)).toBe(false);
    const retried = await post(ben, refused.text);
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect((await post(ben, refused.text)).headers.get('idempotent-replayed')).toBe('true');
    accepted.get(ben.conversationId)!.pop(); // the replay answered the same message
    await eventually(everyMessageAnsweredOnce, 30_000, 'the retried message to be answered once');
    expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true })).status).toBe(200);
  }, 120_000);

  it('leaves no reply unanswered across a restart while the disk was full', async () => {
    const dora = await startGuest('Dora');
    ai.hold();
    expect((await post(dora, 'late checkout?')).status).toBe(201);
    await eventually(async () => ai.waiting >= 1, 10_000, 'AVA to ask the AI');
    disk.fill();
    expect((await postUntilRefused(dora, 'restart')).res.status).toBe(503);
    const callsBefore = ai.calls;
    ai.release();
    await eventually(async () => ai.calls >= callsBefore + 2, 20_000, 'AVA to retry a reply she could not write');
    expect(await everyMessageAnsweredOnce()).toBe(false);

    // Stopped while the disk is still full; started again once there is room.
    await app.stop();
    disk.free();
    app = await startTestApp(env(), dataDir);
    api = client(app.url);
    await eventually(everyMessageAnsweredOnce, 30_000, 'every accepted guest message to have exactly one AVA answer after the restart');
    expect(await ready()).toBe(200);
  }, 120_000);
});
