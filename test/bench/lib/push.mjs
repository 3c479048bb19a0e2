// Web Push pieces shared by test/bench/push.mjs (sender only) and run.mjs's push phase:
// - web-push-testing (a real local push service: verifies each VAPID JWT, decrypts each
//   aes128gcm body) in a child process via test/support/web-push-testing.cjs, and browser-like
//   subscriptions on it;
// - the arrival proxy (test/bench/push-proxy.mjs) in front of it: every push stamped on arrival,
//   read back on the bench's performance.now() timeline;
// - dist/'s WebPushSender and the sender-side measurement (rate, and CPU per push of this
//   process and of the push service).
// Children are started with lib/procs.mjs, so the bench's cleanup kills them on every path;
// they also exit on their own when their stdin (a pipe from us) closes.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { httpClient, pool, sleep } from './http.mjs';
import { cpuSeconds, spawnChild, stopChild, waitForOutput } from './procs.mjs';

/** Children do not need the parent's NODE_OPTIONS (jest's, a profiler's). */
function childEnv() {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return env;
}

/** The endpoint's last path segment is web-push-testing's client hash (also through the proxy). */
export const clientHashOf = (endpoint) => new URL(endpoint).pathname.split('/').pop();

export async function startPushService(root) {
  const entry = spawnChild('web-push-testing', process.execPath, [join(root, 'test/support/web-push-testing.cjs')], { cwd: root, env: childEnv(), stdin: 'pipe' });
  const [, port] = await waitForOutput(entry, /PORT=(\d+)/, 30000);
  const base = `http://127.0.0.1:${port}`;
  const client = httpClient(base, { maxSockets: 32 });
  const post = async (path, body) => {
    const r = await client.call('POST', path, { body });
    if (r.status !== 200) throw new Error(`web-push-testing ${path} answered ${r.status}: ${r.text.slice(0, 300)}`);
    return r.json;
  };
  const push = {
    entry,
    pid: entry.child.pid,
    base,
    /** Exactly the browser's PushSubscription.toJSON(), for this application server key. */
    async subscribe(applicationServerKey) {
      // web-push-testing wants userVisibleOnly as the *string* "true".
      const { data } = await post('/subscribe', { userVisibleOnly: 'true', applicationServerKey });
      return { endpoint: data.endpoint, expirationTime: null, keys: { p256dh: data.keys.p256dh, auth: data.keys.auth } };
    },
    subscribeMany: (applicationServerKey, n, concurrency = 16) => pool(n, concurrency, () => push.subscribe(applicationServerKey)),
    /** Decrypted payloads that arrived for the subscription (JSON-parsed when JSON), oldest first. */
    async notifications(endpoint) {
      const { data } = await post('/get-notifications', { clientHash: clientHashOf(endpoint) });
      return data.messages.map((text) => {
        try {
          return JSON.parse(text);
        } catch {
          return text;
        }
      });
    },
    async stop() {
      client.close();
      return stopChild(entry);
    },
  };
  return push;
}

/** hrtime (CLOCK_MONOTONIC, shared by all processes) minus performance.now(): constant per process. */
function monotonicOffsetMs() {
  const reads = Array.from({ length: 7 }, () => Number(process.hrtime.bigint()) / 1e6 - performance.now()).sort((a, b) => a - b);
  return reads[3];
}
const OFFSET = monotonicOffsetMs();
/** A child's monotonic-clock stamp (ms) on this process's performance.now() timeline. */
export const fromMonotonicMs = (t) => t - OFFSET;
export const toMonotonicMs = (t) => t + OFFSET;

/**
 * The arrival proxy in front of `target` (web-push-testing's base URL). `arrivals(from)` gives
 * each request from index `from` on: `t` = arrival and `answeredAt` = upstream answer, both on
 * this process's performance.now() timeline, the upstream `status`, the client `hash` and the
 * push's `topic` header.
 */
export async function startArrivalProxy(root, target) {
  const entry = spawnChild('push-proxy', process.execPath, [join(root, 'test/bench/push-proxy.mjs'), target], { cwd: root, env: childEnv(), stdin: 'pipe' });
  const [, port] = await waitForOutput(entry, /listening (\d+)/, 30000);
  const base = `http://127.0.0.1:${port}`;
  const client = httpClient(base, { maxSockets: 2 });
  const get = async (path) => {
    const r = await client.call('GET', path);
    if (r.status !== 200) throw new Error(`push-proxy ${path} answered ${r.status}: ${r.text.slice(0, 300)}`);
    return r.json;
  };
  return {
    entry,
    pid: entry.child.pid,
    base,
    /** The same endpoint (same client hash at web-push-testing), reached through the proxy. */
    endpointFor(endpoint) {
      const u = new URL(endpoint);
      return `${base}${u.pathname}${u.search}`;
    },
    count: async () => (await get('/__bench/count')).count,
    async arrivals(from = 0) {
      const { rows } = await get(`/__bench/arrivals?from=${from}`);
      return rows.map(([t, answered, status, hash, topic]) => ({ t: fromMonotonicMs(t), answeredAt: answered === null ? null : fromMonotonicMs(answered), status, hash, topic }));
    },
    /** Polls the count (for completion only; times come from the stamps) until `n` more than `from`. */
    async waitForCount(from, n, timeoutMs) {
      const start = performance.now();
      for (;;) {
        const c = (await get('/__bench/count')).count - from;
        if (c >= n || performance.now() - start >= timeoutMs) return c;
        await sleep(50);
      }
    },
    async stop() {
      client.close();
      return stopChild(entry);
    },
  };
}

/**
 * The guest side of the latency probe in its own process (test/bench/push-probe.mjs): one
 * support request every `gapMs` for each of `convs` ({conversationId, guestToken}); resolves with
 * the acks, `at` (201 received) on this process's performance.now() timeline. Killed after
 * `timeoutMs`.
 */
export async function runProbe(root, base, convs, gapMs, timeoutMs) {
  const entry = spawnChild('push-probe', process.execPath, [join(root, 'test/bench/push-probe.mjs')], { cwd: root, env: childEnv(), stdin: 'pipe' });
  let out = '';
  entry.child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => entry.child.once('exit', (code, signal) => resolve(code ?? signal)));
  entry.child.stdin.end(JSON.stringify({ base, gapMs, convs }));
  const timer = setTimeout(() => stopChild(entry), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`push-probe failed (${code}):\n${entry.stderr.slice(-2000)}`);
  const { acks } = JSON.parse(out.trim().split('\n').pop());
  return acks.map((a) => ({ kind: 'support-request', ...a, at: fromMonotonicMs(a.at) }));
}

/** dist/'s WebPushSender and VAPID key generation (build first). */
export async function loadSender(root) {
  const { WebPushSender } = await import(pathToFileURL(join(root, 'dist/adapters/web-push/web-push-sender.js')).href);
  const { generateVapidKeys } = await import(pathToFileURL(join(root, 'dist/adapters/web-push/vapid.js')).href);
  return { WebPushSender, generateVapidKeys };
}

/** A payload of the size the service sends for an alert. */
export const SAMPLE_PAYLOAD = JSON.stringify({ type: 'alert.created', conversationId: 'c-0001', propertyId: 'hotel-aurora', title: 'Guest needs help', body: 'Tom (room 12) asked for a human' });

/**
 * Tasks for `measure`: `push` sends SAMPLE_PAYLOAD with `sender` to the next subscription
 * (round robin); `plain` POSTs the same bytes unencrypted with the same fetch to the push
 * service's /status (the baseline). `endpointFor` rewrites endpoints (e.g. through the proxy).
 */
export function senderTasks(sender, pushServiceBase, subscriptions, { endpointFor = (e) => e } = {}) {
  const targets = subscriptions.map((s) => ({ endpoint: endpointFor(s.endpoint), keys: s.keys }));
  const message = { payload: SAMPLE_PAYLOAD, ttlSeconds: 3600, urgency: 'high', topic: 'conv-0001' };
  const counters = { accepted: 0, failures: {} };
  let next = 0;
  return {
    counters,
    async push() {
      const result = await sender.send(targets[next++ % targets.length], message);
      if (result.kind === 'accepted') counters.accepted += 1;
      else counters.failures[`${result.kind}:${result.status}`] = (counters.failures[`${result.kind}:${result.status}`] ?? 0) + 1;
      return true;
    },
    async plain() {
      const res = await fetch(`${pushServiceBase}/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SAMPLE_PAYLOAD });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`/status: ${res.status}`);
      return true;
    },
  };
}

/** `concurrency` workers call `task` until it returns false or the time is up; returns the count. */
export async function runFor(ms, concurrency, task) {
  const deadline = performance.now() + ms;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      if (!(await task())) return;
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done;
}

/**
 * Runs `task` for `seconds` with `concurrency` in flight: rate, rate per CPU-second of this
 * process ("perCore": what one core of the sender side sustains), CPU ms per request of this
 * process and of each process in `pids` (as `<name>CpuMsPerRequest`).
 */
export async function measure(task, concurrency, seconds, pids = {}) {
  const cpu0 = process.cpuUsage();
  const other0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const t0 = performance.now();
  const n = await runFor(seconds * 1000, concurrency, task);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const ownCpu = (cpu.user + cpu.system) / 1e6;
  const out = {
    concurrency,
    requests: n,
    seconds: Math.round(wall * 100) / 100,
    perSecond: Math.round(n / wall),
    perCore: Math.round(n / ownCpu),
    cpuMsPerRequest: Math.round((ownCpu / n) * 1e6) / 1000,
  };
  for (const [k, pid] of Object.entries(pids)) {
    const c = cpuSeconds(pid);
    out[`${k}CpuMsPerRequest`] = c === null || other0[k] === null ? null : Math.round(((c - other0[k]) / n) * 1e6) / 1000;
  }
  return out;
}
