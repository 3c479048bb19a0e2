/**
 * Production shape on one machine: two API processes, one projector+worker process, shared
 * SQLite event log (WAL, several processes), read models on FerretDB (MongoDB protocol),
 * change feed on a private Redis. All real processes of dist/main.js.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { MongoReadModelStore } from '../../src/adapters/mongo/mongo-read-model-store.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { client, eventually } from '../support/http.js';
import { productionMode } from '../support/ferretdb.js';
import { type ServerProcess, startServer } from '../support/processes.js';
import { compareStoresWithRebuild } from '../support/rebuild.js';
import { SseClient } from '../support/sse-client.js';
import { TEST_SECRET } from '../support/test-app.js';

describe('several processes on Redis + FerretDB', () => {
  const stores = productionMode('lct-mp');
  const { mongoUrl } = stores;
  const tokens = new TokenService(TEST_SECRET);
  let apiA: ServerProcess, apiB: ServerProcess, projector: ServerProcess;
  let admin: string;

  const employee = (id: string) => tokens.employeeToken({ id, propertyId: 'hotel-mp', role: 'agent', name: `Agent ${id}` });

  async function openTicket(base: string, name = 'Guest'): Promise<{ conversationId: string; guestToken: string }> {
    const api = client(base);
    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-mp', guestName: name })).body;
    const r = await api.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken);
    expect(r.body.ticketOpened).toBe(true);
    return g;
  }

  beforeAll(async () => {
    projector = await stores.start('projector,worker');
    [apiA, apiB] = await Promise.all([stores.start('api'), stores.start('api')]);
    admin = await tokens.employeeToken({ id: 'boss', propertyId: 'hotel-mp', role: 'admin', name: 'Boss' });
    const set = await client(apiA.url).put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
    expect(set.status).toBe(200);
  }, 60000);

  it('serves the API only from api processes; a worker process answers health alone', async () => {
    const token = await employee('roles');
    expect((await client(projector.url).get('/v1/conversations', token)).status).toBe(404);
    expect((await client(projector.url).get('/docs')).status).toBe(404);
    expect((await client(projector.url).get('/health')).status).toBe(200);
    expect((await client(apiA.url).get('/v1/conversations', token)).status).toBe(200);
  });

  it('shows a take-over made through instance A on an SSE stream held on instance B', async () => {
    const ticket = await openTicket(apiA.url);
    const stream = await SseClient.open(`${apiB.url}/v1/stream`, { authorization: `Bearer ${await employee('watcher')}` });
    await stream.waitFor((es) => es.some((e) => e.event === 'ready'));
    const taken = await client(apiA.url).post(`/v1/conversations/${ticket.conversationId}/take-over`, await employee('amy'));
    expect(taken.status).toBe(200);
    await stream.waitFor((es) =>
      es.some((e) => e.event === 'conversation.updated' && e.data.conversation.id === ticket.conversationId && e.data.conversation.badge === 'assigned'),
    );
    stream.close();
  });

  it('has exactly one winner when 50 employees race through both instances', async () => {
    const ticket = await openTicket(apiB.url, 'Racer');
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) =>
        client(i % 2 ? apiA.url : apiB.url).post(`/v1/conversations/${ticket.conversationId}/take-over`, await employee(`r${i}`)),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(49);
    const history = await client(apiA.url).get(`/v1/ops/conversations/${ticket.conversationId}/history`, admin);
    expect(history.body.events.filter((e: { type: string }) => e.type === 'TicketTakenOver')).toHaveLength(1);
  });

  it('appends once for a command retried with the same Idempotency-Key on the other instance', async () => {
    const ticket = await openTicket(apiA.url, 'Retry');
    const amy = await employee('amy');
    const headers = { 'idempotency-key': `take-${ticket.conversationId}` };
    const first = await client(apiA.url).post(`/v1/conversations/${ticket.conversationId}/take-over`, amy, undefined, headers);
    const retry = await client(apiB.url).post(`/v1/conversations/${ticket.conversationId}/take-over`, amy, undefined, headers);
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body.position).toBe(first.body.position);
    const history = await client(apiB.url).get(`/v1/ops/conversations/${ticket.conversationId}/history`, admin);
    expect(history.body.events.filter((e: { type: string }) => e.type === 'TicketTakenOver')).toHaveLength(1);
  });

  it('keeps every command and the SSE stream while Redis restarts', async () => {
    const stream = await SseClient.open(`${apiB.url}/v1/stream`, { authorization: `Bearer ${await employee('watcher2')}` });
    await stream.waitFor((es) => es.some((e) => e.event === 'ready'));
    await stores.redis.stop();
    // Commands never depend on Redis: they land in the log while it is down.
    const during = await openTicket(apiA.url, 'During outage');
    await stores.redis.start();
    const after = await openTicket(apiA.url, 'After outage');
    const seen = (id: string) => (es: typeof stream.events) =>
      es.some((e) => e.event === 'conversation.updated' && e.data.conversation.id === id && e.data.conversation.ticket?.status === 'open');
    await stream.waitFor(seen(during.conversationId), 20000);
    await stream.waitFor(seen(after.conversationId), 20000);
    const ids = stream.events.filter((e) => e.id).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    stream.close();
  }, 60000);

  it('lets another projector take over after SIGKILL, ending equal to a rebuild from the log', async () => {
    const api = client(apiA.url);
    let stop = false;
    const load = (async () => {
      while (!stop) await openTicket(apiA.url, 'Load').catch(() => undefined);
    })();
    await new Promise((r) => setTimeout(r, 500));
    await projector.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    projector = await stores.start('projector,worker');
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await load;
    // The dead holder's lease must expire first (~7 s); then the successor prepares and catches
    // up on FerretDB, which is slow per write (measured 20–30 s here with per-projection checkpoints).
    await eventually(async () => {
      const h = await api.get('/health');
      return h.body.projections.every((p: { lag: number }) => p.lag === 0) ? true : undefined;
    }, 90000, 'the new projector to catch up');

    const events = new SqliteEventStore(join(stores.dir, 'events.db'));
    const live = await MongoReadModelStore.connect(mongoUrl);
    try {
      const { live: liveDocs, rebuilt } = await compareStoresWithRebuild(events, live);
      expect(Object.values(liveDocs).some((docs) => docs.length > 0)).toBe(true);
      expect(liveDocs).toEqual(rebuilt);
    } finally {
      await events.close();
      await live.close();
    }
  }, 150000);

  it.each([
    ['MONGODB_URL', { MONGODB_URL: 'mongodb://127.0.0.1:1/unreachable' }],
    ['MONGODB_URL', { MONGODB_URL: 'not a url' }],
    ['REDIS_URL', { REDIS_URL: 'redis://127.0.0.1:1' }],
    ['REDIS_URL', { REDIS_URL: 'http://127.0.0.1:6379' }],
    ['EVENTSTORE_URL', { EVENTSTORE_URL: 'esdb://127.0.0.1:1?tls=false' }],
    ['EVENTSTORE_URL', { EVENTSTORE_URL: 'nonsense' }],
  ])('fails fast naming %s when it is unreachable or malformed', async (variable, bad) => {
    const started = Date.now();
    const server = await startServer({ DATA_DIR: stores.dir, ...bad }, { waitForHealth: false });
    await new Promise<void>((r) => (server.child.exitCode !== null ? r() : server.child.once('exit', () => r())));
    expect(server.child.exitCode).not.toBe(0);
    expect(server.stderr()).toContain(variable);
    expect(Date.now() - started).toBeLessThan(15000);
  }, 20000);
});
