// Production-mode pieces of the bench: FerretDB through scripts/services.sh (started only if
// needed, stopped only if the bench started it), a private redis-server, dist/main.js processes
// with ROLES and store URLs, and an open-loop paced command sender.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './http.mjs';
import { freePort, spawnChild, waitForOutput } from './procs.mjs';
import { HIGH_RATE_LIMITS } from './service.mjs';

const run = promisify(execFile);

async function services(root, command, timeoutMs) {
  try {
    const { stdout, stderr } = await run('bash', [join(root, 'scripts/services.sh'), command], { cwd: root, timeout: timeoutMs, killSignal: 'SIGTERM' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return { code: typeof error.code === 'number' ? error.code : 1, stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) };
  }
}

/**
 * Makes sure FerretDB answers: `services.sh status` first (what was running before), then the
 * idempotent `start`. Returns the MongoDB base URL and whether the bench started anything.
 */
export async function ensureServices(root) {
  const before = await services(root, 'status', 15000);
  const redisWasRunning = /^redis: running/m.test(before.stdout);
  const ferretWasRunning = /^ferretdb: running/m.test(before.stdout);
  const started = await services(root, 'start', 300000);
  if (started.code !== 0) throw new Error(`scripts/services.sh start failed (${started.code}): ${started.stderr.slice(-1500)}`);
  const mongoBase = /^MONGODB_URL=(\S+)$/m.exec(started.stdout)?.[1];
  if (!mongoBase) throw new Error(`scripts/services.sh start printed no MONGODB_URL: ${started.stdout}`);
  const after = await services(root, 'status', 15000);
  const ferretPid = Number(/^ferretdb: running \(pid (\d+)\)/m.exec(after.stdout)?.[1]) || null;
  return {
    mongoBase,
    ferretPid,
    redisWasRunning,
    ferretWasRunning,
    // services.sh stops both or neither: only stop if neither was running before the bench.
    stopAtEnd: !redisWasRunning && !ferretWasRunning,
    statusBefore: before.stdout.trim(),
  };
}

export async function stopServices(root) {
  const r = await services(root, 'stop', 30000);
  return r.code;
}

/** A unique database per run on the shared FerretDB. */
export function uniqueMongoUrl(base) {
  return `${base.replace(/\/[^/]*$/, '')}/lct_bench_${randomBytes(4).toString('hex')}`;
}

export async function dropDatabase(url) {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000 });
  try {
    await client.connect();
    return await client.db().dropDatabase();
  } finally {
    await client.close().catch(() => {});
  }
}

/** A private redis-server on a free loopback port, no persistence; killed with the other children. */
export async function startRedis() {
  const port = await freePort();
  const entry = spawnChild('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp', '--logfile', ''], {
    env: { PATH: process.env.PATH },
  });
  await waitForOutput(entry, /Ready to accept connections/, 15000);
  return { entry, pid: entry.child.pid, port, url: `redis://127.0.0.1:${port}` };
}

/** dist/main.js with these roles and the shared production environment. */
export async function startProcess(root, name, roles, shared) {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    ROLES: roles,
    ...HIGH_RATE_LIMITS,
    ...shared,
  };
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const entry = spawnChild(name, process.execPath, [...nodeArgs, 'dist/main.js'], { cwd: root, env });
  await waitForOutput(entry, /listening on/, 60000);
  return { entry, pid: entry.child.pid, port, base: `http://127.0.0.1:${port}` };
}

const STEPS = ['take-over', 'reply', 'close'];

/**
 * Open-loop load: command k is sent at start + k/rate whatever happened to earlier ones (a
 * late timer sends its backlog at once). Each ticket goes take-over -> reply -> close; a step
 * becomes sendable when the previous one was acknowledged, and a fresh ticket is used when no
 * step is waiting. Bounded by `maxInFlight` (a send that would exceed it is skipped and counted).
 */
export async function pacedOpenLoop({ call, agents, tickets, rate, seconds, maxInFlight, sample }) {
  const interval = 1000 / rate;
  const total = Math.round(rate * seconds);
  const ready = [];
  const samples = [];
  const lateness = [];
  const pending = new Set();
  let nextTicket = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let skippedInFlight = 0;
  let skippedNoTicket = 0;
  const send = (job) => {
    const cid = job.cid;
    if (job.step === 0) return call('POST', `/v1/conversations/${cid}/take-over`, { token: job.token });
    if (job.step === 1) return call('POST', `/v1/conversations/${cid}/messages`, { token: job.token, body: { text: 'Hello, I am looking into it.' } });
    return call('POST', `/v1/conversations/${cid}/close`, { token: job.token });
  };
  const start = performance.now();
  for (let k = 0; k < total; k++) {
    const due = start + k * interval;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    lateness.push(Math.max(0, performance.now() - due));
    if (inFlight >= maxInFlight) {
      skippedInFlight++;
      continue;
    }
    let job = ready.shift();
    if (!job && nextTicket < tickets.length) {
      job = { cid: tickets[nextTicket], token: agents[nextTicket % agents.length], step: 0 };
      nextTicket++;
    }
    if (!job) {
      skippedNoTicket++;
      continue;
    }
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const p = send(job).then((r) => {
      inFlight--;
      samples.push(sample(STEPS[job.step], r));
      if (r.status > 0 && r.status < 300 && job.step < 2) ready.push({ ...job, step: job.step + 1 });
    });
    pending.add(p);
    p.finally(() => pending.delete(p));
  }
  const sendSeconds = (performance.now() - start) / 1000;
  await Promise.all(pending);
  return { samples, lateness, sendSeconds, scheduled: total, skippedInFlight, skippedNoTicket, peakInFlight, ticketsUsed: nextTicket };
}

/** Polls /health until every projection's lag is 0 (bounded); returns ms waited or null. */
export async function waitForProjections(call, timeoutMs) {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    const h = await call('GET', '/health');
    if (h.status === 200 && Array.isArray(h.json?.projections) && h.json.projections.every((p) => p.lag === 0)) return Math.round(performance.now() - start);
    await sleep(100);
  }
  return null;
}

/**
 * Samples /health (log head vs projector checkpoint) every `intervalMs` until stopped, to see
 * how fast the projector applies events and whether it stalls.
 */
export function monitorProjector(call, intervalMs = 500) {
  const samples = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const h = await call('GET', '/health');
      const p = h.json?.projections?.[0];
      if (h.status === 200 && p) samples.push({ t: performance.now(), head: Number(h.json.head ?? 0), checkpoint: Number(p.checkpoint ?? 0) });
      await sleep(intervalMs);
    }
  })();
  const last = () => samples[samples.length - 1] ?? null;
  return {
    samples,
    last,
    /** Checkpoint unchanged for at least `ms` while behind the head. */
    stalledFor(ms) {
      const l = last();
      if (!l || l.checkpoint >= l.head) return false;
      const since = samples.findLast((s) => s.checkpoint !== l.checkpoint);
      const changedAt = since ? samples[samples.indexOf(since) + 1].t : samples[0].t;
      return l.t - changedAt >= ms;
    },
    /** Events applied, rate and the longest stall between two moments (performance.now()). */
    between(from, to) {
      const w = samples.filter((s) => s.t >= from && s.t <= to);
      if (w.length < 2) return null;
      let maxStallMs = 0;
      let stallStart = w[0];
      for (const s of w) {
        if (s.checkpoint !== stallStart.checkpoint || s.checkpoint >= s.head) stallStart = s;
        else maxStallMs = Math.max(maxStallMs, s.t - stallStart.t);
      }
      const a = w[0];
      const b = w[w.length - 1];
      const seconds = (b.t - a.t) / 1000;
      return {
        eventsApplied: b.checkpoint - a.checkpoint,
        appliedPerSec: Math.round((b.checkpoint - a.checkpoint) / seconds),
        eventsAppended: b.head - a.head,
        appendedPerSec: Math.round((b.head - a.head) / seconds),
        lagAtEnd: b.head - b.checkpoint,
        longestStallMs: Math.round(maxStallMs),
      };
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Ticket preparation the projector can follow: chunks, each followed by a wait for catch-up. */
export async function prepareTicketsGently(prepare, call, n, chunk, timeoutMs) {
  const ids = [];
  const samples = [];
  const failures = [];
  let caughtUp = true;
  for (let done = 0; done < n; done += chunk) {
    const r = await prepare(call, Math.min(chunk, n - done), 10, `g${done}`);
    ids.push(...r.ids);
    samples.push(...r.samples);
    failures.push(...r.failures);
    if ((await waitForProjections(call, timeoutMs)) === null) {
      caughtUp = false;
      break;
    }
  }
  return { ids, samples, failures, caughtUp };
}
