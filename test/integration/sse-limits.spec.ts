/**
 * The limits of an SSE stream, on the real process (dist/main.js):
 * - open streams are capped per principal and per client address: 429 `too_many_streams`
 *   with Retry-After, in the one error shape, before the stream starts;
 * - a stream ends when its token expires (the client renews and resumes with Last-Event-ID);
 *   a guest token living longer than a timer can wait (30 days) does not end it early;
 * - a client that does not read is cut, and its socket reset, so the kernel does not keep its
 *   unread megabytes; a client that reads gets a long resume in full, not cut.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { client, eventually } from '../support/http.js';
import { type ServerProcess, startServer } from '../support/processes.js';
import { SseClient, type SseEvent } from '../support/sse-client.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const tokens = new TokenService(TEST_SECRET);
const employee = (id: string, role: 'agent' | 'admin' = 'agent', lifetimeSeconds = 3600) =>
  tokens.employeeToken({ id, propertyId: 'hotel-a', role, name: id }, lifetimeSeconds);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('SSE stream limits (real process)', () => {
  const tmp = tempDir('lct-sse-limits-');
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.kill('SIGKILL');
    tmp.cleanup();
  });

  describe('caps and token expiry', () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer({ DATA_DIR: join(tmp.dir, 'caps'), SSE_MAX_STREAMS_PER_PRINCIPAL: '2', SSE_MAX_STREAMS_PER_ADDRESS: '4', SSE_HEARTBEAT_MS: '300' });
      servers.push(server);
    }, 30000);

    it('caps open streams per principal and per client address with 429 too_many_streams and Retry-After; a closed stream frees its slot', async () => {
      const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((id) => employee(id)));
      const open = (token: string) => SseClient.open(`${server.url}/v1/stream`, bearer(token));
      const a1 = await open(alice!);
      const a2 = await open(alice!);
      expect([a1.status, a2.status]).toEqual([200, 200]);

      const overPrincipal = await client(server.url).get('/v1/stream', alice);
      expect(overPrincipal.status).toBe(429);
      expect(overPrincipal.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(overPrincipal.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', code: 'too_many_streams', details: { cap: 'principal', limit: 2 } });
      expect(overPrincipal.body.requestId).toBe(overPrincipal.headers.get('x-request-id'));

      const b1 = await open(bob!);
      const c1 = await open(carol!);
      expect([b1.status, c1.status]).toEqual([200, 200]);
      const overAddress = await client(server.url).get('/v1/stream', dave);
      expect(overAddress.status).toBe(429);
      expect(overAddress.body).toMatchObject({ code: 'too_many_streams', details: { cap: 'address', limit: 4 } });

      // Leaving frees the slot (the server notices the closed connection).
      a1.close();
      const again = await eventually(async () => {
        const s = await open(alice!);
        if (s.status === 200) return s;
        s.close();
        return undefined;
      }, 10000, 'a slot for alice again');
      for (const s of [a2, b1, c1, again]) s.close();
    }, 30000);

    it("ends a stream when its token expires, and refuses to open one on an expired token; a guest's 30-day token keeps its stream open", async () => {
      const shortLived = await employee('erin', 'agent', 3);
      const expiresAtMs = JSON.parse(Buffer.from(shortLived.split('.')[1]!, 'base64url').toString()).exp * 1000;
      const stream = await eventually(async () => {
        const s = await SseClient.open(`${server.url}/v1/stream`, bearer(shortLived));
        if (s.status === 200) return s;
        s.close();
        return undefined; // a slot of the previous test may not be freed yet
      }, 10000, 'a stream for erin');
      await stream.waitFor((events) => events.some((e) => e.event === 'ready'));
      await stream.waitForEnd(15000);
      expect(stream.endedAt!).toBeGreaterThanOrEqual(expiresAtMs - 50);
      expect(stream.aborted).toBe(false);
      expect(stream.commentLines.some((c) => c.startsWith('token expired'))).toBe(true);

      // Within the verifier's clock tolerance the token still authenticates; the stream route refuses it.
      const refused = await client(server.url).get('/v1/stream', shortLived);
      expect(refused.status).toBe(401);

      const admin = await employee('grace', 'admin');
      await client(server.url).put('/v1/settings/live-chat', admin, { requestSupportChat: true }); // a known property
      const g = await client(server.url).post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Tom' });
      expect(g.status).toBe(201);
      const guest = await SseClient.open(`${server.url}/v1/guest/conversations/${g.body.conversationId}/stream`, bearer(g.body.guestToken));
      try {
        expect(guest.status).toBe(200);
        await guest.waitFor(() => guest.comments >= 3, 10000);
        expect(guest.endedAt).toBeNull();
      } finally {
        guest.close();
      }
    }, 40000);
  });

  describe('a client that does not read', () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer({
        DATA_DIR: join(tmp.dir, 'slow'),
        // The flood below is one client's doing: the abuse limits would stop it first.
        RATE_LIMIT_ENABLED: 'false',
        MAX_GUEST_MESSAGES_PER_CONVERSATION: '100000',
      });
      servers.push(server);
    }, 30000);

    it('is cut and its socket reset (nothing left in the kernel); a client that reads gets the whole resume', async () => {
      const api = client(server.url);
      const admin = await employee('grace', 'admin');
      await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true });
      const viewer = await employee('alice');
      const serverPort = Number(new URL(server.url).port);

      const before = await SseClient.open(`${server.url}/v1/stream`, bearer(viewer));
      await before.waitFor((events) => events.some((e) => e.event === 'ready'));
      const resumeFrom = before.lastEventId!;
      before.close();

      // Sends its request, then never reads (what it has read so far is all it ever will).
      const slow = net.connect(serverPort, '127.0.0.1');
      await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
      slow.on('error', () => undefined);
      slow.write(`GET /v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${viewer}\r\n\r\n`);
      slow.pause();
      const slowPort = slow.localPort!;
      await eventually(async () => serverSideSocket(serverPort, slowPort)?.state === ESTABLISHED, 5000, 'the slow stream');

      // Guest messages of 4,000 characters until the server has let go of the slow socket.
      const conversations = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: `Guest ${i}` })).body),
      );
      const text = 'x'.repeat(4000);
      let posted = 0;
      let released = false;
      await Promise.all(
        conversations.map(async (c) => {
          while (!released && posted < 2000) {
            const r = await api.post(`/v1/guest/conversations/${c.conversationId}/messages`, c.guestToken, { text });
            expect(r.status).toBe(201);
            posted++;
            const held = serverSideSocket(serverPort, slowPort);
            released = held === null || (held.state !== ESTABLISHED && held.txQueue === 0);
          }
        }),
      );
      expect(released).toBe(true);
      const held = serverSideSocket(serverPort, slowPort);
      expect(held === null || held.txQueue === 0).toBe(true);
      slow.destroy();

      // A client that reads resumes over all of that (megabytes, more than the 1 MiB buffer) in full.
      const resumed = await SseClient.open(`${server.url}/v1/stream`, { ...bearer(viewer), 'last-event-id': resumeFrom });
      try {
        const all = (events: SseEvent[]) => events.filter((e) => e.event === 'message.created' && e.data.message.text === text).length >= posted;
        await resumed.waitFor((events) => all(events) || resumed.aborted || resumed.endedAt !== null, 60000);
        expect(all(resumed.events)).toBe(true);
        expect(resumed.of('reset')).toEqual([]);
        expect(resumed.endedAt).toBeNull();
        expect(resumed.aborted).toBe(false);
      } finally {
        resumed.close();
      }
    }, 180000);
  });
});

const ESTABLISHED = '01';

/** The server's end of the TCP connection to `clientPort` (from /proc/net/tcp), with what it still holds unsent. */
function serverSideSocket(serverPort: number, clientPort: number): { state: string; txQueue: number } | null {
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const [, local, remote, state, queues] = fields as [string, string, string, string, string];
    if (parseInt(local.split(':')[1]!, 16) === serverPort && parseInt(remote.split(':')[1]!, 16) === clientPort) {
      return { state, txQueue: parseInt(queues.split(':')[0]!, 16) };
    }
  }
  return null;
}
