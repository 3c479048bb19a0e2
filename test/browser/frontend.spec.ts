/**
 * A real browser (Chromium via playwright-core) on a page of another origin runs the README's
 * frontend code (test/browser/client.js) against the real server process (dist/main.js, the
 * embedded store): fetch with a bearer token, a stream token, an EventSource that receives
 * events, renews its token before expiry and survives a server restart with Last-Event-ID, no
 * event lost or repeated. Also: an origin not in CORS_ORIGINS is refused by the browser, and
 * the docs page renders under the security headers with no CSP violation.
 *
 * Needs Chromium at /usr/bin/chromium (Debian's `chromium` package) or CHROMIUM_PATH.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, type Page, chromium } from 'playwright-core';
import { SignJWT } from 'jose';
import { existsSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { client, eventually } from '../support/http.js';
import { type ServerProcess, startServer } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CLIENT_JS = new URL('./client.js', import.meta.url);
const README = new URL('../../README.md', import.meta.url);
/** Bearer tokens live this long, so stream tokens do too (never longer than their minting token): several renewals per test. */
const TOKEN_SECONDS = 10;
const PROPERTY = 'hotel-a';

interface PageEvent {
  type: string;
  id: string;
  data: { message?: { text: string }; conversation?: { id: string } };
  at: number;
}
interface PageStatus {
  status: 'live' | 'reconnecting';
  expiresInSeconds?: number;
  at: number;
}

/** The page a hotel would host: loads client.js and keeps what it receives for the test to read. */
const PAGE = `<!doctype html>
<meta charset="utf-8"><title>Hotel frontend</title>
<script type="module">
  import { callApi, openLiveEvents } from '/client.js';
  const apiBase = new URLSearchParams(location.search).get('api');
  window.harness = {
    events: [],
    statuses: [],
    conversations: async () => callApi(apiBase, await window.mintToken(), 'GET', '/v1/conversations?status=all'),
    start() {
      this.live = openLiveEvents(
        apiBase,
        () => window.mintToken(),
        (type, data, id) => this.events.push({ type, data, id, at: Date.now() }),
        (status, expiresInSeconds) => this.statuses.push({ status, expiresInSeconds, at: Date.now() }),
      );
    },
  };
</script>`;

function mintEmployeeToken(): Promise<string> {
  return new SignJWT({ propertyId: PROPERTY, role: 'agent', name: 'Browser Agent' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('browser-agent')
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_SECONDS}s`)
    .sign(new TextEncoder().encode(TEST_SECRET));
}

describe('a browser frontend on another origin', () => {
  const tmp = tempDir('lct-browser-');
  let pageServer: Server;
  let pageOrigin: string;
  let otherOrigin: string;
  let server: ServerProcess;
  let port: number;
  let browser: Browser;
  const env = () => ({ DATA_DIR: tmp.dir, CORS_ORIGINS: pageOrigin, SSE_HEARTBEAT_MS: '1000' });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    pageServer = createServer((req, res) => {
      if (req.url?.startsWith('/client.js')) res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(CLIENT_JS));
      else if (req.url === '/favicon.ico') res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    });
    await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', r));
    const pagePort = (pageServer.address() as AddressInfo).port;
    // Two origins on the one page server: `localhost` is allowed (CORS_ORIGINS), `127.0.0.1` is not.
    pageOrigin = `http://localhost:${pagePort}`;
    otherOrigin = `http://127.0.0.1:${pagePort}`;
    server = await startServer(env());
    port = Number(new URL(server.url).port);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    await new Promise((r) => pageServer?.close(r));
    tmp.cleanup();
  });

  async function openPage(origin: string): Promise<Page> {
    const page = await browser.newPage();
    await page.exposeFunction('mintToken', mintEmployeeToken);
    await page.goto(`${origin}/?api=${encodeURIComponent(server.url)}`);
    await page.waitForFunction('window.harness !== undefined');
    return page;
  }

  const api = () => client(server.url);
  /** A guest conversation whose messages cause events on the employee's stream. */
  async function guestConversation(): Promise<(text: string) => Promise<void>> {
    const started = await api().post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: 'Bea' });
    expect(started.status).toBe(201);
    return async (text) => {
      const posted = await api().post(`/v1/guest/conversations/${started.body.conversationId}/messages`, started.body.guestToken, { text });
      expect(posted.status).toBe(201);
    };
  }
  const events = (page: Page) => page.evaluate('harness.events') as Promise<PageEvent[]>;
  const statuses = (page: Page) => page.evaluate('harness.statuses') as Promise<PageStatus[]>;
  /** Each text arrived as exactly one message.created, and no event id came twice. */
  async function receivedOnce(page: Page, texts: string[]): Promise<PageEvent[]> {
    return eventually(
      async () => {
        const all = await events(page);
        const messages = all.filter((e) => e.type === 'message.created').map((e) => e.data.message!.text);
        return texts.every((t) => messages.includes(t)) ? all : undefined;
      },
      30000,
      `messages ${texts.join(', ')} in the browser`,
    ).then((all) => {
      for (const text of texts) expect(all.filter((e) => e.type === 'message.created' && e.data.message!.text === text)).toHaveLength(1);
      const ids = all.filter((e) => e.type !== 'ready').map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      return all;
    });
  }

  it('the README shows exactly the code the browser runs', () => {
    expect(readFileSync(README, 'utf8')).toContain(readFileSync(CLIENT_JS, 'utf8').trim());
  });

  it('fetches with a bearer token, streams with renewed stream tokens, and resumes after a restart', async () => {
    const page = await openPage(pageOrigin);
    const say = await guestConversation();
    await say('before the stream');
    const listed = (await page.evaluate('harness.conversations()')) as { items: unknown[] };
    expect(listed.items.length).toBeGreaterThanOrEqual(1);

    await page.evaluate('harness.start()');
    await eventually(async () => (await events(page)).some((e) => e.type === 'ready'), 15000, 'the stream to be ready');

    // Renewal: events keep arriving over several token lifetimes, each stream opened before the previous token expired.
    const renewalTexts: string[] = [];
    const until = Date.now() + 2.5 * TOKEN_SECONDS * 1000;
    for (let i = 0; Date.now() < until; i++) {
      renewalTexts.push(`renewal ${i}`);
      await say(`renewal ${i}`);
      await receivedOnce(page, renewalTexts);
      await new Promise((r) => setTimeout(r, 1000)); // pacing the traffic, not waiting for a condition
    }
    const lives = (await statuses(page)).filter((s) => s.status === 'live');
    expect(lives.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < lives.length; i++) {
      expect(lives[i]!.at).toBeLessThan(lives[i - 1]!.at + lives[i - 1]!.expiresInSeconds! * 1000);
      expect(lives[i - 1]!.expiresInSeconds).toBeLessThanOrEqual(TOKEN_SECONDS);
    }
    expect((await statuses(page)).filter((s) => s.status === 'reconnecting')).toEqual([]);
    // Renewals resumed: a fresh start (`ready`) only once, never a `reset`.
    expect((await events(page)).filter((e) => e.type === 'ready' || e.type === 'reset').map((e) => e.type)).toEqual(['ready']);

    // Restart: the same data dir and port; events caused while the browser reconnects arrive once.
    await server.kill('SIGTERM');
    server = await startServer(env(), { port });
    const afterRestart = ['after restart 1', 'after restart 2', 'after restart 3'];
    for (const text of afterRestart) await say(text);
    const all = await receivedOnce(page, [...renewalTexts, ...afterRestart]);
    expect(all.filter((e) => e.type === 'ready' || e.type === 'reset').map((e) => e.type)).toEqual(['ready']);
    await page.evaluate('harness.live.close()');
    await page.close();
  }, 120000);

  it('refuses a page whose origin is not in CORS_ORIGINS (the preflight grants nothing)', async () => {
    const page = await openPage(otherOrigin);
    const outcome = await page.evaluate('harness.conversations().then(() => "allowed", (e) => e.message)');
    expect(outcome).toBe('Failed to fetch');
    await page.close();
  });

  it('renders the docs page under the security headers, without CSP violations', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.addInitScript('document.addEventListener("securitypolicyviolation", (e) => console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI))');
    const res = await page.goto(`${server.url}/docs/`);
    expect(res!.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 20000 });
    expect(await page.textContent('.swagger-ui .info .title')).toContain('live-chat-tickets');
    await page.waitForSelector('.opblock-tag', { timeout: 20000 }); // the operations rendered from the spec
    expect(problems).toEqual([]);
    await page.close();
  }, 60000);
});
