/**
 * A rebuild in production shape: the POST reaches an API-only process, the projector process
 * (holding the lease) carries it out, the API process's reads switch through the registry on
 * FerretDB (no transactions, bulk writes chunked), and nothing fails meanwhile. Real processes
 * of dist/main.js on a shared SQLite log, FerretDB read models and a private Redis feed.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { MongoReadModelStore } from '../../src/adapters/mongo/mongo-read-model-store.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { client, eventually } from '../support/http.js';
import { productionMode } from '../support/ferretdb.js';
import type { ServerProcess } from '../support/processes.js';
import { compareStoresWithRebuild } from '../support/rebuild.js';
import { SseClient } from '../support/sse-client.js';
import { TEST_SECRET } from '../support/test-app.js';

const PROPERTY = 'hotel-mp-rebuild';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a rebuild asked of an API process, carried out by the projector process', () => {
  const stores = productionMode('lct-mprb');
  const { mongoUrl } = stores;
  const tokens = new TokenService(TEST_SECRET);
  let api: ServerProcess, projector: ServerProcess;
  let admin: string, operator: string, alice: string;
  const conversations: string[] = [];

  beforeAll(async () => {
    projector = await stores.start('projector,worker');
    api = await stores.start('api');
    admin = await tokens.employeeToken({ id: 'boss', propertyId: PROPERTY, role: 'admin', name: 'Boss' });
    operator = await tokens.employeeToken({ id: 'operator', propertyId: PROPERTY, role: 'agent', name: 'Operator', ops: true });
    alice = await tokens.employeeToken({ id: 'alice', propertyId: PROPERTY, role: 'agent', name: 'Alice' });
    const http = client(api.url);
    expect((await http.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
    for (let i = 0; i < 60; i++) {
      const g = (await http.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: `Guest ${i}` })).body;
      await http.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken);
      if (i % 3 === 0) await http.post(`/v1/conversations/${g.conversationId}/take-over`, alice);
      conversations.push(g.conversationId);
    }
    await eventually(async () => {
      const h = (await http.get('/health')).body;
      return h.projections.every((p: { lag: number }) => p.lag === 0) ? true : undefined;
    }, 30_000, 'the projector to catch up');
  }, 120_000);

  it('switches the API process to the new version without a failed or short read, then drops the old one', async () => {
    const http = client(api.url);
    const inbox = (await http.get('/v1/ops/projections', operator)).body.projections.find((p: { name: string }) => p.name === 'inbox');
    const sse = await SseClient.open(`${api.url}/v1/stream`, { authorization: `Bearer ${alice}` });
    await sse.waitFor((es) => es.some((e) => e.event === 'ready'));

    const reads = { total: 0, bad: [] as unknown[] };
    let polling = true;
    const pollers = Array.from({ length: 3 }, async () => {
      while (polling) {
        const r = await http.get('/v1/conversations?limit=100', alice);
        reads.total++;
        if (r.status !== 200 || r.body.items.length !== conversations.length) reads.bad.push({ status: r.status, n: r.body?.items?.length });
      }
    });
    const accepted = await http.post('/v1/ops/projections/inbox/rebuild', operator);
    expect(accepted.status).toBe(202);
    const done = await eventually(async () => {
      const p = (await http.get('/v1/ops/projections', operator)).body.projections.find((x: { name: string }) => x.name === 'inbox');
      if (p.rebuild?.state === 'failed') throw new Error(JSON.stringify(p.rebuild));
      return p.rebuild?.state === 'done' ? p : undefined;
    }, 60_000, 'the rebuild to finish');
    await sleep(1000); // reads on after the drop
    polling = false;
    await Promise.all(pollers);

    expect(done).toMatchObject({ version: inbox.version + 1, lag: { events: 0 } });
    expect(reads.total).toBeGreaterThan(20);
    expect(reads.bad).toEqual([]);
    expect(sse.events.filter((e) => e.event !== 'ready')).toEqual([]);
    sse.close();

    const raw = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
    try {
      const names = (await raw.db().listCollections().toArray()).map((c) => c.name);
      expect(names).toEqual(expect.arrayContaining([`conversations_v${inbox.version + 1}`]));
      expect(names).not.toContain(`conversations_v${inbox.version}`);
      expect(await raw.db().collection('checkpoints').findOne({ _id: `inbox@${inbox.version}` as never })).toBeNull();
    } finally {
      await raw.close();
    }
    const events = new SqliteEventStore(join(stores.dir, 'events.db'));
    const live = await MongoReadModelStore.connect(mongoUrl);
    try {
      const { live: liveDocs, rebuilt } = await compareStoresWithRebuild(events, live);
      expect(liveDocs.conversations).toHaveLength(conversations.length);
      expect(liveDocs).toEqual(rebuilt);
    } finally {
      await events.close();
      await live.close();
    }
  }, 90_000);
});
