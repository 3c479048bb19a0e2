/**
 * Slow clients (SPEC §3 Operability: request and header timeouts). A client that trickles its
 * headers or its body (slowloris) is answered 408 and cut once HEADERS_TIMEOUT_MS /
 * REQUEST_TIMEOUT_MS pass, instead of holding a connection for ever; an SSE stream, whose
 * request is complete once its headers are in, outlives both.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Socket, connect } from 'node:net';
import { client, eventually } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { TEST_PROPERTIES } from '../support/test-env.js';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;

interface Trickle {
  /** What the server wrote back, and when the connection ended (ms after it was opened). */
  answer: () => string;
  endedAfterMs: () => number | null;
  stop: () => void;
}

/** Opens a raw connection, writes `head`, then one `drip` every 200 ms until the server hangs up. */
function trickle(url: string, head: string, drip: string): Trickle {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  const opened = Date.now();
  let answer = '';
  let ended: number | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (answer += d));
  socket.on('close', () => (ended = Date.now() - opened));
  socket.on('error', () => undefined); // a reset after the 408 is an ending too
  socket.write(head);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(drip);
  }, 200);
  socket.on('close', () => clearInterval(timer));
  return { answer: () => answer, endedAfterMs: () => ended, stop: () => (clearInterval(timer), socket.destroy()) };
}

describe('slow clients', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  });
  afterAll(async () => {
    await app.stop();
  });

  it('headers trickled one line at a time: 408 and the connection is closed once HEADERS_TIMEOUT_MS passes', async () => {
    const t = trickle(app.url, 'GET /health/live HTTP/1.1\r\nHost: localhost\r\n', 'X-Drip: 1\r\n');
    try {
      // Without the timeout it would drip on for Node's default 60 s (checked every 30 s).
      const ended = await eventually(async () => t.endedAfterMs() ?? undefined, 20_000, 'the server to cut the connection');
      expect(t.answer()).toMatch(/^HTTP\/1\.1 408 /);
      expect(ended).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    } finally {
      t.stop();
    }
  });

  it('a body trickled one byte at a time: 408 and closed once REQUEST_TIMEOUT_MS passes, nothing written', async () => {
    const body = JSON.stringify({ propertyId: TEST_PROPERTIES[0], guestName: 'Slow Loris' }).padEnd(200, ' ');
    const head = `POST /v1/guest/conversations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const t = trickle(app.url, head, ' '); // 200 bytes at 5 per second would take 40 s
    try {
      const ended = await eventually(async () => t.endedAfterMs() ?? undefined, 20_000, 'the server to cut the connection');
      expect(t.answer()).toMatch(/^HTTP\/1\.1 408 /);
      expect(ended).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(ended).toBeLessThan(20_000);
    } finally {
      t.stop();
    }
    const started = (await app.adapters.eventStore.readAll(null, 10_000)).filter((e) => e.type === 'ConversationStarted' && e.data.guestName === 'Slow Loris');
    expect(started).toEqual([]);
  });

  it('an open SSE stream outlives both timeouts, and prompt requests are unaffected', async () => {
    const token = await app.employee('slow-viewer', TEST_PROPERTIES[0]);
    const controller = new AbortController();
    const res = await fetch(`${app.url}/v1/stream`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const opened = Date.now();
    try {
      // Heartbeats every second (SSE_HEARTBEAT_MS in the test app): read until well past REQUEST_TIMEOUT_MS.
      while (Date.now() - opened < REQUEST_TIMEOUT_MS * 2) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended after ${Date.now() - opened} ms`);
        text += decoder.decode(value, { stream: true });
      }
      expect(text).toMatch(/event: ready/);
      expect(text.match(/: heartbeat/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    } finally {
      controller.abort();
    }
    expect((await client(app.url).get('/health/live')).status).toBe(200);
  });
});
