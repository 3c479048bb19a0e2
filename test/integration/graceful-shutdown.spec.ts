/**
 * SIGTERM and SIGINT on the real process (dist/main.js) with 50 SSE streams open and a command
 * in flight: the command is answered, every stream ends cleanly, the process exits 0 within
 * 5 s (the product rule), and after a restart on the same data the acknowledged write is there
 * and each stream resumes from its Last-Event-ID without a reset. A client that stalls in the
 * middle of its request cannot hold the exit.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { shutDownOnSignals } from '../../src/shutdown.js';
import { client } from '../support/http.js';
import { type ServerProcess, startServer } from '../support/processes.js';
import { SseClient } from '../support/sse-client.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const SHUTDOWN_LIMIT_MS = 5000;
const tokens = new TokenService(TEST_SECRET);
const employee = (id: string, role: 'agent' | 'admin' = 'agent') => tokens.employeeToken({ id, propertyId: 'hotel-a', role, name: id });

/** Resolves with the exit code and when it happened. */
function exitOf(server: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  return new Promise((resolve) => server.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
}

/**
 * A PUT whose headers the server has taken (it answered `100 Continue`, so the request is
 * routed and in flight) and whose body is sent only when `send()` is called.
 */
async function requestInFlight(base: string, path: string, token: string, body: unknown) {
  const json = JSON.stringify(body);
  const url = new URL(path, base);
  let answer!: Promise<{ status: number; body: any; connection: string | undefined }>;
  // Keep-alive, as browsers do: the answer must close the connection, or it would hold the exit.
  const req = http.request(url, {
    method: 'PUT',
    agent: new http.Agent({ keepAlive: true }),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), expect: '100-continue' },
  });
  answer = new Promise((resolve, reject) => {
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), connection: res.headers.connection }));
    });
    req.once('error', reject);
  });
  await new Promise<void>((resolve) => req.once('continue', () => resolve()));
  return {
    send: () => req.end(json),
    answer,
  };
}

describe('graceful shutdown of the real process', () => {
  const tmp = tempDir('lct-shutdown-');
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) await s.kill('SIGKILL');
    tmp.cleanup();
  });
  const start = async (dataDir: string) => {
    const server = await startServer({ DATA_DIR: dataDir, SSE_HEARTBEAT_MS: '300' }, { captureStdout: true });
    servers.push(server);
    return server;
  };

  describe.each(['SIGTERM', 'SIGINT'] as const)('on %s', (signal) => {
    it('answers the command in flight, ends all 50 SSE streams, exits 0 within 5 s; after a restart the write is there and the streams resume', async () => {
      const dataDir = join(tmp.dir, signal);
      const server = await start(dataDir);
      const api = client(server.url);
      const admin = await employee('grace', 'admin');
      expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true })).status).toBe(200);

      // 50 employees, one stream each (the per-employee cap stays at its default).
      const viewers = await Promise.all(Array.from({ length: 50 }, (_, i) => employee(`agent-${i}`)));
      const streams = await Promise.all(viewers.map((t) => SseClient.open(`${server.url}/v1/stream`, { authorization: `Bearer ${t}` })));
      await Promise.all(streams.map((s) => s.waitFor((events) => events.some((e) => e.event === 'ready'), 15000)));
      expect(streams.every((s) => s.status === 200)).toBe(true);

      // An idle keep-alive connection, which must not hold the exit.
      const idle = new http.Agent({ keepAlive: true });
      expect(await fetchWith(idle, `${server.url}/health`)).toBe(200);
      const inFlight = await requestInFlight(server.url, '/v1/settings/live-chat', admin, { chatMode: 'hybrid' });
      const exit = exitOf(server);
      const signalledAt = Date.now();
      server.child.kill(signal);
      inFlight.send();

      const answered = await inFlight.answer;
      expect(answered.status).toBe(200);
      expect(answered.body.chatMode).toBe('hybrid');
      expect(answered.connection).toBe('close');
      await Promise.all(streams.map((s) => s.waitForEnd(10000)));
      expect(streams.filter((s) => s.aborted)).toEqual([]); // ended cleanly, not cut
      const { code, at } = await exit;
      expect(code).toBe(0);
      expect(at - signalledAt).toBeLessThanOrEqual(SHUTDOWN_LIMIT_MS);
      expect(server.stdout()).toMatch(new RegExp(`"msg":"${signal} received: shutting down`));
      expect(server.stdout()).toMatch(/"msg":"ended 50 event stream\(s\) for shutdown/);
      expect(server.stdout()).toMatch(/"msg":"shut down in \d+ ms"/);
      expect(server.stdout()).not.toMatch(/cutting them/); // nothing needed cutting: streams and idle connections closed by themselves
      idle.destroy();

      // Nothing lost: the acknowledged write is in the log after a restart, and a stream resumes without a reset.
      const again = await start(dataDir);
      const after = client(again.url);
      const settings = await after.get(`/v1/settings/live-chat?minPosition=${answered.body.position}`, admin);
      expect(settings.body).toMatchObject({ chatMode: 'hybrid', requestSupportChat: true });
      const before = streams[0]!;
      const resumed = await SseClient.open(`${again.url}/v1/stream`, { authorization: `Bearer ${viewers[0]}`, 'last-event-id': before.lastEventId! });
      try {
        await resumed.waitFor(() => resumed.comments >= 2, 10000); // heartbeats: the stream is live
        expect(resumed.of('reset')).toEqual([]);
        expect(resumed.of('ready')).toEqual([]);
      } finally {
        resumed.close();
      }
      await again.kill('SIGTERM');
      expect(again.child.exitCode).toBe(0);
    }, 90000);
  });

  it('cuts a client that stalls in the middle of its request instead of waiting for it, and still exits 0 within 5 s', async () => {
    const server = await start(join(tmp.dir, 'stall'));
    const admin = await employee('grace', 'admin');
    const port = Number(new URL(server.url).port);
    // Headers and half a body, then nothing: the request never completes by itself.
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `PUT /v1/settings/live-chat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{"chatMode":`,
    );
    // An idle keep-alive connection must not hold the exit either.
    const idle = new http.Agent({ keepAlive: true });
    const health = await fetchWith(idle, `${server.url}/health`);
    expect(health).toBe(200);

    const exit = exitOf(server);
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const { code, at } = await exit;
    await closed;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThanOrEqual(SHUTDOWN_LIMIT_MS);
    expect(server.stdout()).toMatch(/connections still open after \d+ ms of shutdown: cutting them/);
    idle.destroy();
  }, 60000);
});

function fetchWith(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('the hard shutdown timeout', () => {
  /** The shutdown sequence on a service whose close() takes `closeMs` (Infinity: never finishes). */
  async function shutDownWith(closeMs: number) {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const exits: number[] = [];
    let exited!: () => void;
    const done = new Promise<void>((resolve) => (exited = resolve));
    const service = { close: () => new Promise<void>((resolve) => void (Number.isFinite(closeMs) && setTimeout(resolve, closeMs))) };
    const shutDown = shutDownOnSignals(service, null, logger, {
      timeoutMs: 400,
      drainMs: 200,
      signals: [],
      exit: (code) => {
        exits.push(code);
        exited();
      },
    });
    const started = Date.now();
    void shutDown('SIGTERM');
    void shutDown('SIGTERM'); // a repeated signal changes nothing
    await done;
    return { exits, tookMs: Date.now() - started, lines };
  }

  it('exits 1, logged, when closing does not finish in time', async () => {
    const { exits, tookMs, lines } = await shutDownWith(Infinity);
    expect(exits).toEqual([1]);
    expect(tookMs).toBeGreaterThanOrEqual(390);
    expect(lines.some((l) => l.level === 50 && /shutdown did not finish within 400 ms: exiting anyway/.test(l.msg))).toBe(true);
    expect(lines.some((l) => /received while shutting down: ignored/.test(l.msg))).toBe(true);
  });

  it('exits 0 once closing finished', async () => {
    const { exits, lines } = await shutDownWith(50);
    await new Promise((resolve) => setTimeout(resolve, 500)); // past the timeout: no second exit
    expect(exits).toEqual([0]);
    expect(lines.some((l) => /shut down in \d+ ms/.test(l.msg))).toBe(true);
  });
});
