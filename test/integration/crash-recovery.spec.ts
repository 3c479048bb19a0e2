/**
 * Durability: SIGKILL the real server (dist/main.js) while commands are in flight, start it
 * again on the same files. Every acknowledged command's events are there, nothing is
 * duplicated, and the read models equal a rebuild from the log.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { client, eventually } from '../support/http.js';
import { compareWithRebuild } from '../support/rebuild.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';
import { TEST_RATE_LIMITS, addPropertiesWithCli } from '../support/test-env.js';

const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;

async function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  // The embedded store only: the test run's REDIS_URL/MONGODB_URL must not leak into the server.
  const { REDIS_URL: _r, MONGODB_URL: _m, EVENTSTORE_URL: _e, ...env } = process.env;
  const serverEnv = { ...env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', AUTH_JWT_SECRET: TEST_SECRET, ...TEST_RATE_LIMITS };
  await addPropertiesWithCli(serverEnv, ['hotel-a']);
  const child = spawn(process.execPath, [MAIN], {
    env: serverEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok, 15000, 'server start');
  return child;
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));

describe('crash recovery', () => {
  const tmp = tempDir('lct-crash-');
  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill('SIGKILL');
    tmp.cleanup();
  });

  it('keeps every acknowledged command across SIGKILL, without duplicates, and read models equal a rebuild', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const base = `http://127.0.0.1:${port}`;
    const api = client(base);
    const tokens = new TokenService(TEST_SECRET);
    const admin = await tokens.employeeToken({ id: 'admin', propertyId: 'hotel-a', role: 'admin', name: 'Admin' });
    child = await startServer(tmp.dir, port);
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });

    // 20 workers: start a conversation, post messages, ask for a person, take over, reply... until killed.
    const acknowledged: Array<{ conversationId: string; position: string; kind: string }> = [];
    let killed = false;
    const worker = async (w: number) => {
      const employee = await tokens.employeeToken({ id: `agent-${w}`, propertyId: 'hotel-a', role: 'agent', name: `Agent ${w}` });
      while (!killed) {
        try {
          const g = await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: `Guest ${w}` });
          if (g.status !== 201) continue;
          acknowledged.push({ conversationId: g.body.conversationId, position: g.body.position, kind: 'start' });
          const steps: Array<[string, string, string, unknown]> = [
            ['msg', `/v1/guest/conversations/${g.body.conversationId}/messages`, g.body.guestToken, { text: 'hello' }],
            ['support', `/v1/guest/conversations/${g.body.conversationId}/support-requests`, g.body.guestToken, undefined],
            ['take-over', `/v1/conversations/${g.body.conversationId}/take-over`, employee, undefined],
            ['reply', `/v1/conversations/${g.body.conversationId}/messages`, employee, { text: 'hi there' }],
          ];
          for (const [kind, path, token, body] of steps) {
            const r = await api.post(path, token, body);
            if (r.status >= 200 && r.status < 300) acknowledged.push({ conversationId: g.body.conversationId, position: r.body.position, kind });
          }
        } catch {
          // connection refused/reset after the kill: this command was not acknowledged
        }
      }
    };
    const workers = Array.from({ length: 20 }, (_, w) => worker(w));
    await eventually(async () => acknowledged.length >= 300, 30000, '300 acknowledged commands');
    const dying = exited(child);
    child.kill('SIGKILL');
    killed = true;
    await Promise.all(workers);
    await dying;

    // Restart on the same files and let projections catch up.
    child = await startServer(tmp.dir, port);
    await eventually(async () => {
      const h = await api.get('/health');
      return h.body.projections.every((p: { lag: number }) => p.lag === 0) ? true : undefined;
    }, 45000, 'projections to catch up'); // includes waiting for the killed holder's lease (ttl 5 s) to expire
    const stopping = exited(child);
    child.kill('SIGTERM');
    await stopping;
    child = null;

    const store = new SqliteEventStore(join(tmp.dir, 'events.db'));
    try {
      const all = await store.readAll(null, 1_000_000);
      const positions = new Set(all.map((e) => e.position.toString()));
      for (const ack of acknowledged) expect(positions.has(ack.position)).toBe(true);
      // No event twice; every stream's revisions are 0..n-1 without gaps.
      expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
      const revisions = new Map<string, bigint[]>();
      for (const e of all) revisions.set(e.streamId, [...(revisions.get(e.streamId) ?? []), e.revision]);
      for (const [, revs] of revisions) expect(revs).toEqual(revs.map((_, i) => BigInt(i)));
      // Each acknowledged take-over happened exactly once in its stream.
      for (const ack of acknowledged.filter((a) => a.kind === 'take-over')) {
        const stream = all.filter((e) => e.streamId === `conversation-${ack.conversationId}`);
        expect(stream.filter((e) => e.type === 'TicketTakenOver')).toHaveLength(1);
      }
    } finally {
      await store.close();
    }

    const { live, rebuilt } = await compareWithRebuild(tmp.dir);
    expect(Object.keys(live).length).toBeGreaterThan(0);
    expect(live).toEqual(rebuilt);
  }, 90000);
});
