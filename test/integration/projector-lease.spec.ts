/**
 * Projector handover under the `projector` lease, on real SQLite files. A running app produces
 * traffic (its log is the source); separate "processes" — each its own event-store reader,
 * read-model store, lease store and ProjectionsService, as in the projector role — project that
 * log into one shared read-model file, each under a LeasedRunner with a short ttl.
 *
 * - The holder crashes (stops without releasing): another takes over once the lease expires,
 *   resumes from the stored checkpoint, and the read models equal a rebuild from the log.
 * - The holder can no longer renew (its lease store fails): it stops applying before the next
 *   one starts, and again nothing is skipped.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SqliteChangeFeed } from '../../src/adapters/sqlite/sqlite-change-feed.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteLeaseStore } from '../../src/adapters/sqlite/sqlite-lease-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { LeasedRunner } from '../../src/application/processing/leased-runner.js';
import { ProjectionsService } from '../../src/application/projections/projections.service.js';
import { client, eventually } from '../support/http.js';
import { compareStoresWithRebuild } from '../support/rebuild.js';
import { tempDir } from '../support/temp-dir.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const TTL = 600;

interface ProjectorProcess {
  id: string;
  store: SqliteReadModelStore;
  leases: SqliteLeaseStore;
  service: ProjectionsService;
  runner: LeasedRunner;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('projector handover under the lease', () => {
  const tmp = tempDir('lct-projector-lease-');
  const readModelsFile = join(tmp.dir, 'read-models.db');
  let t: TestApp;
  let events: SqliteEventStore;
  const processes: ProjectorProcess[] = [];
  const times: Record<string, number> = {};

  /** One projector-role process: its own connections, ProjectionsService and lease runner. */
  async function projectorProcess(id: string): Promise<ProjectorProcess> {
    const store = new SqliteReadModelStore(readModelsFile);
    const leases = new SqliteLeaseStore(readModelsFile);
    const service = new ProjectionsService(events, store, new SqliteChangeFeed(join(tmp.dir, `change-feed-${randomUUID()}.db`)));
    const runner = new LeasedRunner(leases, {
      name: 'projector',
      owner: id,
      ttlMs: TTL,
      start: async () => {
        await service.startAll();
        times[`${id}:started`] = Date.now();
      },
      stop: async () => {
        await service.stopAll();
        times[`${id}:stopped`] = Date.now();
      },
    });
    const p: ProjectorProcess = { id, store, leases, service, runner };
    processes.push(p);
    return p;
  }

  /** Guests starting conversations and writing (AVA answers each message) until stopped. */
  function traffic() {
    const api = client(t.url);
    let stopped = false;
    let sent = 0;
    const guests = Array.from({ length: 4 }, async (_, g) => {
      while (!stopped) {
        const started = await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: `Guest ${g}` });
        expect(started.status).toBe(201);
        for (let m = 0; m < 3 && !stopped; m++) {
          const res = await api.post(`/v1/guest/conversations/${started.body.conversationId}/messages`, started.body.guestToken, {
            text: `message ${m}`,
          });
          expect(res.status).toBe(201);
          sent++;
        }
      }
    });
    return {
      get sent() {
        return sent;
      },
      async stop() {
        stopped = true;
        await Promise.all(guests);
      },
    };
  }

  async function caughtUp(p: { service: ProjectionsService }) {
    // AVA answers the last guest messages asynchronously: wait for the log to go quiet first.
    let head = await events.headPosition();
    for (;;) {
      await sleep(300);
      const now = await events.headPosition();
      if (now === head) break;
      head = now;
    }
    await eventually(
      async () => {
        const head = await events.headPosition();
        const checkpoint = await p.service.checkpoint();
        return head !== null && checkpoint === head;
      },
      10_000,
      'the projector to reach the head of the log',
    );
  }

  async function equalsRebuild(p: { store: SqliteReadModelStore }) {
    const { live, rebuilt } = await compareStoresWithRebuild(events, p.store);
    expect(Object.values(rebuilt).some((docs) => docs.length > 0)).toBe(true);
    expect(live).toEqual(rebuilt);
  }

  beforeAll(async () => {
    t = await startTestApp();
    events = new SqliteEventStore(join(t.dataDir, 'events.db'));
  });

  afterAll(async () => {
    for (const p of processes) {
      await p.runner.stop();
      await p.leases.close();
      await p.store.close();
    }
    await events?.close();
    await t?.stop();
    tmp.cleanup();
  });

  it('a crashed holder is replaced after the ttl, from the stored checkpoint, skipping nothing', async () => {
    const a = await projectorProcess('A');
    const b = await projectorProcess('B');
    const load = traffic();
    await a.runner.start();
    await b.runner.start();
    expect(a.runner.running).toBe(true);
    expect(b.runner.running).toBe(false);
    await eventually(async () => ((await a.service.checkpoint()) ?? 0n) > 0n, 5000, 'A to apply something');

    await a.runner.stop({ release: false }); // crash: the lease stays until it expires
    const crashed = Date.now();
    const checkpointAtCrash = await b.service.checkpoint();
    await eventually(async () => b.runner.running, 5000, 'B to take over');
    const tookOver = Date.now() - crashed;
    expect(tookOver).toBeGreaterThanOrEqual(TTL / 3); // A had renewed at most ttl/3 before the crash
    expect(tookOver).toBeLessThan(TTL + TTL / 3 + 500);
    await sleep(300);
    await load.stop();
    expect(load.sent).toBeGreaterThan(0);
    expect((await events.headPosition())!).toBeGreaterThan(checkpointAtCrash!); // B had work left by A
    await caughtUp(b);
    await equalsRebuild(b);
  });

  it('a holder that cannot renew stops applying before the next one starts, and nothing is skipped', async () => {
    const b = processes.find((p) => p.id === 'B')!;
    expect(b.runner.running).toBe(true);
    const c = await projectorProcess('C');
    const load = traffic();
    await c.runner.start();
    expect(c.runner.running).toBe(false);
    await sleep(200);

    await b.leases.close(); // B's renewals now fail; it never hears "false"
    await eventually(async () => c.runner.running, 5000, 'C to take over');
    expect(times['B:stopped']).toBeDefined();
    expect(times['B:stopped']!).toBeLessThan(times['C:started']!);
    const stoppedWith = await c.service.checkpoint();
    await sleep(300);
    await load.stop();
    expect((await events.headPosition())!).toBeGreaterThan(stoppedWith!);
    await caughtUp(c);
    await equalsRebuild(c);
    expect(b.runner.running).toBe(false);
  });
});
