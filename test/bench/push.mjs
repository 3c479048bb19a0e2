// Web Push bench: `npm run build && node test/bench/push.mjs`.
//
// Starts web-push-testing (a real push service: verifies each VAPID JWT, decrypts each body) in a
// child process via test/support/web-push-testing.cjs, makes 1,000 subscriptions, and sends
// through dist/'s WebPushSender at concurrency 32 and 1. Baseline in the same run: plain
// unencrypted JSON POSTs (same payload, same fetch) to the same service (its /status route).
// "perCore" = pushes per CPU-second of this process (process.cpuUsage), i.e. what one core of
// the sender side sustains; the push service's CPU is reported separately (it is the other
// core's bottleneck on a 2-core machine, not ours). Prints one JSON line on stdout.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from './lib/procs.mjs';
import { machine } from './lib/sys.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const LAUNCHER = resolve(ROOT, 'test/support/web-push-testing.cjs');
const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const CFG = { subscriptions: 1000, phaseSec: env('BENCH_PUSH_S', 5), warmupSec: 1, concurrencies: [32, 1] };

const { WebPushSender } = await import(resolve(ROOT, 'dist/adapters/web-push/web-push-sender.js'));
const { generateVapidKeys } = await import(resolve(ROOT, 'dist/adapters/web-push/vapid.js'));

// stdin is a pipe: the launcher exits when it closes, so it never outlives this script.
const { NODE_OPTIONS: _ignored, ...childEnv } = process.env;
const child = spawn(process.execPath, [LAUNCHER], { env: childEnv, stdio: ['pipe', 'pipe', 'inherit'] });
const stopChild = () => {
  if (child.exitCode === null && child.signalCode === null) child.stdin.end();
};
process.on('exit', () => child.kill('SIGKILL'));
process.on('SIGINT', () => process.exit(130));

try {
  const port = await new Promise((resolvePort, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('web-push-testing did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`web-push-testing exited (${code})`)));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /PORT=(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const postJson = async (path, body) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
    return res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  };

  const keys = generateVapidKeys();
  const sender = new WebPushSender({ ...keys, subject: 'mailto:bench@example.com' });
  const subs = [];
  let requested = 0;
  await runFor(Infinity, 32, async () => {
    if (requested++ >= CFG.subscriptions) return false;
    const { data } = await postJson('/subscribe', { userVisibleOnly: 'true', applicationServerKey: keys.publicKey });
    subs.push({ endpoint: data.endpoint, expirationTime: null, keys: data.keys });
    return true;
  });

  const payload = JSON.stringify({ type: 'alert.created', conversationId: 'c-0001', propertyId: 'hotel-aurora', title: 'Guest needs help', body: 'Tom (room 12) asked for a human' });
  const message = { payload, ttlSeconds: 3600, urgency: 'high', topic: 'conv-0001' };
  let nextSub = 0;
  let accepted = 0;
  const failures = {};
  const push = async () => {
    const result = await sender.send(subs[nextSub++ % subs.length], message);
    if (result.kind === 'accepted') accepted += 1;
    else failures[`${result.kind}:${result.status}`] = (failures[`${result.kind}:${result.status}`] ?? 0) + 1;
    return true;
  };
  const plain = async () => {
    const res = await fetch(`${base}/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`/status: ${res.status}`);
    return true;
  };

  const phases = {};
  for (const concurrency of CFG.concurrencies) {
    await measure(plain, concurrency, CFG.warmupSec); // warm-up: JIT, connections
    phases[`plainPost_c${concurrency}`] = await measure(plain, concurrency, CFG.phaseSec);
    await measure(push, concurrency, CFG.warmupSec);
    phases[`webPush_c${concurrency}`] = await measure(push, concurrency, CFG.phaseSec);
  }

  // Every accepted push must have arrived decrypted at the push service.
  let delivered = 0;
  for (const s of subs) delivered += (await postJson('/get-notifications', { clientHash: s.endpoint.split('/').pop() })).data.messages.length;

  const ratio = (a, b) => Math.round((a / b) * 1000) / 1000;
  const result = {
    bench: 'web-push',
    machine: machine(),
    subscriptions: subs.length,
    payloadBytes: Buffer.byteLength(payload),
    phaseSec: CFG.phaseSec,
    phases,
    vsPlainPost: Object.fromEntries(
      CFG.concurrencies.map((c) => [`c${c}`, { perSecond: ratio(phases[`webPush_c${c}`].perSecond, phases[`plainPost_c${c}`].perSecond), perCore: ratio(phases[`webPush_c${c}`].perCore, phases[`plainPost_c${c}`].perCore) }]),
    ),
    accepted,
    delivered,
    failures,
    ok: delivered === accepted && Object.keys(failures).length === 0,
  };
  console.log(JSON.stringify(result));
  if (!result.ok) process.exitCode = 1;

  /** Runs `task` for `seconds` with `concurrency` in flight; rate, and CPU of both sides. */
  async function measure(task, concurrency, seconds) {
    const cpu0 = process.cpuUsage();
    const child0 = cpuSeconds(child.pid);
    const t0 = performance.now();
    const n = await runFor(seconds * 1000, concurrency, task);
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const ownCpu = (cpu.user + cpu.system) / 1e6;
    const serviceCpu = cpuSeconds(child.pid) - child0;
    return {
      concurrency,
      requests: n,
      perSecond: Math.round(n / wall),
      perCore: Math.round(n / ownCpu),
      cpuMsPerRequest: Math.round((ownCpu / n) * 1e6) / 1000,
      pushServiceCpuMsPerRequest: Math.round((serviceCpu / n) * 1e6) / 1000,
    };
  }
} finally {
  stopChild();
}

/** `concurrency` workers call `task` until it returns false or the time is up; returns the count. */
async function runFor(ms, concurrency, task) {
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
