/**
 * `npm start` on the embedded store (dist/main.js, no store URL): the API in the started
 * process, the log consumers in a child process of it (src/embedded-workers.ts). SSE events
 * reach the parent from the child's projector through change-feed.db; a child killed outright
 * is restarted and the stream goes on without a missing, repeated or reordered id; SIGTERM
 * stops both within 5 s; a child whose parent was killed exits by itself; EMBEDDED_WORKERS=inline
 * keeps one process.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { SqliteChangeFeed } from '../../src/adapters/sqlite/sqlite-change-feed.js';
import { client, eventually } from '../support/http.js';
import { type ServerProcess, startServer } from '../support/processes.js';
import { SseClient } from '../support/sse-client.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const tokens = new TokenService(TEST_SECRET);
const employee = (id: string, role: 'agent' | 'admin' = 'agent') => tokens.employeeToken({ id, propertyId: 'hotel-a', role, name: id });

/** The parent pid of a running process (Linux /proc), or null once it is gone (a zombie has exited: gone). */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? null : Number(ppid);
  } catch {
    return null;
  }
}

const alive = (pid: number) => parentOf(pid) !== null;

/** The child's pid and restarts as /health/ready reports them, once it is running. */
async function runningChild(base: string, notPid?: number): Promise<{ pid: number; restarts: number }> {
  return eventually(async () => {
    const r = await client(base).get('/health/ready');
    const child = r.body?.details?.embeddedWorkers;
    return r.status === 200 && child?.status === 'up' && child.pid !== notPid ? { pid: child.pid as number, restarts: child.restarts as number } : undefined;
  }, 30000, 'the log consumers child process to run');
}

/** Opens a ticket; answers the support request's log position (its SSE ids are `${position}-n`). */
async function openTicket(base: string, name: string): Promise<{ conversationId: string; position: string }> {
  const api = client(base);
  const g = await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: name });
  expect(g.status).toBe(201);
  const r = await api.post(`/v1/guest/conversations/${g.body.conversationId}/support-requests`, g.body.guestToken);
  expect(r.body.ticketOpened).toBe(true);
  return { conversationId: g.body.conversationId, position: r.body.position };
}

/** main.ts's start-up line (it may follow the first answer to /health by a moment). */
const listeningLine = (server: ServerProcess) =>
  eventually(async () => server.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => /listening on/.test(l.msg)), 5000, 'the listening line');

const positionOf = (id: string) => id.split('-')[0]!;

describe('npm start on the embedded store: the log consumers in a supervised child process', () => {
  const tmp = tempDir('lct-embedded-workers-');
  const servers: ServerProcess[] = [];
  const strays: number[] = [];
  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) await s.kill('SIGKILL');
    for (const pid of strays) if (alive(pid)) process.kill(pid, 'SIGKILL');
    tmp.cleanup();
  });
  const start = async (dataDir: string, env: Record<string, string> = {}) => {
    const server = await startServer({ DATA_DIR: dataDir, ...env }, { captureStdout: true });
    servers.push(server);
    return server;
  };

  it('runs two processes; a command reaches SSE through the child; a killed child is restarted and the stream misses and repeats nothing; SIGTERM stops both within 5 s', async () => {
    const dataDir = join(tmp.dir, 'split');
    const server = await start(dataDir);
    const first = await runningChild(server.url);
    strays.push(first.pid);
    expect(parentOf(first.pid)).toBe(server.child.pid);
    expect(first.restarts).toBe(0);
    const listening = await listeningLine(server);
    expect(listening).toMatchObject({ pid: server.child.pid, roles: ['api'], workerPid: first.pid });
    // The child logs to the same output, as itself.
    expect(server.stdout()).toMatch(new RegExp(`"pid":${first.pid},[^\\n]*"context":"Lease:projector","msg":"acquired`));

    const api = client(server.url);
    expect((await api.put('/v1/settings/live-chat', await employee('boss', 'admin'), { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
    const stream = await SseClient.open(`${server.url}/v1/stream`, { authorization: `Bearer ${await employee('watcher')}` });
    await stream.waitFor((es) => es.some((e) => e.event === 'ready'));
    const seen = (position: string) => stream.events.some((e) => e.event === 'conversation.updated' && e.id && positionOf(e.id) === position);

    // Before: the child's projector publishes, the parent's stream shows it.
    const tickets = [await openTicket(server.url, 'before')];
    await stream.waitFor(() => seen(tickets[0]!.position), 10000);

    // The child killed outright while commands keep coming: it is restarted (its leases expire first, ttl 5 s).
    process.kill(first.pid, 'SIGKILL');
    for (let i = 0; i < 10; i++) tickets.push(await openTicket(server.url, `while-${i}`));
    const second = await runningChild(server.url, first.pid);
    strays.push(second.pid);
    expect(second.restarts).toBe(1);
    expect(parentOf(second.pid)).toBe(server.child.pid);
    for (let i = 0; i < 5; i++) tickets.push(await openTicket(server.url, `after-${i}`));
    await stream.waitFor(() => tickets.every((t) => seen(t.position)), 30000);
    expect(server.stdout()).toMatch(new RegExp(`"msg":"log consumers' child process ${first.pid} exited \\(signal SIGKILL\\): restarting it in \\d+ ms"`));

    // The stream: ids in order, none twice, never reset or ended, and exactly the feed's conversation updates for these tickets.
    const ids = stream.events.filter((e) => e.event !== 'ready').map((e) => e.id!);
    const sorted = [...ids].sort((a, b) => (BigInt(positionOf(a)) === BigInt(positionOf(b)) ? Number(a.split('-')[1]) - Number(b.split('-')[1]) : BigInt(positionOf(a)) < BigInt(positionOf(b)) ? -1 : 1));
    expect(ids).toEqual(sorted);
    expect(new Set(ids).size).toBe(ids.length);
    expect(stream.of('reset')).toEqual([]);
    expect(stream.endedAt).toBeNull();
    const mine = new Set(tickets.map((t) => t.conversationId));
    const feed = new SqliteChangeFeed(join(dataDir, 'change-feed.db')); // a new file starts after 0-999999999 (adapters.ts)
    try {
      const inFeed = (await feed.readAfter('0-999999999', 10_000)).entries.filter((e) => e.type === 'conversation.updated' && mine.has(e.conversationId)).map((e) => e.id);
      const onStream = stream.events.filter((e) => e.event === 'conversation.updated' && mine.has(e.data.conversation.id)).map((e) => e.id);
      expect(onStream).toEqual(inFeed);
    } finally {
      await feed.close();
    }
    stream.close();

    // SIGTERM on the parent: both gone within 5 s, exit 0, the child stopped at a checkpoint.
    const exit = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThanOrEqual(5000);
    expect(alive(second.pid)).toBe(false);
    expect(server.stdout()).toMatch(new RegExp(`"pid":${second.pid},[^\\n]*"msg":"shut down in \\d+ ms"`));
    expect(server.stdout()).toMatch(new RegExp(`"msg":"log consumers' child process ${second.pid} stopped \\(code 0\\)"`));
  }, 120000);

  it("the API process's /metrics includes what the child counted (AVA's answers), with one set of process metrics", async () => {
    const server = await start(join(tmp.dir, 'metrics'));
    strays.push((await runningChild(server.url)).pid);
    const api = client(server.url);
    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Mia' })).body;
    expect((await api.post(`/v1/guest/conversations/${g.conversationId}/messages`, g.guestToken, { text: 'Is breakfast included?' })).status).toBe(201);
    // AVA answers in the child (default chat mode ai_only): its command is counted there.
    const text = await eventually(
      async () => {
        const scraped = await (await fetch(`${server.url}/metrics`)).text();
        return /^lct_commands_total\{command="AnswerGuestMessage",outcome="ok"\} 1$/m.test(scraped) ? scraped : undefined;
      },
      30000,
      "AVA's answer (the child's command) in the API process's /metrics",
    );
    expect(text).toMatch(/^lct_commands_total\{command="StartConversation",outcome="ok"\} 1$/m); // the API process's own
    expect(text).toMatch(/^lct_commands_total\{command="PostGuestMessage",outcome="ok"\} 1$/m);
    // Appends of both processes: start + message here, AVA's answer there.
    const appends = Number(/^lct_event_store_append_duration_seconds_count\{outcome="ok"\} (\d+)$/m.exec(text)?.[1]);
    expect(appends).toBeGreaterThanOrEqual(3);
    expect(text.match(/^# TYPE lct_commands_total /gm)).toHaveLength(1);
    expect(text.match(/^process_start_time_seconds /gm)).toHaveLength(1);
    expect(text.match(/^nodejs_version_info\{/gm)).toHaveLength(1);
  }, 60000);

  it('a child whose parent was killed stops by itself', async () => {
    const server = await start(join(tmp.dir, 'orphan'));
    const { pid } = await runningChild(server.url);
    strays.push(pid);
    await server.kill('SIGKILL');
    await eventually(async () => !alive(pid), 10000, 'the orphaned child to exit');
  }, 60000);

  it('EMBEDDED_WORKERS=inline keeps every role in the one process', async () => {
    const server = await start(join(tmp.dir, 'inline'), { EMBEDDED_WORKERS: 'inline' });
    const ready = await client(server.url).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.embeddedWorkers).toBeUndefined();
    const listening = await listeningLine(server);
    expect(listening.roles).toEqual(['api', 'projector', 'worker']);
    expect(server.stdout()).toMatch(new RegExp(`"pid":${server.child.pid},[^\\n]*"context":"Lease:projector","msg":"acquired`));
  }, 60000);
});
