/**
 * A real push service for tests: web-push-testing in a child process (see web-push-testing.cjs),
 * plus a scriptable proxy in front of it and a black hole, for the failure answers a real
 * push service gives (5xx, 429 + Retry-After, silence). All on 127.0.0.1 only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const LAUNCHER = fileURLToPath(new URL('./web-push-testing.cjs', import.meta.url));

/** Exactly the browser's PushSubscription.toJSON(). */
export interface PushSubscriptionJson {
  endpoint: string;
  expirationTime: number | null;
  keys: { p256dh: string; auth: string };
}

export interface PushService {
  url: string;
  /** A subscription for this application server key (a VAPID public key, base64url). */
  subscribe(applicationServerKey: string): Promise<PushSubscriptionJson>;
  /** The decrypted payloads that arrived for the subscription, JSON-parsed when they are JSON. */
  notifications(endpoint: string): Promise<unknown[]>;
  /** From now on the push service answers 410 for this subscription. */
  expire(endpoint: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startPushService(): Promise<PushService> {
  const { child, port } = await launch();
  const url = `http://127.0.0.1:${port}`;
  // The endpoint's last path segment is web-push-testing's client hash (also through the proxy).
  const hashOf = (endpoint: string) => new URL(endpoint).pathname.split('/').pop()!;

  return {
    url,
    async subscribe(applicationServerKey) {
      // web-push-testing wants userVisibleOnly as the *string* "true"/"false".
      const body = await post(`${url}/subscribe`, { userVisibleOnly: 'true', applicationServerKey });
      const { endpoint, keys } = (body as { data: { endpoint: string; keys: { p256dh: string; auth: string } } }).data;
      return { endpoint, expirationTime: null, keys: { p256dh: keys.p256dh, auth: keys.auth } };
    },
    async notifications(endpoint) {
      const body = await post(`${url}/get-notifications`, { clientHash: hashOf(endpoint) });
      return (body as { data: { messages: string[] } }).data.messages.map((text) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text;
        }
      });
    },
    async expire(endpoint) {
      await post(`${url}/expire-subscription/${hashOf(endpoint)}`, {});
    },
    stop: () => stopChild(child),
  };
}

async function launch(): Promise<{ child: ChildProcess; port: number }> {
  // Jest's NODE_OPTIONS (--experimental-vm-modules) is of no use to the child.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, [LAUNCHER], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`web-push-testing did not start within 30 s: ${err}`)), 30_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`web-push-testing exited (${code ?? signal}): ${err}`)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /PORT=(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(Number(m[1]));
      }
    });
  });
  return { child, port };
}

/** Closing stdin makes the launcher exit; SIGKILL if it does not within 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text}`);
  // /expire-subscription answers a plain "OK".
  return res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text;
}

export type ProxyStep = { status: number; headers?: Record<string, string> } | 'forward';

export interface FaultyProxy {
  url: string;
  /** One entry per request that got its answer: arrival time (Date.now()) and the status sent. */
  requests: Array<{ at: number; status: number }>;
  /** The same endpoint, reached through this proxy. */
  endpointFor(endpoint: string): string;
  stop(): Promise<void>;
}

/**
 * Answers each request with the next scripted step: a canned status (with headers), or
 * 'forward' it verbatim to `target` and pipe back the answer. After the script, forwards all.
 */
export async function startFaultyProxy(target: string, script: ProxyStep[]): Promise<FaultyProxy> {
  const steps = [...script];
  const requests: FaultyProxy['requests'] = [];
  const server = createHttpServer((req, res) => {
    const at = Date.now();
    const step = steps.shift() ?? 'forward';
    if (step !== 'forward') {
      req.resume(); // read (and drop) the body before answering
      req.on('end', () => {
        requests.push({ at, status: step.status });
        res.writeHead(step.status, { 'content-type': 'text/plain', ...step.headers });
        res.end(`scripted ${step.status}`);
      });
      return;
    }
    const upstream = httpRequest(new URL(req.url!, target), { method: req.method, headers: req.headers }, (answer) => {
      requests.push({ at, status: answer.statusCode! });
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (e) => {
      requests.push({ at, status: 502 });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    req.pipe(upstream);
  });
  const url = await listen(server);
  return {
    url,
    requests,
    endpointFor(endpoint) {
      const u = new URL(endpoint);
      return `${url}${u.pathname}${u.search}`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface BlackHole {
  /** A push endpoint URL on a server that accepts connections and never answers. */
  endpoint: string;
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createNetServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // the client aborting is the expected end
    socket.resume(); // swallow the request, say nothing
  });
  const url = await listen(server);
  return {
    endpoint: `${url}/notify/black-hole`,
    connections: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function listen(server: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown; once(e: 'error', cb: (e: Error) => void): unknown }): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`));
  });
}
