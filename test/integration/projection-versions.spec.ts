/**
 * Each member of the projector group keeps its own checkpoint (`name@version`): changing one
 * projection's version (or adding one) replays that one alone, and publishes nothing of what it
 * replays; the others resume where they were. A log produced by the real app on SQLite files,
 * then the group (Projector under a LogConsumer, as the projector role runs it) over it, with
 * every projection's `apply` counted.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SqliteChangeFeed } from '../../src/adapters/sqlite/sqlite-change-feed.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import type { StoredEvent } from '../../src/application/ports/event-store.js';
import { LogConsumer } from '../../src/application/processing/log-consumer.js';
import { GROUP_CHECKPOINT, PUBLISHED_CHECKPOINT, Projector } from '../../src/application/processing/projector.js';
import { type Projection, checkpointName } from '../../src/application/projections/projection.js';
import { ProjectionRegistry } from '../../src/application/projections/projection-registry.js';
import { PROJECTIONS } from '../../src/application/projections/projections.service.js';
import { client, eventually } from '../support/http.js';
import { compareStoresWithRebuild } from '../support/rebuild.js';
import { tempDir } from '../support/temp-dir.js';
import { startTestApp } from '../support/test-app.js';

const PROPERTY = 'hotel-versions';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a projection whose version changes replays alone', () => {
  const tmp = tempDir('lct-versions-');
  let events: SqliteEventStore;
  let log: StoredEvent[];

  /** The projections with `apply` counted per name (and some at another version). */
  function counted(bump: Record<string, number> = {}) {
    const counts = new Map<string, number>();
    const list: Projection[] = PROJECTIONS.map((p) => ({
      ...p,
      version: bump[p.name] ?? p.version,
      apply: async (e, ctx) => {
        counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
        return p.apply(e, ctx);
      },
    }));
    return { list, counts };
  }

  async function runGroup(store: SqliteReadModelStore, list: Projection[], feed: SqliteChangeFeed) {
    const consumer = new LogConsumer(new Projector(list, store, feed, new ProjectionRegistry(store, list)), events, store);
    await consumer.start();
    const head = (await events.headPosition())!;
    await eventually(async () => (consumer.position === head ? true : undefined), 10_000, 'the group to reach the head');
    return consumer;
  }

  const handled = (p: Projection) => log.filter((e) => p.handles.has(e.type)).length;

  beforeAll(async () => {
    // A log with every kind of event: settings, conversations, tickets taken over, answered, closed.
    const t = await startTestApp({}, tmp.dir);
    const api = client(t.url);
    const admin = await t.employee('boss', PROPERTY, 'admin');
    const alice = await t.employee('alice', PROPERTY);
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
    await api.put('/v1/me/settings', alice, { incomingSupportRequests: true, assignedChatActivity: true });
    await api.put('/v1/settings/escalation', admin, { escalateAfterMinutes: 30 });
    for (let i = 0; i < 8; i++) {
      const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: `G${i}` })).body;
      await api.post(`/v1/guest/conversations/${g.conversationId}/messages`, g.guestToken, { text: 'hi' });
      await api.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken);
      if (i % 2) {
        await api.post(`/v1/conversations/${g.conversationId}/take-over`, alice);
        await api.post(`/v1/conversations/${g.conversationId}/messages`, alice, { text: 'hello' });
        await api.post(`/v1/conversations/${g.conversationId}/close`, alice);
      }
    }
    // AVA answers asynchronously: wait until nothing more is appended and the projections applied it all.
    for (let last = ''; ; ) {
      await sleep(300);
      const h = (await api.get('/health')).body;
      if (JSON.stringify(h) === last && h.projections.every((p: { lag: number }) => p.lag === 0)) break;
      last = JSON.stringify(h);
    }
    await t.stop(); // stops the projector and the stores; the files stay (the data dir is ours)
    events = new SqliteEventStore(join(tmp.dir, 'events.db'));
    log = await events.readAll(null, 100_000);
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    tmp.cleanup();
  });

  it('replays only the changed one, publishes none of its replay, and the others resume where they were', async () => {
    const store = new SqliteReadModelStore(join(tmp.dir, 'read-models.db'));
    try {
      const registry = new ProjectionRegistry(store, PROJECTIONS);
      const settings = PROJECTIONS.find((p) => p.name === 'settings')!;
      const before = await registry.read();
      expect(before.versions.get('settings')).toBe(settings.version);
      const others = PROJECTIONS.filter((p) => p !== settings);
      const checkpointsBefore = await Promise.all(others.map((p) => store.checkpoint(checkpointName(p))));
      expect(checkpointsBefore.every((c) => c === log[log.length - 1]!.position)).toBe(true);

      const { list, counts } = counted({ settings: settings.version + 1 });
      const feed = new SqliteChangeFeed(join(tmp.dir, 'change-feed-replay.db'), { capacity: 100_000 }); // would show anything published
      const consumer = await runGroup(store, list, feed);

      expect(Object.fromEntries(counts)).toEqual({ settings: handled(settings) });
      expect(handled(settings)).toBeGreaterThan(2);
      expect((await feed.readAfter('0-0', 100_000)).entries).toEqual([]);
      const after = await registry.read();
      expect(after.versions.get('settings')).toBe(settings.version + 1);
      expect(after.stored.get('settings')).toMatchObject({ version: settings.version + 1, codeVersion: settings.version + 1 });
      expect(after.stored.get('settings')!.retired.map((r) => r.version)).toEqual([settings.version]);
      expect(await Promise.all(others.map((p) => store.checkpoint(checkpointName(p))))).toEqual(checkpointsBefore);
      expect(await store.checkpoint(`settings@${settings.version + 1}`)).toBe(log[log.length - 1]!.position);

      // What happens next reaches every member once, and is published once.
      const conversationId = randomUUID();
      const appended = await events.append(
        `conversation-${conversationId}`,
        [
          {
            id: randomUUID(),
            type: 'ConversationStarted',
            data: { conversationId, propertyId: PROPERTY, guestName: 'Late', at: new Date().toISOString() },
            metadata: { propertyId: PROPERTY, commandId: randomUUID(), actor: { kind: 'guest', id: conversationId } },
          },
        ],
        'no_stream',
      );
      await eventually(async () => (consumer.position === appended.position ? true : undefined), 5000, 'the new event');
      await consumer.stop();
      const startedHandlers = PROJECTIONS.filter((p) => p.handles.has('ConversationStarted')).map((p) => [p.name, 1]);
      expect(startedHandlers.length).toBeGreaterThan(0);
      expect(Object.fromEntries(counts)).toEqual({ settings: handled(settings), ...Object.fromEntries(startedHandlers) });
      expect((await feed.readAfter('0-0', 100_000)).entries.map((e) => [e.id, e.type])).toEqual([[`${appended.position}-0`, 'conversation.updated']]);

      log = await events.readAll(null, 100_000);
      const { live, rebuilt } = await compareStoresWithRebuild(events, store);
      expect(live).toEqual(rebuilt);
    } finally {
      await store.close();
    }
  });

  it('resumes from the checkpoint the group had before its members had their own; a projection added behind it replays alone', async () => {
    // Read models as the previous release left them: every collection at the code's version,
    // one checkpoint named after the members (here: all but the last, which is "new").
    const legacy = tempDir('lct-legacy-');
    const store = new SqliteReadModelStore(join(legacy.dir, 'read-models.db'));
    try {
      const known = PROJECTIONS.slice(0, -1);
      const added = PROJECTIONS[PROJECTIONS.length - 1]!;
      const last = log[log.length - 1]!.position;
      const old = new Projector(known, store, null);
      await old.prepare();
      for (let after: bigint | null = null; ; ) {
        const batch = await events.readAll(after, 500);
        if (batch.length === 0) break;
        after = batch[batch.length - 1]!.position;
        await store.commit(known.map(checkpointName).join('+'), await old.handle(batch), after);
      }
      for (const p of known) await store.drop(checkpointName(p), []); // the old release had none of these

      const { list, counts } = counted();
      const feed = new SqliteChangeFeed(join(legacy.dir, 'change-feed-legacy.db'), { capacity: 100_000 });
      const consumer = await runGroup(store, list, feed);
      await consumer.stop();

      expect(Object.fromEntries(counts)).toEqual(handled(added) > 0 ? { [added.name]: handled(added) } : {});
      expect((await feed.readAfter('0-0', 100_000)).entries).toEqual([]);
      for (const p of PROJECTIONS) expect(await store.checkpoint(checkpointName(p))).toBe(last);
      expect(await store.checkpoint(PUBLISHED_CHECKPOINT)).toBe(last);
      expect(await store.checkpoint(GROUP_CHECKPOINT)).toBe(last);
      expect(await store.checkpoint(known.map(checkpointName).join('+'))).toBeNull();
      const { live, rebuilt } = await compareStoresWithRebuild(events, store);
      expect(live).toEqual(rebuilt);
    } finally {
      await store.close();
      legacy.cleanup();
    }
  });
});
