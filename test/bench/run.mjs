// Performance bench for the live-chat-tickets service (run with `npm run bench`). Phases 1–4 are
// the `main` phase (BENCH_ONLY=main runs only them, BENCH_SKIP_MAIN=1 skips them); see PHASES.
//
// 1. Baselines in the same run: (a) a bare Nest route on Fastify (child process, autocannon,
//    50 connections); (b) raw durable SQLite appends, one INSERT per transaction (WAL, FULL).
// 2. The service (child process, embedded store): N open tickets prepared concurrently, then
//    50 workers, each with its own employee token, doing take-over -> reply -> close cycles on
//    distinct conversations; per-command latency, throughput and ratios to the baselines.
// 3. Projection lag: an SSE client on /v1/stream; for every acknowledged command, the time
//    from the acknowledgement to the arrival of the SSE event carrying its position — at idle,
//    at half the saturation rate of phase 2 (and, for information, at saturation during phase 2).
// 4. Probes for bugs: errors/5xx/409s, SSE id vs payload position, and whether alert entries
//    (another projector publishing into the same change feed) push out inbox entries.
// 5. Production mode (BENCH_SKIP_PROD=1 skips it): two api instances + projector/worker.
// 6. Push alerts (BENCH_SKIP_PUSH=1 skips it; BENCH_ONLY=push runs only this phase): a fresh
//    service with VAPID keys, web-push-testing (a real push service) behind a timestamping
//    proxy. Sender baseline in the same run (dist/'s WebPushSender from this process, 1,000
//    subscriptions, concurrency 32, vs plain POSTs); pushes/s and service CPU per push when
//    tickets fan out to 100 employees x 10 subscriptions; ack of the guest's support request
//    -> push arrival at the proxy, idle and during the take-over -> reply -> close mix.
// 7. Observability (BENCH_SKIP_OBS=1 skips it; BENCH_ONLY=observability runs only this phase, ~30 s):
//    log cost per request (GET /health/live, LOG_LEVEL=info vs silent in the same run) and the
//    cost of a /metrics scrape.
// 8. Projection rebuild (BENCH_SKIP_REBUILD=1 skips it; BENCH_ONLY=rebuild runs only this phase,
//    ~30 s; BENCH_REBUILD_EVENTS, default 300,000): rebuild throughput of the inbox as a
//    ratio to a raw ordered scan of the same event store in the same run (rebuild.mjs).
// 9. Rate limiting (BENCH_SKIP_RATELIMIT=1 skips it; BENCH_ONLY=ratelimit runs only this phase,
//    ~1.5 min): the main phase's command mix with the limiter on (limits out of reach) vs off,
//    alternating rounds, same run (lib/rate-limit.mjs).
// 10. SSE fan-out (BENCH_SKIP_SSE=1 skips it; BENCH_ONLY=sse runs only this phase, ~1 min): 1,000 /
//    5,000 / 10,000 streams on one instance, memory per connection and ack -> receipt of one
//    change by all of them (lib/sse-fanout.mjs).
// 11. Emmett peer (BENCH_SKIP_PEER=1 skips it; BENCH_ONLY=peer runs only this phase, ~1 min): the
//    same mix against test/bench/peers/emmett (Emmett decider + command handler on emmett-sqlite,
//    installed on demand) and the service, alternating rounds; ours / peer (lib/peer.mjs).
//
// Loopback only, bounded loops, children always killed. Results: test/bench/results/latest.json.
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { httpClient, pool, sleep } from './lib/http.mjs';
import { cpuSeconds, killAllNow, runJsonChild, spawnChild, stopAll, stopChild, waitForOutput } from './lib/procs.mjs';
import { PROPERTY, prepareTickets, startService, tokenMinter } from './lib/service.mjs';
import { SAMPLE_PAYLOAD, clientHashOf, loadSender, measure, runProbe, senderTasks, startArrivalProxy, startPushService, toMonotonicMs } from './lib/push.mjs';
import { commitBatches } from './lib/commit-batches.mjs';
import { openSse } from './lib/sse.mjs';
import { dropDatabase, ensureServices, monitorProjector, pacedOpenLoop, prepareTicketsGently, startProcess, startRedis, stopServices, uniqueMongoUrl } from './lib/production.mjs';
import { countBy, round, summarize, table } from './lib/stats.mjs';
import { observabilityBench } from './lib/observability.mjs';
import { rateLimitBench } from './lib/rate-limit.mjs';
import { peerBench, peerReportLines } from './lib/peer.mjs';
import { sseFanoutBench, sseFanoutReportLines } from './lib/sse-fanout.mjs';
import { rebuildBench, rebuildReportLines } from './lib/rebuild-phase.mjs';
import { cpuDelta, machine, systemCpu } from './lib/sys.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);

const CFG = {
  connections: 50,
  bareWarmupSec: env('BENCH_BARE_WARMUP_S', 2),
  bareSec: env('BENCH_BARE_S', 10),
  sqliteSingleMs: env('BENCH_SQLITE_MS', 5000),
  sqliteBatchedMs: 2000,
  sqliteRepeatMs: 3000,
  initialTickets: env('BENCH_TICKETS', 3000),
  maxTickets: 40000,
  mainSec: env('BENCH_MAIN_S', 10),
  idleCycles: 40,
  idleGapMs: 40,
  moderateWorkers: 30,
  moderateSec: env('BENCH_MODERATE_S', 8),
  // The issue's measure: lag at half the saturation rate (the main phase's), paced by enough workers to reach it.
  moderateFraction: 0.5,
  probeTickets: 200,
  crossRate: env('BENCH_CROSS_RATE', 500),
  crossSec: env('BENCH_CROSS_S', 10),
  crossLowRate: env('BENCH_CROSS_LOW_RATE', 25),
  crossLowSec: env('BENCH_CROSS_LOW_S', 6),
  stallMs: 5000,
  rateLimitTickets: env('BENCH_RATELIMIT_TICKETS', 1500),
  peerRoundSec: env('BENCH_PEER_ROUND_S', 3),
  obsSec: env('BENCH_OBS_S', 4),
  rebuildEvents: env('BENCH_REBUILD_EVENTS', 300_000),
  rebuildTimeoutSec: env('BENCH_REBUILD_TIMEOUT_S', 240),
  // BENCH_ONLY=<phase> runs only that phase (PHASES below); empty: every phase.
  only: process.env.BENCH_ONLY ?? '',
  push: {
    employees: env('BENCH_PUSH_EMPLOYEES', 100),
    subscriptionsPerEmployee: 10, // = PUSH_SUBSCRIPTION_CAP: one more would drop the oldest
    senderConcurrency: 32,
    baselineSec: env('BENCH_PUSH_BASE_S', 3),
    baselineWarmupSec: 1,
    tickets: env('BENCH_PUSH_TICKETS', 3), // each fans out to employees x subscriptions pushes
    warmupTickets: env('BENCH_PUSH_WARMUP_TICKETS', 1),
    drainTimeoutSec: 25,
    probeTickets: env('BENCH_PUSH_PROBES', 40),
    probeWarmupTickets: 3,
    probeGapMs: 100,
    loadSec: env('BENCH_PUSH_LOAD_S', 6),
    probeStartAfterMs: 1000,
  },
  targets: { vsBareRoute: 0.2, vsRawDurableInsert: 1.0, p99Ms: 25, lagP99Ms: 25, crossInstanceLagP99Ms: 50, pushesPerSec: 500, pushIdleP99Ms: 100, rebuildVsRawScan: 0.25, vsEmmettPeer: 1.0 },
};

const results = { startedAt: new Date().toISOString(), machine: machine(), config: CFG, baselines: {}, service: {}, lag: {}, probes: {}, problems: [] };
const tmpDirs = [];
const log = (...a) => console.error(`[bench ${((performance.now() - T0) / 1000).toFixed(1)}s]`, ...a);
const T0 = performance.now();
const gc = () => globalThis.gc?.();

// ---- cleanup on every path -------------------------------------------------------------------
const asyncCleanups = new Set(); // run on signals (the production phase's stores)
const servicesToStopOnExit = { started: false }; // scripts/services.sh services the bench started
process.on('exit', () => {
  killAllNow();
  if (servicesToStopOnExit.started && !results.production?.servicesStopped) {
    try {
      execFileSync('bash', [join(ROOT, 'scripts/services.sh'), 'stop'], { stdio: 'ignore', timeout: 20000 });
    } catch {
      /* best effort */
    }
  }
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    log(`${sig}: stopping children`);
    await stopAll().catch(() => {});
    for (const f of asyncCleanups) await f().catch(() => {});
    process.exit(130);
  });
}

// ---- phase helpers -----------------------------------------------------------------------------
function usage(pids) {
  const sys = systemCpu();
  const wall = performance.now();
  const client = process.cpuUsage();
  const procs = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  return { sys, wall, client, procs };
}
function usageDelta(a, b) {
  const seconds = (b.wall - a.wall) / 1000;
  const out = { ...cpuDelta(a.sys, b.sys, seconds) };
  const c = process.cpuUsage(a.client);
  out.benchClientCores = round((c.user + c.system) / 1e6 / seconds);
  for (const k of Object.keys(b.procs)) {
    if (a.procs[k] !== null && b.procs[k] !== null) out[`${k}Cores`] = round((b.procs[k] - a.procs[k]) / seconds);
  }
  out.otherProcessesCores = round(out.busyCores - out.benchClientCores - Object.keys(b.procs).reduce((s, k) => s + (out[`${k}Cores`] ?? 0), 0));
  return out;
}

function statusSummary(samples) {
  return countBy(samples, (s) => s.status);
}

function recordErrors(samples, where) {
  const bad = samples.filter((s) => s.status === 0 || s.status >= 300);
  const groups = {};
  for (const s of bad) {
    const k = `${s.kind} ${s.status}`;
    groups[k] ??= { count: 0, examples: [] };
    groups[k].count++;
    if (groups[k].examples.length < 3) groups[k].examples.push(s.body);
  }
  for (const [k, g] of Object.entries(groups)) results.problems.push({ where, what: k, count: g.count, examples: g.examples });
  return groups;
}

function sample(kind, r) {
  const s = { kind, status: r.status, ms: r.ms, at: r.at, position: r.json?.position ?? null };
  if (r.status === 0 || r.status >= 300) s.body = r.text.slice(0, 400);
  return s;
}

/** One take-over -> reply -> close cycle; `pace` is awaited before each command. */
async function cycle(call, token, cid, samples, pace = async () => {}) {
  await pace();
  const t = sample('take-over', await call('POST', `/v1/conversations/${cid}/take-over`, { token }));
  samples.push(t);
  if (t.status !== 200) return false;
  await pace();
  const r = sample('reply', await call('POST', `/v1/conversations/${cid}/messages`, { token, body: { text: 'Hello, I am looking into it.' } }));
  samples.push(r);
  await pace();
  const c = sample('close', await call('POST', `/v1/conversations/${cid}/close`, { token }));
  samples.push(c);
  return r.status < 300 && c.status < 300;
}

function latencyTable(samples) {
  const kinds = [...new Set(samples.map((s) => s.kind))];
  const ok = samples.filter((s) => s.status > 0 && s.status < 300);
  const byKind = Object.fromEntries(kinds.map((k) => [k, summarize(ok.filter((s) => s.kind === k).map((s) => s.ms))]));
  byKind.all = summarize(ok.map((s) => s.ms));
  return byKind;
}

/** Ack -> SSE arrival for every acknowledged command that carries a position. */
function lagOf(samples, sse) {
  const lags = [];
  const missing = [];
  for (const s of samples) {
    if (s.status === 0 || s.status >= 300 || s.position === null) continue;
    const arrival = sse.state.arrivals.get(String(s.position));
    if (!arrival) missing.push({ kind: s.kind, position: s.position });
    else lags.push(arrival.t - s.at);
  }
  const byKind = {};
  for (const kind of new Set(samples.map((s) => s.kind))) {
    const ls = [];
    for (const s of samples) {
      if (s.kind !== kind || s.status === 0 || s.status >= 300 || s.position === null) continue;
      const a = sse.state.arrivals.get(String(s.position));
      if (a) ls.push(a.t - s.at);
    }
    byKind[kind] = summarize(ls);
  }
  return {
    ...summarize(lags),
    negativeShare: lags.length ? round(lags.filter((l) => l < 0).length / lags.length, 3) : null,
    missing: missing.length,
    missingExamples: missing.slice(0, 5),
    byKind,
  };
}

async function waitForPositions(sse, positions, timeoutMs) {
  const start = performance.now();
  const wanted = positions.map(String);
  while (performance.now() - start < timeoutMs) {
    if (wanted.every((p) => sse.state.arrivals.has(p))) return round(performance.now() - start);
    await sleep(10);
  }
  return null;
}

const maxPosition = (samples) =>
  samples.reduce((m, s) => (s.position !== null && s.status < 300 && BigInt(s.position) > m ? BigInt(s.position) : m), 0n);

/**
 * Setup for the command mix: CFG.initialTickets open tickets with 50 in flight (also the
 * warm-up), then as many more as CFG.mainSec of the mix needs. `prefix` labels problems.
 */
async function prepareMix(call, pids, prefix, expectedCmdRate = 0) {
  log(`${prefix}setup: preparing ${CFG.initialTickets} open tickets (50 concurrent)`);
  let t = performance.now();
  const u0 = usage(pids);
  const prep = await prepareTickets(call, CFG.initialTickets, CFG.connections, 'a');
  const u1 = usage(pids);
  let setupSec = (performance.now() - t) / 1000;
  const setupCmdRate = prep.samples.length / setupSec;
  const setup = {
    tickets: prep.ids.length,
    commands: prep.samples.length,
    seconds: round(setupSec),
    commandsPerSec: round(setupCmdRate, 0),
    statuses: statusSummary(prep.samples),
    latencyMs: latencyTable(prep.samples),
    cpu: usageDelta(u0, u1),
  };
  for (const f of prep.failures.slice(0, 5)) results.problems.push({ where: `${prefix}setup`, what: `${f.kind} ${f.status}`, count: 1, examples: [f.body] });
  if (prep.failures.length) results.problems.push({ where: `${prefix}setup`, what: 'failed ticket preparations', count: prep.failures.length });
  let tickets = prep.ids;

  // Enough tickets for the whole timed phase: assume the cycle commands run ~2x the setup
  // command rate (or the expected rate, if higher) at most, with a safety margin; bounded.
  const needed = Math.min(CFG.maxTickets, Math.ceil(((CFG.mainSec * Math.max(setupCmdRate * 2, expectedCmdRate)) / 3) * 1.15));
  if (needed > tickets.length) {
    log(`${prefix}setup: preparing ${needed - tickets.length} more tickets`);
    t = performance.now();
    const more = await prepareTickets(call, needed - tickets.length, CFG.connections, 'b');
    setupSec = (performance.now() - t) / 1000;
    setup.extraTickets = more.ids.length;
    setup.extraSeconds = round(setupSec);
    if (more.failures.length) results.problems.push({ where: `${prefix}setup (extra)`, what: 'failed ticket preparations', count: more.failures.length, examples: more.failures.slice(0, 3).map((f) => `${f.kind} ${f.status} ${f.body}`) });
    tickets = tickets.concat(more.ids);
  }
  return { setup, tickets };
}

/** The main phase: one worker per agent token, take-over -> reply -> close for `mixSec` (CFG.mainSec). */
async function runMix(callFor, agents, tickets, pids, where, mixSec = CFG.mainSec) {
  log(`${where}: ${agents.length} workers x take-over/reply/close for ${mixSec}s (${tickets.length} tickets available)`);
  let next = 0;
  const samples = [];
  let cycles = 0;
  const fromIso = new Date().toISOString();
  const start = performance.now();
  const deadline = start + mixSec * 1000;
  const m0 = usage(pids);
  await Promise.all(
    agents.map(async (token, w) => {
      const call = callFor(w);
      while (performance.now() < deadline && next < tickets.length) {
        if (await cycle(call, token, tickets[next++], samples)) cycles++;
      }
    }),
  );
  const m1 = usage(pids);
  const toIso = new Date().toISOString();
  const seconds = (performance.now() - start) / 1000;
  const ok = samples.filter((s) => s.status > 0 && s.status < 300);
  const main = {
    workers: agents.length,
    seconds: round(seconds),
    ranOutOfTickets: next >= tickets.length,
    commands: samples.length,
    okCommands: ok.length,
    commandsPerSec: round(ok.length / seconds, 0),
    cyclesPerSec: round(cycles / seconds, 0),
    eventsAppendedPerSecApprox: round((ok.length / seconds) * (4 / 3), 0), // close appends TicketClosed + AiRepliesResumed
    statuses: statusSummary(samples),
    statusesByKind: Object.fromEntries(['take-over', 'reply', 'close'].map((k) => [k, statusSummary(samples.filter((s) => s.kind === k))])),
    latencyMs: latencyTable(samples),
    cpu: usageDelta(m0, m1),
    // For cutting a service --cpu-prof (BENCH_SERVICE_NODE_ARGS) to this window: CLOCK_MONOTONIC ms.
    windowMonotonicMs: [round(toMonotonicMs(start), 3), round(toMonotonicMs(start + seconds * 1000), 3)],
  };
  recordErrors(samples, where);
  return { main, samples, window: [fromIso, toIso], leftover: tickets.slice(next) };
}

// ---- 1a. bare Nest route -----------------------------------------------------------------------
async function bareRoute() {
  log('baseline: bare Nest route on Fastify');
  const entry = spawnChild('bare-nest', process.execPath, [join(HERE, 'bare-nest.mjs')], { cwd: ROOT, env: { ...process.env, PORT: '0' } });
  try {
    const [, port] = await waitForOutput(entry, /listening (\d+)/, 30000);
    const url = `http://127.0.0.1:${port}/ping`;
    await autocannon({ url, connections: CFG.connections, duration: CFG.bareWarmupSec });
    gc();
    const u0 = usage({ server: entry.child.pid });
    const r = await autocannon({ url, connections: CFG.connections, duration: CFG.bareSec });
    const u1 = usage({ server: entry.child.pid });
    const out = {
      url: '/ping',
      connections: CFG.connections,
      seconds: CFG.bareSec,
      requests: r.requests.total,
      reqPerSec: round(r.requests.total / r.duration, 0),
      latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      cpu: usageDelta(u0, u1),
    };
    if (r.non2xx || r.errors) results.problems.push({ where: 'bare route', what: 'non-2xx or errors', count: r.non2xx + r.errors });
    return out;
  } finally {
    await stopChild(entry);
  }
}

// ---- 1b. raw durable inserts --------------------------------------------------------------------
async function rawInserts(singleMs, batchedMs, label) {
  log(`baseline: raw durable SQLite inserts (${label})`);
  const dir = mkdtempSync(join(tmpdir(), 'lct-bench-sqlite-'));
  tmpDirs.push(dir);
  try {
    const u0 = usage({});
    const r = await runJsonChild('sqlite-insert', process.execPath, [join(HERE, 'sqlite-insert.mjs'), dir, String(singleMs), String(batchedMs)], { cwd: ROOT, env: process.env });
    const u1 = usage({});
    return { ...r, cpu: usageDelta(u0, u1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 2 & 3. the service --------------------------------------------------------------------------
async function serviceBench() {
  log('service: starting dist/main.js');
  const svc = await startService(ROOT, { onTmpDir: (d) => tmpDirs.push(d) });
  // The log consumers' child process (src/embedded-workers.ts; none with EMBEDDED_WORKERS=inline) counts as the service too.
  const pids = { server: svc.pid, ...(svc.workersPid ? { workers: svc.workersPid } : {}) };
  const { call, close: closeClient } = httpClient(svc.base, { maxSockets: CFG.connections + 16 });
  const mint = tokenMinter(svc.secret);
  const S = results.service;
  S.mode = 'embedded SQLite (events.db + read-models.db), production auth, HOST=127.0.0.1';
  const sses = [];
  let mainWindow = null;
  try {
    const admin = await mint('bench-admin', 'admin', 'Bench Admin');
    const viewer = await mint('bench-viewer', 'agent', 'Bench Viewer');
    const agents = await Promise.all(Array.from({ length: CFG.connections }, (_, i) => mint(`bench-agent-${i}`, 'agent', `Agent ${i}`)));

    const settings = await call('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' } });
    if (settings.status !== 200) throw new Error(`PUT /v1/settings/live-chat answered ${settings.status}: ${settings.text}`);

    // -- setup: open tickets (also the warm-up), then the main phase on distinct conversations --
    const mix = await prepareMix(call, pids, '');
    S.setup = mix.setup;
    await sleep(500);
    const sseMain = openSse(svc.base, '/v1/stream', viewer);
    sses.push(sseMain);
    await sseMain.ready;
    gc();
    const run = await runMix(() => call, agents, mix.tickets, pids, 'main phase');
    S.main = run.main;
    mainWindow = run.window;
    const samples = run.samples;
    const ok = samples.filter((s) => s.status > 0 && s.status < 300);
    const seconds = run.main.seconds;

    // Drain: how long until the SSE client has everything that was acknowledged.
    const last = maxPosition(samples);
    const drainMs = await waitForPositions(sseMain, [last], 15000);
    S.main.sseDrainAfterLoadMs = drainMs;
    await sleep(200);
    results.lag.atSaturation = { note: 'informational: client and server share 2 busy cores', ...lagOf(samples, sseMain) };
    results.lag.atSaturation.sseStreamClosed = sseMain.state.closedAt !== null ? sseMain.state.closeReason : false;
    const health = await call('GET', '/health');
    S.main.healthAfterDrain = health.json;
    sseMain.close();

    // -- lag at idle and under moderate load (fresh tickets, fresh SSE connection) --
    const moderateRate = Math.max(60, Math.min(3000, Math.round((ok.length / seconds) * CFG.moderateFraction)));
    const moderateCycles = Math.ceil((moderateRate * CFG.moderateSec) / 3) + CFG.moderateWorkers * 2;
    log(`lag: preparing ${CFG.idleCycles + moderateCycles} tickets`);
    const lagPrep = await prepareTickets(call, CFG.idleCycles + moderateCycles, 20, 'lag');
    if (lagPrep.failures.length) results.problems.push({ where: 'setup (lag)', what: 'failed ticket preparations', count: lagPrep.failures.length });
    const idleTickets = lagPrep.ids.slice(0, CFG.idleCycles);
    const modTickets = lagPrep.ids.slice(CFG.idleCycles);
    const sse = openSse(svc.base, '/v1/stream', viewer, { validate: true });
    sses.push(sse);
    await sse.ready;
    await sleep(1000);
    gc();

    log(`lag: idle (${CFG.idleCycles} cycles, one command at a time, ${CFG.idleGapMs} ms apart)`);
    const idleSamples = [];
    const idleGap = () => sleep(CFG.idleGapMs);
    for (const cid of idleTickets) await cycle(call, agents[0], cid, idleSamples, idleGap);
    await waitForPositions(sse, [maxPosition(idleSamples)], 5000);
    await sleep(100);
    results.lag.idle = { commands: idleSamples.length, statuses: statusSummary(idleSamples), ...lagOf(idleSamples, sse), commandLatencyMs: latencyTable(idleSamples) };
    recordErrors(idleSamples, 'lag idle');

    log(`lag: half the saturation rate (~${moderateRate} commands/s, ${CFG.moderateWorkers} paced workers, ${CFG.moderateSec}s)`);
    const modSamples = [];
    let modNext = 0;
    const interval = (CFG.moderateWorkers / moderateRate) * 1000;
    const modStart = performance.now();
    const modDeadline = modStart + CFG.moderateSec * 1000;
    const l0 = usage(pids);
    await Promise.all(
      Array.from({ length: CFG.moderateWorkers }, async (_, w) => {
        let slot = modStart + (w * interval) / CFG.moderateWorkers;
        const pace = async () => {
          const wait = slot - performance.now();
          if (wait > 0) await sleep(wait);
          slot = Math.max(slot + interval, performance.now() - interval); // no burst catch-up
        };
        while (performance.now() < modDeadline && modNext < modTickets.length) await cycle(call, agents[w + 1], modTickets[modNext++], modSamples, pace);
      }),
    );
    const l1 = usage(pids);
    const modSeconds = (performance.now() - modStart) / 1000;
    await waitForPositions(sse, [maxPosition(modSamples)], 5000);
    await sleep(100);
    results.lag.moderate = {
      targetCommandsPerSec: moderateRate,
      achievedCommandsPerSec: round(modSamples.filter((s) => s.status < 300).length / modSeconds, 0),
      commands: modSamples.length,
      statuses: statusSummary(modSamples),
      ...lagOf(modSamples, sse),
      commandLatencyMs: latencyTable(modSamples),
      cpu: usageDelta(l0, l1),
      windowMonotonicMs: [round(toMonotonicMs(modStart), 3), round(toMonotonicMs(modStart + modSeconds * 1000), 3)],
    };
    recordErrors(modSamples, 'lag moderate');

    // -- probe: SSE ids vs payload positions; alert entries sharing the change feed --
    log(`probe: alert recipient on, ${CFG.probeTickets} tickets opened`);
    const me = await call('PUT', '/v1/me/settings', { token: viewer, body: { incomingSupportRequests: true } });
    const probe = { personalSettingsStatus: me.status };
    if (me.status < 300) {
      await sleep(300);
      const p = await prepareTickets(call, CFG.probeTickets, 10, 'probe');
      const opened = p.samples.filter((s) => s.kind === 'support-request' && s.status < 300 && s.position !== null);
      await waitForPositions(sse, [maxPosition(opened)], 3000);
      await sleep(1000);
      let both = 0;
      let onlyAlert = 0;
      let onlyConversation = 0;
      let none = 0;
      // By conversation: the support request's last event (its position) is the guest's notice, after TicketOpened.
      for (const conversationId of p.ids) {
        const types = sse.state.byConversation.get(conversationId) ?? [];
        const conv = types.includes('conversation.updated');
        const alert = types.includes('alert.created');
        if (conv && alert) both++;
        else if (alert) onlyAlert++;
        else if (conv) onlyConversation++;
        else none++;
      }
      const alerts = await call('GET', '/v1/me/alerts?limit=100', { token: viewer });
      Object.assign(probe, {
        ticketsOpened: p.ids.length,
        sseAtTicketOpenedPosition: { conversationUpdatedAndAlert: both, onlyAlert, onlyConversationUpdated: onlyConversation, nothing: none },
        alertsInReadModel: alerts.status === 200 ? alerts.json?.items?.length : `status ${alerts.status}`,
        lag: lagOf(opened, sse),
      });
      if (onlyAlert + onlyConversation + none > 0) {
        results.problems.push({
          where: 'probe: alerts + inbox on one change feed',
          what: 'SSE entries missing for opened tickets (conversation.updated and alert.created per conversation)',
          count: onlyAlert + onlyConversation + none,
          detail: probe.sseAtTicketOpenedPosition,
        });
      }
    }
    probe.ssePayloadPositionMismatches = sse.state.mismatches;
    probe.sseBadFrames = sse.state.badFrames;
    probe.sseResets = sse.state.resets;
    if (sse.state.mismatches.length) results.problems.push({ where: 'SSE', what: 'payload position != SSE id position', count: sse.state.mismatches.length, examples: sse.state.mismatches.slice(0, 3) });
    results.probes = probe;
    sse.close();
  } finally {
    for (const s of sses) s.close();
    closeClient();
    const code = await stopChild(svc.entry, 5000);
    S.exit = code;
    if (mainWindow && S.main) {
      try {
        S.main.commitBatches = commitBatches(join(svc.dataDir, 'events.db'), ...mainWindow);
      } catch (error) {
        S.main.commitBatches = { error: String(error) };
      }
    }
    const errLines = `${svc.entry.stdout}\n${svc.entry.stderr}`.split('\n').filter((l) => /error|exception|warn/i.test(l));
    S.serverLogWarnings = errLines.slice(0, 30);
    if (errLines.length) results.problems.push({ where: 'server log', what: 'warning/error lines', count: errLines.length, examples: errLines.slice(0, 5) });
  }
}

// ---- 5. production mode: two api instances + projector/worker, Redis + FerretDB ---------------
/** Waits for SSE positions, but gives up early once the projector has clearly stalled. */
async function waitForPositionsUnlessStalled(sse, positions, timeoutMs, monitor) {
  const start = performance.now();
  const wanted = positions.map(String);
  while (performance.now() - start < timeoutMs) {
    if (wanted.every((p) => sse.state.arrivals.has(p))) return round(performance.now() - start);
    if (monitor.stalledFor(CFG.stallMs)) return null;
    await sleep(10);
  }
  return null;
}

/**
 * Cross-instance SSE under open-loop load on A: SSE held on B (and, for comparison, on A);
 * every acknowledged command's position matched to the event id / payload position.
 */
async function crossInstance({ label, rate, seconds, A, B, apiA, apiB, agents, tickets, viewers, pids, monitor }) {
  const sseB = openSse(apiB.base, '/v1/stream', viewers[0], { validate: true });
  const sseA = openSse(apiA.base, '/v1/stream', viewers[1], { validate: true });
  try {
    await Promise.all([sseB.ready, sseA.ready]);
    await sleep(500);
    gc();
    const maxInFlight = 256;
    const paced = httpClient(apiA.base, { maxSockets: maxInFlight + 8 });
    log(`prod cross (${label}): ${rate} commands/s open-loop to A for ${seconds}s, SSE on B (${tickets.length} tickets)`);
    const c0 = usage(pids);
    const t0 = performance.now();
    let load;
    try {
      load = await pacedOpenLoop({ call: paced.call, agents, tickets, rate, seconds, maxInFlight, sample });
    } finally {
      paced.close();
    }
    const c1 = usage(pids);
    const t1 = performance.now();
    const last = maxPosition(load.samples);
    const drainB = await waitForPositionsUnlessStalled(sseB, [last], 15000, monitor);
    if (drainB !== null) await waitForPositions(sseA, [last], 3000);
    await sleep(200);
    const okCount = load.samples.filter((s) => s.status > 0 && s.status < 300).length;
    const achieved = okCount / load.sendSeconds;
    const X = {
      targetCommandsPerSec: rate,
      seconds: round(load.sendSeconds),
      scheduled: load.scheduled,
      sent: load.samples.length,
      skippedAtInFlightCap: load.skippedInFlight,
      skippedNoTicket: load.skippedNoTicket,
      maxInFlight,
      peakInFlight: load.peakInFlight,
      achievedCommandsPerSec: round(achieved, 0),
      commandsSustained: achieved >= rate * 0.95 && load.skippedInFlight === 0,
      sendLatenessMs: summarize(load.lateness),
      statuses: statusSummary(load.samples),
      commandLatencyMs: latencyTable(load.samples),
      sseDrainOnBAfterLoadMs: drainB,
      crossInstance: { path: 'ack from A -> event on SSE held on B', ...lagOf(load.samples, sseB) },
      sameInstance: { path: 'ack from A -> event on SSE held on A', ...lagOf(load.samples, sseA) },
      projector: monitor.between(t0, performance.now()),
      projectorStalled: monitor.stalledFor(CFG.stallMs) ? monitor.last() : false,
      ssePayloadPositionMismatches: [...sseB.state.mismatches, ...sseA.state.mismatches],
      sseBadFrames: [...sseB.state.badFrames, ...sseA.state.badFrames],
      sseResets: sseB.state.resets + sseA.state.resets,
      sseStreamClosed: { B: sseB.state.closedAt !== null ? sseB.state.closeReason : false, A: sseA.state.closedAt !== null ? sseA.state.closeReason : false },
      cpu: usageDelta(c0, c1),
    };
    X.loadWindowSeconds = round((t1 - t0) / 1000);
    X.eventsSustained = X.commandsSustained && X.crossInstance.missing === 0;
    const where = `prod cross-instance (${label})`;
    recordErrors(load.samples, where);
    if (X.crossInstance.missing) results.problems.push({ where, what: 'acknowledged commands never seen on SSE on B', count: X.crossInstance.missing, examples: X.crossInstance.missingExamples });
    if (X.sameInstance.missing) results.problems.push({ where, what: 'acknowledged commands never seen on SSE on A', count: X.sameInstance.missing, examples: X.sameInstance.missingExamples });
    if (X.ssePayloadPositionMismatches.length) results.problems.push({ where, what: 'payload position != SSE id position', count: X.ssePayloadPositionMismatches.length, examples: X.ssePayloadPositionMismatches.slice(0, 3) });
    if (X.sseResets) results.problems.push({ where, what: 'SSE reset events', count: X.sseResets });
    for (const [k, v] of Object.entries(X.sseStreamClosed)) if (v) results.problems.push({ where, what: `SSE stream on ${k} closed during the run: ${v}`, count: 1 });
    return X;
  } finally {
    sseB.close();
    sseA.close();
  }
}

async function productionBench() {
  const P = (results.production = {
    mode: '2 x ROLES=api (A, B) + 1 x ROLES=projector,worker; change feed + idempotency on a private redis-server; read models + leases on FerretDB 1.24 (MongoDB protocol on SQLite, unique database)',
    eventStore: "shared SQLite file DATA_DIR/events.db (WAL, 3 processes; other processes' appends are found by polling every 10 ms): no EventStoreDB server can run on this machine, so EVENTSTORE_URL is not set",
  });
  log('prod: ensuring FerretDB (scripts/services.sh)');
  const svcInfo = await ensureServices(ROOT);
  P.services = { ferretdbWasRunning: svcInfo.ferretWasRunning, redisServicesShWasRunning: svcInfo.redisWasRunning, stoppedAtEnd: svcInfo.stopAtEnd };
  const mongoUrl = uniqueMongoUrl(svcInfo.mongoBase);
  P.mongoDatabase = mongoUrl.slice(mongoUrl.lastIndexOf('/') + 1);
  const dataDir = mkdtempSync(join(tmpdir(), 'lct-bench-prod-'));
  tmpDirs.push(dataDir);
  const procs = [];
  const clients = [];
  const sses = [];
  let monitor = null;
  let mixWindow = null;
  const cleanup = async () => {
    await monitor?.stop();
    for (const s of sses) s.close();
    for (const c of clients) c.close();
    for (const p of procs.splice(0).reverse()) await stopChild(p.entry, 5000);
    if (!P.mongoDatabaseDropped) {
      await dropDatabase(mongoUrl).then(
        () => (P.mongoDatabaseDropped = true),
        (error) => (P.mongoDatabaseDropped = String(error?.message ?? error)),
      );
    }
    if (svcInfo.stopAtEnd && !P.servicesStopped) {
      P.servicesStopped = true;
      await stopServices(ROOT);
    }
  };
  asyncCleanups.add(cleanup);
  if (svcInfo.stopAtEnd) servicesToStopOnExit.started = true;
  try {
    const redis = await startRedis();
    procs.push({ name: 'redis', ...redis });
    const secret = randomBytes(32).toString('hex');
    const shared = { DATA_DIR: dataDir, MONGODB_URL: mongoUrl, REDIS_URL: redis.url, AUTH_JWT_SECRET: secret };
    log(`prod: starting projector/worker, then api A and B (redis ${redis.url}, ${P.mongoDatabase})`);
    const projector = await startProcess(ROOT, 'projector', 'projector,worker', shared);
    procs.push({ name: 'projector', ...projector });
    const [apiA, apiB] = await Promise.all([startProcess(ROOT, 'api-A', 'api', shared), startProcess(ROOT, 'api-B', 'api', shared)]);
    procs.push({ name: 'apiA', ...apiA }, { name: 'apiB', ...apiB });
    const pids = { apiA: apiA.pid, apiB: apiB.pid, projector: projector.pid, redis: redis.pid };
    if (svcInfo.ferretPid) pids.ferretdb = svcInfo.ferretPid;
    const A = httpClient(apiA.base, { maxSockets: CFG.connections + 16 });
    const B = httpClient(apiB.base, { maxSockets: CFG.connections + 16 });
    const M = httpClient(apiB.base, { maxSockets: 2 });
    clients.push(A, B, M);
    let flip = 0;
    const either = (...args) => (flip++ % 2 ? B.call : A.call)(...args);
    const mint = tokenMinter(secret);
    const admin = await mint('bench-admin', 'admin', 'Bench Admin');
    const viewers = [await mint('bench-viewer', 'agent', 'Bench Viewer'), await mint('bench-viewer-a', 'agent', 'Bench Viewer A')];
    const agents = await Promise.all(Array.from({ length: CFG.connections }, (_, i) => mint(`bench-agent-${i}`, 'agent', `Agent ${i}`)));
    const settings = await A.call('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' } });
    if (settings.status !== 200) throw new Error(`prod: PUT /v1/settings/live-chat answered ${settings.status}: ${settings.text}`);
    monitor = monitorProjector(M.call, 500);
    const phaseStart = performance.now();

    // -- 1. cross-instance lag at a low rate, while the read models are small and the projector keeps up --
    const lowRate = CFG.crossLowRate;
    if (lowRate > 0) {
      const n = Math.ceil((lowRate * CFG.crossLowSec) / 3 / 0.9) + 5;
      log(`prod cross (low rate): preparing ${n} tickets in chunks the projector can follow`);
      const gentle = await prepareTicketsGently(prepareTickets, A.call, n, 30, 15000);
      if (gentle.failures.length) results.problems.push({ where: 'prod setup (low rate)', what: 'failed ticket preparations', count: gentle.failures.length, examples: gentle.failures.slice(0, 3).map((f) => `${f.kind} ${f.status} ${f.body}`) });
      P.crossLowRate = await crossInstance({ label: 'low rate', rate: lowRate, seconds: CFG.crossLowSec, A, B, apiA, apiB, agents, tickets: gentle.ids, viewers, pids, monitor });
      P.crossLowRate.preparedWithProjectorCaughtUp = gentle.caughtUp;
    }

    // -- 2. the same command mix as embedded, workers pinned alternately to A and B --
    const setupStart = performance.now();
    // Prod setup runs slower than the mix: size it from the embedded mix rate as well.
    const mix = await prepareMix(either, pids, 'prod ', results.service.main?.commandsPerSec ?? 0);
    P.setup = mix.setup;
    P.setup.projector = monitor.between(setupStart, performance.now());
    await sleep(500);
    const sseMix = openSse(apiB.base, '/v1/stream', viewers[0]);
    sses.push(sseMix);
    await sseMix.ready;
    gc();
    const mixStart = performance.now();
    const run = await runMix((w) => (w % 2 ? B.call : A.call), agents, mix.tickets, pids, 'prod mix');
    P.main = { pinning: 'worker w -> A if w even, B if odd', ...run.main };
    mixWindow = run.window;
    P.main.sseDrainAfterLoadMs = await waitForPositionsUnlessStalled(sseMix, [maxPosition(run.samples)], 15000, monitor);
    P.main.projector = monitor.between(mixStart, performance.now());
    await sleep(200);
    P.lagAtSaturation = { note: 'informational: commands on A and B, SSE on B, machine saturated', ...lagOf(run.samples, sseMix) };
    P.lagAtSaturation.sseStreamClosed = sseMix.state.closedAt !== null ? sseMix.state.closeReason : false;
    sseMix.close();

    // -- 3. cross-instance at the target rate --
    const rate = CFG.crossRate;
    const wanted = Math.ceil((Math.round(rate * CFG.crossSec) / 3) * 1.1) + 60;
    let crossTickets = run.leftover;
    if (crossTickets.length < wanted) {
      log(`prod cross (target rate): preparing ${wanted - crossTickets.length} more tickets`);
      const more = await prepareTickets(either, wanted - crossTickets.length, CFG.connections, 'x');
      if (more.failures.length) results.problems.push({ where: 'prod setup (target rate)', what: 'failed ticket preparations', count: more.failures.length, examples: more.failures.slice(0, 3).map((f) => `${f.kind} ${f.status} ${f.body}`) });
      crossTickets = crossTickets.concat(more.ids);
    }
    // Let the projector catch up first, unless it has stopped making progress.
    const catchUpStart = performance.now();
    while (performance.now() - catchUpStart < 20000 && !monitor.stalledFor(CFG.stallMs)) {
      const l = monitor.last();
      if (l && l.checkpoint >= l.head && l.t > catchUpStart) break;
      await sleep(100);
    }
    P.projectorCatchUpBeforeTargetRate = { waitedMs: round(performance.now() - catchUpStart, 0), state: monitor.last() };
    P.cross = await crossInstance({ label: 'target rate', rate, seconds: CFG.crossSec, A, B, apiA, apiB, agents, tickets: crossTickets, viewers, pids, monitor });

    P.projector = { overall: monitor.between(phaseStart, performance.now()), last: monitor.last(), stalled: monitor.stalledFor(CFG.stallMs) };
    if (P.projector.stalled) {
      const l = P.projector.last;
      results.problems.push({
        where: 'prod projector',
        what: `stopped making progress: checkpoint ${l.checkpoint}, log head ${l.head}, unchanged for >= ${CFG.stallMs / 1000}s`,
        count: 1,
      });
    }
    const health = await B.call('GET', '/health');
    P.healthAfter = health.json;
  } finally {
    await monitor?.stop();
    const logs = procs.filter((p) => p.name !== 'redis').map((p) => [p.name, p.entry]);
    for (const s of sses) s.close();
    for (const c of clients) c.close();
    for (const p of procs.splice(0).reverse()) {
      const code = await stopChild(p.entry, 5000);
      (P.exit ??= {})[p.name] = code;
      if (code === 'SIGKILL') results.problems.push({ where: `prod ${p.name}`, what: 'did not exit within 5 s of SIGTERM (killed)', count: 1 });
    }
    if (mixWindow && P.main) {
      try {
        P.main.commitBatches = commitBatches(join(dataDir, 'events.db'), ...mixWindow);
      } catch (error) {
        P.main.commitBatches = { error: String(error) };
      }
    }
    P.serverLogWarnings = {};
    for (const [name, entry] of logs) {
      const lines = `${entry.stdout}\n${entry.stderr}`.split('\n').filter((l) => /error|exception|warn/i.test(l));
      P.serverLogWarnings[name] = lines.slice(0, 20);
      if (lines.length) results.problems.push({ where: `prod server log (${name})`, what: 'warning/error lines', count: lines.length, examples: lines.slice(0, 5) });
    }
    await cleanup();
    asyncCleanups.delete(cleanup);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---- 6. push alerts: Web Push through the service to a real local push service ----------------
const PUSH_FANOUT_PROPERTY = 'bench-push-fanout';
const PUSH_LATENCY_PROPERTY = 'bench-push-latency';

/** Guest conversations (not yet tickets), so that only the support request is timed later. */
async function openConversations(call, propertyId, n, tag, where) {
  const out = await pool(n, 10, async (i) => {
    const r = await call('POST', '/v1/guest/conversations', { body: { propertyId, guestName: `Guest ${tag}-${i}` } });
    if (r.status !== 201 && r.status !== 200) {
      results.problems.push({ where, what: `start ${r.status}`, count: 1, examples: [r.text.slice(0, 300)] });
      return null;
    }
    return { conversationId: r.json.conversationId, guestToken: r.json.guestToken };
  });
  return out.filter(Boolean);
}

/** Opens the conversation's ticket; `at` = the 201 (ack) received, on performance.now(). */
async function requestSupport(call, conv) {
  const r = await call('POST', `/v1/guest/conversations/${conv.conversationId}/support-requests`, { token: conv.guestToken });
  const s = { kind: 'support-request', conversationId: conv.conversationId, status: r.status, ms: r.ms, at: r.at, ticketOpened: r.json?.ticketOpened === true };
  if (r.status !== 201 || !s.ticketOpened) s.body = r.text.slice(0, 400);
  return s;
}

/** topic (ticket id without dashes) -> decrypted payload, from what arrived at web-push-testing. */
async function payloadsByTopic(pushService, endpoint) {
  const byTopic = new Map();
  for (const m of await pushService.notifications(endpoint)) if (m && typeof m === 'object' && m.ticketId) byTopic.set(m.ticketId.replace(/-/g, ''), m);
  return byTopic;
}

/**
 * Ack (201 of the support request) -> arrival of that ticket's push at the proxy, for one
 * subscription: arrivals are matched to conversations by their Topic header (the ticket id)
 * and the payload web-push-testing decrypted for that topic.
 */
function pushLatency(acks, arrivals, byTopic) {
  const first = new Map();
  let duplicates = 0;
  let unmatched = 0;
  for (const a of arrivals) {
    const m = byTopic.get(a.topic);
    if (!m) {
      unmatched++;
      continue;
    }
    if (first.has(m.conversationId)) duplicates++;
    else first.set(m.conversationId, { ...a, payload: m });
  }
  const ok = acks.filter((a) => a.status === 201 && a.ticketOpened);
  const lat = [];
  const fromSend = [];
  const upstream = [];
  const missing = [];
  let payloadFieldsOk = 0;
  for (const a of ok) {
    const f = first.get(a.conversationId);
    if (!f) {
      missing.push(a.conversationId);
      continue;
    }
    lat.push(f.t - a.at);
    fromSend.push(f.t - (a.at - a.ms));
    if (f.answeredAt !== null) upstream.push(f.answeredAt - f.t);
    if (f.status === 201 && f.payload.alertId && f.payload.kind === 'incoming_support_request' && f.payload.conversationId === a.conversationId) payloadFieldsOk++;
  }
  return {
    tickets: acks.length,
    ackStatuses: statusSummary(acks),
    ...summarize(lat),
    negative: lat.filter((l) => l < 0).length,
    missing: missing.length,
    missingExamples: missing.slice(0, 3),
    duplicates,
    unmatchedArrivals: unmatched,
    payloadFieldsOk,
    ackMs: summarize(ok.map((a) => a.ms)),
    requestSentToPushMs: summarize(fromSend),
    pushServiceAnswerMs: summarize(upstream),
    lastAckAt: ok.length ? Math.max(...ok.map((a) => a.at)) : null,
  };
}

async function pushBench() {
  const PC = CFG.push;
  const R = (results.push = {
    pushService: 'web-push-testing (verifies each VAPID JWT, decrypts each aes128gcm body) in a child process, behind a timestamping forward proxy (child process); loopback only',
    service: 'embedded SQLite, production auth, VAPID keys, PUSH_ALLOW_HTTP_ENDPOINTS=true (a fresh instance: phase 2 ran without push)',
  });
  const clients = [];
  let svc = null;
  let pushService = null;
  let proxy = null;
  try {
    log('push: starting web-push-testing, the arrival proxy and a push-enabled service');
    const { WebPushSender, generateVapidKeys } = await loadSender(ROOT);
    const keys = generateVapidKeys();
    pushService = await startPushService(ROOT);
    proxy = await startArrivalProxy(ROOT, pushService.base);
    svc = await startService(ROOT, {
      onTmpDir: (d) => tmpDirs.push(d),
      env: { VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:bench@example.com', PUSH_ALLOW_HTTP_ENDPOINTS: 'true' },
    });
    const pids = { server: svc.pid, pushService: pushService.pid, proxy: proxy.pid };
    const fanoutSubs = PC.employees * PC.subscriptionsPerEmployee;
    const subs = await pushService.subscribeMany(keys.publicKey, fanoutSubs + 1, 16);
    const latencySub = subs.pop();

    // -- 1. sender baseline: this process -> web-push-testing, dist/'s WebPushSender ------------
    log(`push baseline: WebPushSender -> web-push-testing, ${subs.length} subscriptions, concurrency ${PC.senderConcurrency}, ${PC.baselineSec}s each`);
    gc();
    const sender = new WebPushSender({ ...keys, subject: 'mailto:bench@example.com' });
    const direct = senderTasks(sender, pushService.base, subs);
    const viaProxy = senderTasks(sender, pushService.base, subs, { endpointFor: proxy.endpointFor });
    const c = PC.senderConcurrency;
    const basePids = { pushService: pushService.pid, proxy: proxy.pid };
    // With whole-machine CPU: the box is shared, a baseline taken while others are busy is low.
    const measured = async (task, sec) => {
      const a = usage(basePids);
      const m = await measure(task, c, sec, basePids);
      return { ...m, cpu: usageDelta(a, usage(basePids)) };
    };
    await measure(direct.plain, c, PC.baselineWarmupSec);
    const plainPost = await measured(direct.plain, PC.baselineSec);
    await measure(direct.push, c, PC.baselineWarmupSec);
    const webPush = await measured(direct.push, PC.baselineSec);
    await measure(viaProxy.push, c, 0.5);
    const webPushViaProxy = await measured(viaProxy.push, PC.baselineSec);
    R.senderBaseline = {
      subscriptions: subs.length,
      payloadBytes: Buffer.byteLength(SAMPLE_PAYLOAD),
      perCoreMeans: 'requests per CPU-second of the bench process (the sender)',
      plainPost,
      webPush,
      webPushViaProxy,
      vsPlainPost: { perSecond: round(webPush.perSecond / plainPost.perSecond, 3), perCore: round(webPush.perCore / plainPost.perCore, 3) },
      accepted: direct.counters.accepted + viaProxy.counters.accepted,
      failures: { ...direct.counters.failures, ...Object.fromEntries(Object.entries(viaProxy.counters.failures).map(([k, v]) => [`viaProxy ${k}`, v])) },
    };
    if (Object.keys(R.senderBaseline.failures).length) results.problems.push({ where: 'push baseline', what: 'pushes not accepted', count: Object.values(R.senderBaseline.failures).reduce((a, b) => a + b, 0), detail: R.senderBaseline.failures });

    // -- 2. setup: fan-out property (employees x subscriptions), latency property (1 x 1) --------
    const http = httpClient(svc.base, { maxSockets: CFG.connections + 16 });
    clients.push(http);
    const call = http.call;
    const setupStart = performance.now();
    const setupSamples = [];
    const put = async (token, path, body, kind) => {
      const r = await call('PUT', path, { token, body });
      setupSamples.push({ kind, status: r.status, ms: r.ms, at: r.at, body: r.status >= 300 ? r.text.slice(0, 300) : undefined });
      return r;
    };
    const mintFor = (propertyId) => tokenMinter(svc.secret, { propertyId });
    const mintF = mintFor(PUSH_FANOUT_PROPERTY);
    const mintL = mintFor(PUSH_LATENCY_PROPERTY);
    const mint = tokenMinter(svc.secret);
    for (const [m, p] of [[mintF, PUSH_FANOUT_PROPERTY], [mintL, PUSH_LATENCY_PROPERTY], [mint, PROPERTY]]) {
      const admin = await m(`bench-push-admin`, 'admin', 'Bench Admin');
      const ls = await put(admin, '/v1/settings/live-chat', { requestSupportChat: true, chatMode: 'hybrid' }, 'live-chat settings');
      if (ls.status !== 200) throw new Error(`push: PUT /v1/settings/live-chat (${p}) answered ${ls.status}: ${ls.text}`);
      if (p === PROPERTY) continue; // the command mix's property: no alerts there
      const pn = await put(admin, '/v1/settings/push-notifications', { pushNotificationsEnabled: true }, 'push settings');
      if (pn.status !== 200) throw new Error(`push: PUT /v1/settings/push-notifications (${p}) answered ${pn.status}: ${pn.text}`);
    }
    const subscribe = async (token, sub) => {
      const r = await call('POST', '/v1/me/push-subscriptions', { token, body: { endpoint: proxy.endpointFor(sub.endpoint), expirationTime: null, keys: sub.keys } });
      setupSamples.push({ kind: 'push-subscribe', status: r.status, ms: r.ms, at: r.at, body: r.status !== 201 ? r.text.slice(0, 300) : undefined });
    };
    const employees = await pool(PC.employees, 10, async (e) => {
      const token = await mintF(`bench-push-employee-${e}`, 'agent', `Push Employee ${e}`);
      await put(token, '/v1/me/settings', { incomingSupportRequests: true }, 'personal settings');
      for (let j = 0; j < PC.subscriptionsPerEmployee; j++) await subscribe(token, subs[e * PC.subscriptionsPerEmployee + j]);
      return token;
    });
    const latencyEmployee = await mintL('bench-push-latency-employee', 'agent', 'Latency Employee');
    await put(latencyEmployee, '/v1/me/settings', { incomingSupportRequests: true }, 'personal settings');
    await subscribe(latencyEmployee, latencySub);
    R.setup = {
      employees: PC.employees,
      subscriptionsPerEmployee: PC.subscriptionsPerEmployee,
      subscriptions: fanoutSubs,
      seconds: round((performance.now() - setupStart) / 1000),
      statuses: statusSummary(setupSamples),
      latencyMs: latencyTable(setupSamples.filter((s) => s.status < 300)),
    };
    recordErrors(setupSamples, 'push setup');
    await sleep(300);

    // -- 3a. latency at idle: one employee, one subscription, one ticket every ~100 ms ---------
    log(`push latency (idle): ${PC.probeWarmupTickets} warm-up + ${PC.probeTickets} tickets, ${PC.probeGapMs} ms apart, 1 employee x 1 subscription`);
    const latencyHash = clientHashOf(latencySub.endpoint);
    // The guest side runs in its own process (push-probe.mjs): acks are stamped on arrival even
    // while this process is busy driving the command mix.
    const probe = async (convs, mark) => {
      const acks = await runProbe(ROOT, svc.base, convs, PC.probeGapMs, 30000);
      const want = acks.filter((a) => a.status === 201 && a.ticketOpened).length;
      await proxy.waitForCount(mark, want, 5000);
      return acks;
    };
    const probeResult = async (acks, mark) => {
      const arrivals = (await proxy.arrivals(mark)).filter((a) => a.hash === latencyHash);
      recordErrors(acks, 'push latency probe');
      return pushLatency(acks, arrivals, await payloadsByTopic(pushService, latencySub.endpoint));
    };
    const idleConvs = await openConversations(call, PUSH_LATENCY_PROPERTY, PC.probeWarmupTickets + PC.probeTickets, 'idle', 'push latency (idle)');
    await probe(idleConvs.slice(0, PC.probeWarmupTickets), await proxy.count()); // warm-up
    await sleep(300);
    gc();
    let mark = await proxy.count();
    R.latencyIdle = await probeResult(await probe(idleConvs.slice(PC.probeWarmupTickets), mark), mark);

    // -- 2'. throughput: tickets at once, each -> employees alerts -> all subscriptions --------
    const expected = PC.tickets * fanoutSubs;
    log(`push throughput: ${PC.tickets} tickets x ${PC.employees} employees x ${PC.subscriptionsPerEmployee} subscriptions = ${expected} pushes`);
    const fanConvs = await openConversations(call, PUSH_FANOUT_PROPERTY, PC.warmupTickets + PC.tickets, 'fanout', 'push throughput');
    // Warm-up (JIT of the fan-out path in a fresh service): the same fan-out, not counted.
    const warm = { tickets: 0, pushes: 0, seconds: null };
    if (PC.warmupTickets > 0) {
      const wmark = await proxy.count();
      const w0 = performance.now();
      const wacks = await Promise.all(fanConvs.splice(0, PC.warmupTickets).map((conv) => requestSupport(call, conv)));
      recordErrors(wacks, 'push throughput (warm-up)');
      warm.tickets = wacks.filter((a) => a.status === 201 && a.ticketOpened).length;
      warm.pushes = await proxy.waitForCount(wmark, warm.tickets * fanoutSubs, PC.drainTimeoutSec * 1000);
      warm.seconds = round((performance.now() - w0) / 1000);
      warm.pushesPerSec = round(warm.pushes / warm.seconds, 0);
    }
    await sleep(300);
    gc();
    mark = await proxy.count();
    const u0 = usage(pids);
    const acks = await Promise.all(fanConvs.map((conv) => requestSupport(call, conv)));
    recordErrors(acks, 'push throughput');
    const okAcks = acks.filter((a) => a.status === 201 && a.ticketOpened);
    const want = okAcks.length * fanoutSubs;
    const arrivedCount = await proxy.waitForCount(mark, want, PC.drainTimeoutSec * 1000);
    await sleep(300); // the journal of attempts is written behind (<= 20 ms) and the last answers piped back
    const u1 = usage(pids);
    const arrivals = await proxy.arrivals(mark);
    const accepted = arrivals.filter((a) => a.status === 201);
    const pairs = new Set(arrivals.map((a) => `${a.hash}:${a.topic}`));
    const firstAck = Math.min(...okAcks.map((a) => a.at));
    const times = accepted.map((a) => a.t).sort((x, y) => x - y);
    const firstArrival = times[0] ?? null;
    const lastArrival = times[times.length - 1] ?? null;
    const cpu = usageDelta(u0, u1);
    const cpuSec = (k) => (u0.procs[k] !== null && u1.procs[k] !== null ? u1.procs[k] - u0.procs[k] : null);
    const perPushMs = (sec) => (sec !== null && accepted.length ? round((sec / accepted.length) * 1000, 3) : null);
    const benchCpuSec = (u1.client.user + u1.client.system - u0.client.user - u0.client.system) / 1e6;
    const timeline = [];
    for (const t of times) {
      const b = Math.floor((t - firstAck) / 500);
      timeline[b] = (timeline[b] ?? 0) + 1;
    }
    // Per ticket (Topic = ticket id): when its first and last push arrived, after its own ack.
    const byTopic = await payloadsByTopic(pushService, subs[0].endpoint);
    const ackOf = new Map(okAcks.map((a) => [a.conversationId, a]));
    const perTicket = {};
    for (const a of accepted) {
      const conv = byTopic.get(a.topic)?.conversationId ?? `topic ${a.topic}`;
      const ack = ackOf.get(conv);
      const e = (perTicket[conv] ??= { pushes: 0, firstAfterAckMs: Infinity, lastAfterAckMs: -Infinity });
      e.pushes++;
      if (ack) {
        e.firstAfterAckMs = Math.min(e.firstAfterAckMs, round(a.t - ack.at));
        e.lastAfterAckMs = Math.max(e.lastAfterAckMs, round(a.t - ack.at));
      }
    }
    const T = (R.throughput = {
      warmup: warm,
      tickets: acks.length,
      ticketsOpened: okAcks.length,
      expectedPushes: want,
      arrived: arrivals.length,
      arrivedWhenWaitEnded: arrivedCount,
      accepted: accepted.length,
      arrivalStatuses: countBy(arrivals, (a) => a.status),
      distinctSubscriptionTicketPairs: pairs.size,
      duplicates: arrivals.length - pairs.size,
      complete: accepted.length >= want,
      ackMs: summarize(okAcks.map((a) => a.ms)),
      firstPushAfterAckMs: firstArrival === null ? null : round(firstArrival - firstAck),
      lastPushAfterAckMs: lastArrival === null ? null : round(lastArrival - firstAck),
      pushesPerSec: lastArrival === null ? null : round(accepted.length / ((lastArrival - firstAck) / 1000), 0),
      steadyPushesPerSec: accepted.length > 1 ? round((accepted.length - 1) / ((lastArrival - firstArrival) / 1000), 0) : null,
      pushesPer500msFromFirstAck: Array.from(timeline, (v) => v ?? 0),
      // For cutting a service --cpu-prof (BENCH_SERVICE_NODE_ARGS) to this window: CLOCK_MONOTONIC ms.
      windowMonotonicMs: [round(toMonotonicMs(u0.wall), 3), round(toMonotonicMs(u1.wall), 3)],
      pushServiceAnswerMs: summarize(accepted.filter((a) => a.answeredAt !== null).map((a) => a.answeredAt - a.t)),
      perTicket,
      cpuSeconds: { server: cpuSec('server'), pushService: cpuSec('pushService'), proxy: cpuSec('proxy'), benchClient: round(benchCpuSec, 3) },
      serverCpuMsPerPush: perPushMs(cpuSec('server')),
      pushServiceCpuMsPerPush: perPushMs(cpuSec('pushService')),
      proxyCpuMsPerPush: perPushMs(cpuSec('proxy')),
      pushesPerServerCoreSec: cpuSec('server') ? round(accepted.length / cpuSec('server'), 0) : null,
      cpu,
    });
    if (!T.complete) results.problems.push({ where: 'push throughput', what: `pushes missing at the push service after ${PC.drainTimeoutSec}s`, count: want - accepted.length, detail: T.arrivalStatuses });
    if (T.duplicates) results.problems.push({ where: 'push throughput', what: 'same ticket pushed to the same subscription more than once', count: T.duplicates });

    // What the service says it did (decisions + attempts) and what the push service decrypted.
    const decided = { reasons: {}, deliveries: {} };
    await pool(employees.length * okAcks.length, 16, async (i) => {
      const token = employees[i % employees.length];
      const conv = okAcks[Math.floor(i / employees.length)].conversationId;
      const r = await call('GET', `/v1/me/alerts/decisions?conversationId=${conv}`, { token });
      if (r.status !== 200) {
        decided.reasons[`HTTP ${r.status}`] = (decided.reasons[`HTTP ${r.status}`] ?? 0) + 1;
        return;
      }
      for (const d of r.json.items) {
        const k = d.push?.reason ?? d.reason;
        decided.reasons[k] = (decided.reasons[k] ?? 0) + 1;
        for (const del of d.push?.deliveries ?? []) decided.deliveries[del.status] = (decided.deliveries[del.status] ?? 0) + 1;
      }
    });
    T.serviceDecisions = decided;
    if ((decided.deliveries.delivered ?? 0) !== want) results.problems.push({ where: 'push throughput', what: 'push attempts not all "delivered" in /v1/me/alerts/decisions', count: want - (decided.deliveries.delivered ?? 0), detail: decided });
    const convSet = new Set(okAcks.map((a) => a.conversationId));
    const payloads = { subscriptionsChecked: 0, messages: 0, withAlertIdKindConversation: 0, kinds: {} };
    await pool(fanoutSubs, 16, async (i) => {
      const ms = (await pushService.notifications(subs[i].endpoint)).filter((m) => m && convSet.has(m.conversationId));
      payloads.subscriptionsChecked++;
      payloads.messages += ms.length;
      for (const m of ms) {
        if (m.alertId && m.kind && m.conversationId) payloads.withAlertIdKindConversation++;
        payloads.kinds[m.kind] = (payloads.kinds[m.kind] ?? 0) + 1;
      }
    });
    T.decryptedAtPushService = payloads;
    if (payloads.withAlertIdKindConversation !== want) results.problems.push({ where: 'push throughput', what: 'decrypted payloads with alertId/kind/conversationId != expected pushes', count: Math.abs(want - payloads.withAlertIdKindConversation), detail: payloads });

    // -- 3b. the same latency probe while the main bench's command mix runs --------------------
    const mainRate = results.service?.main?.commandsPerSec ?? 0;
    log(`push latency (under load): preparing tickets for a ${PC.loadSec}s command mix`);
    const agents = await Promise.all(Array.from({ length: CFG.connections }, (_, i) => mint(`bench-agent-${i}`, 'agent', `Agent ${i}`)));
    let t = performance.now();
    const prep = await prepareTickets(call, 1200, CFG.connections, 'push-a');
    const prepRate = prep.samples.length / ((performance.now() - t) / 1000);
    let mixTickets = prep.ids;
    // The mix has run at ~1.4x the preparation rate: size for 1.8x (or the main phase's rate).
    const needed = Math.min(CFG.maxTickets, Math.ceil(((PC.loadSec * Math.max(prepRate * 1.8, mainRate * 1.2)) / 3) * 1.1));
    if (needed > mixTickets.length) {
      const more = await prepareTickets(call, needed - mixTickets.length, CFG.connections, 'push-b');
      prep.failures.push(...more.failures);
      mixTickets = mixTickets.concat(more.ids);
    }
    if (prep.failures.length) results.problems.push({ where: 'push setup (mix)', what: 'failed ticket preparations', count: prep.failures.length, examples: prep.failures.slice(0, 3).map((f) => `${f.kind} ${f.status} ${f.body}`) });
    const loadConvs = await openConversations(call, PUSH_LATENCY_PROPERTY, PC.probeTickets, 'load', 'push latency (under load)');
    await sleep(500);
    gc();
    mark = await proxy.count();
    const mixPromise = runMix(() => call, agents, mixTickets, { server: svc.pid, pushService: pushService.pid, proxy: proxy.pid }, 'push: command mix under the latency probe', PC.loadSec);
    const mixStart = performance.now();
    await sleep(PC.probeStartAfterMs);
    const loadAcks = await probe(loadConvs, mark);
    const mix = await mixPromise;
    const mixEnd = mixStart + mix.main.seconds * 1000;
    const L = (R.latencyUnderLoad = await probeResult(loadAcks, mark));
    L.probeEndedBeforeMix = L.lastAckAt !== null && L.lastAckAt <= mixEnd && !mix.main.ranOutOfTickets;
    L.mixTicketsPrepared = mixTickets.length;
    const { latencyMs: mixLatency, ...mixRest } = mix.main;
    L.mix = { ...mixRest, latencyMs: { all: mixLatency.all } };
    if (!L.probeEndedBeforeMix) results.problems.push({ where: 'push latency (under load)', what: 'the probe outlasted the command mix (some probes ran without load)', count: 1, detail: { ranOutOfTickets: mix.main.ranOutOfTickets } });
    for (const [k, v] of [['idle', R.latencyIdle], ['under load', L]]) {
      if (v.missing) results.problems.push({ where: `push latency (${k})`, what: 'acknowledged tickets whose push never arrived', count: v.missing, examples: v.missingExamples });
    }
  } finally {
    for (const cl of clients) cl.close();
    if (svc) {
      R.exit = await stopChild(svc.entry, 5000);
      const errLines = `${svc.entry.stdout}\n${svc.entry.stderr}`.split('\n').filter((l) => /error|exception|warn/i.test(l));
      R.serverLogWarnings = errLines.slice(0, 30);
      if (errLines.length) results.problems.push({ where: 'push: server log', what: 'warning/error lines', count: errLines.length, examples: errLines.slice(0, 5) });
    }
    await proxy?.stop();
    await pushService?.stop();
  }
}

// ---- report ------------------------------------------------------------------------------------
function report() {
  const B = results.baselines;
  const S = results.service;
  const L = results.lag;
  const T = CFG.targets;
  const raw = [B.rawInsert?.single?.insertsPerSec, B.rawInsertRepeat?.single?.insertsPerSec].filter(Boolean);
  const rawMean = raw.length ? raw.reduce((a, b) => a + b, 0) / raw.length : null;
  const cmd = S.main?.commandsPerSec ?? null;
  const perCore = (rate, cores) => (rate && cores ? rate / cores : null);
  const bareEff = perCore(B.bareRoute?.reqPerSec, B.bareRoute?.cpu.serverCores);
  const cmdEff = perCore(cmd, S.main && S.main.cpu.serverCores + (S.main.cpu.workersCores ?? 0));
  const ratios = {
    bareRouteReqPerServerCoreSec: bareEff ? round(bareEff, 0) : null,
    commandsPerServerCoreSec: cmdEff ? round(cmdEff, 0) : null,
    cpuEfficiencyVsBareRoute: bareEff && cmdEff ? round(cmdEff / bareEff, 3) : null,
    commandsVsBareRoute: cmd && B.bareRoute ? round(cmd / B.bareRoute.reqPerSec, 3) : null,
    commandsVsRawDurableInsert: cmd && rawMean ? round(cmd / rawMean, 2) : null,
    rawDurableInsertPerSecUsed: rawMean ? round(rawMean, 0) : null,
  };
  const verdict = {
    commandsVsBareRoute: ratios.commandsVsBareRoute === null ? null : ratios.commandsVsBareRoute >= T.vsBareRoute,
    commandsVsRawDurableInsert: ratios.commandsVsRawDurableInsert === null ? null : ratios.commandsVsRawDurableInsert >= T.vsRawDurableInsert,
    commandP99: S.main ? S.main.latencyMs.all.p99 <= T.p99Ms : null,
    lagIdleP99: L.idle ? L.idle.p99 !== null && L.idle.p99 <= T.lagP99Ms && L.idle.missing === 0 : null,
    lagModerateP99: L.moderate ? L.moderate.p99 !== null && L.moderate.p99 <= T.lagP99Ms && L.moderate.missing === 0 : null,
  };
  // Push: figures through the service as ratios to the sender baseline of the same run.
  const PU = results.push;
  const PT = PU?.throughput;
  const PB = PU?.senderBaseline?.webPush;
  if (PT && PB) {
    PU.vsSenderBaseline = {
      pushesPerSec: PT.pushesPerSec !== null ? round(PT.pushesPerSec / PB.perSecond, 3) : null,
      steadyPushesPerSec: PT.steadyPushesPerSec !== null ? round(PT.steadyPushesPerSec / PB.perSecond, 3) : null,
      cpuMsPerPush: PT.serverCpuMsPerPush !== null ? round(PT.serverCpuMsPerPush / PB.cpuMsPerRequest, 3) : null,
      pushesPerCoreSec: PT.pushesPerServerCoreSec !== null ? round(PT.pushesPerServerCoreSec / PB.perCore, 3) : null,
      pushServiceCpuMsPerPush: PT.pushServiceCpuMsPerPush !== null && PB.pushServiceCpuMsPerRequest ? round(PT.pushServiceCpuMsPerPush / PB.pushServiceCpuMsPerRequest, 3) : null,
    };
  }
  if (PT) verdict.pushesPerSec = PT.pushesPerSec !== null && PT.pushesPerSec >= T.pushesPerSec && PT.complete;
  if (PU?.latencyIdle) verdict.pushLatencyIdleP99 = PU.latencyIdle.p99 !== null && PU.latencyIdle.p99 <= T.pushIdleP99Ms && PU.latencyIdle.missing === 0;
  const P = results.production;
  const X = P?.cross;
  if (X) {
    verdict.crossInstanceLagP99 = X.crossInstance.p99 !== null && X.crossInstance.p99 <= T.crossInstanceLagP99Ms && X.crossInstance.missing === 0;
    verdict.crossInstanceRateSustained = X.commandsSustained;
  }
  if (P?.main && S.main) {
    const perKind = (m, k) => {
      const l = m.latencyMs[k];
      return { okPerSec: l ? round(l.count / m.seconds, 0) : null, p50: l?.p50 ?? null, p99: l?.p99 ?? null };
    };
    const ratio = (a, b) => (a !== null && b ? round(a / b, 2) : null);
    P.comparison = Object.fromEntries(
      ['take-over', 'reply', 'close', 'all'].map((k) => {
        const e = perKind(S.main, k);
        const p = perKind(P.main, k);
        return [k, { embedded: e, production: p, ratioProdToEmbedded: { throughput: ratio(p.okPerSec, e.okPerSec), p50: ratio(p.p50, e.p50), p99: ratio(p.p99, e.p99) } }];
      }),
    );
  }
  results.ratios = ratios;
  results.verdict = verdict;
  results.finishedAt = new Date().toISOString();
  results.totalSeconds = round((performance.now() - T0) / 1000, 1);

  const out = [];
  const m = results.machine;
  out.push(`# Bench — live-chat-tickets (${results.startedAt})`, '');
  out.push(`Machine: ${m.nproc} cores (nproc), ${m.cpuModel}, Node ${m.node}, ${m.memGiB} GiB; load average at start ${m.loadavgAtStart.join(' / ')}; ${m.busyCoresBeforeStart} cores busy with other work before start (waited ${m.waitedForQuietSec}s) — shared machine, see 'other processes' CPU per phase.`, '');
  out.push('## Baselines', '```');
  const rows = [];
  if (B.bareRoute) rows.push(['bare Nest/Fastify GET /ping (50 conn)', `${B.bareRoute.reqPerSec} req/s`, B.bareRoute.latencyMs.p50, B.bareRoute.latencyMs.p99, `server ${B.bareRoute.cpu.serverCores} cores, others ${B.bareRoute.cpu.otherProcessesCores}`]);
  if (B.rawInsert) rows.push(['SQLite 1 insert/tx, WAL, FULL', `${B.rawInsert.single.insertsPerSec} ins/s`, null, null, `${B.rawInsert.single.seconds}s`]);
  if (B.rawInsert?.batched100) rows.push(['SQLite 100 inserts/tx, WAL, FULL', `${B.rawInsert.batched100.insertsPerSec} ins/s`, null, null, `${B.rawInsert.batched100.txPerSec} tx/s`]);
  if (B.rawInsertRepeat) rows.push(['SQLite 1 insert/tx (repeat, end of run)', `${B.rawInsertRepeat.single.insertsPerSec} ins/s`, null, null, `${B.rawInsertRepeat.single.seconds}s`]);
  out.push(table(['baseline', 'rate', 'p50 ms', 'p99 ms', 'notes'], rows), '```', '');
  if (S.main) {
    out.push('## Service: 50 workers, take-over -> reply -> close on distinct conversations', '```');
    const lr = Object.entries(S.main.latencyMs).map(([k, v]) => [k, v.count, v.p50, v.p90, v.p99, v.max]);
    out.push(table(['command', 'ok', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], lr));
    out.push('');
    out.push(`throughput: ${S.main.commandsPerSec} commands/s, ${S.main.cyclesPerSec} cycles/s (~${S.main.eventsAppendedPerSecApprox} events/s) over ${S.main.seconds}s; statuses ${JSON.stringify(S.main.statuses)}`);
    out.push(`cpu (cores): server ${S.main.cpu.serverCores}${S.main.cpu.workersCores === undefined ? '' : `, its workers child ${S.main.cpu.workersCores}`}, bench client ${S.main.cpu.benchClientCores}, other processes ${S.main.cpu.otherProcessesCores}, iowait ${S.main.cpu.iowaitCores}`);
    out.push(`setup: ${S.setup.tickets}${S.setup.extraTickets ? `+${S.setup.extraTickets}` : ''} tickets, ${S.setup.commandsPerSec} commands/s (start p99 ${S.setup.latencyMs.start?.p99} ms, support-request p99 ${S.setup.latencyMs['support-request']?.p99} ms)`);
    out.push(`SSE drain after load: ${S.main.sseDrainAfterLoadMs ?? 'timeout'} ms`);
    const cb = S.main.commitBatches;
    if (cb && !cb.error) out.push(`group commit (events.db, main phase): ${cb.batches} commits, ${cb.commitsPerSec} commits/s, events/commit p50 ${cb.eventsPerBatch.p50} mean ${cb.eventsPerBatch.mean} max ${cb.eventsPerBatch.max}`);
    out.push('```', '');
  }
  out.push('## Projection lag (command ack -> SSE event with that position, client clock)', '```');
  const lagRows = [];
  for (const [k, v] of [['idle', L.idle], ['half saturation', L.moderate], ['at saturation (info)', L.atSaturation]]) {
    if (v) lagRows.push([k, v.count, v.p50, v.p90, v.p99, v.max, v.missing, k === 'half saturation' ? `${v.achievedCommandsPerSec} cmd/s` : '']);
  }
  out.push(table(['load', 'matched', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'missing', ''], lagRows), '```', '');
  if (P?.skipped) out.push(`## Production mode: skipped (${P.skipped})`, '');
  if (P?.mode) {
    out.push('## Production mode vs embedded (same run, same command mix, 50 workers, same duration)', '');
    out.push(`Processes: ${P.mode}. Event store: ${P.eventStore}.`, '');
    if (P.comparison) {
      out.push('```');
      const rows = Object.entries(P.comparison).map(([k, c]) => [k, c.embedded.okPerSec, c.embedded.p50, c.embedded.p99, c.production.okPerSec, c.production.p50, c.production.p99, c.ratioProdToEmbedded.throughput, c.ratioProdToEmbedded.p50, c.ratioProdToEmbedded.p99]);
      out.push(table(['command', 'emb ok/s', 'emb p50', 'emb p99', 'prod ok/s', 'prod p50', 'prod p99', 'x thrpt', 'x p50', 'x p99'], rows));
      out.push('(latencies in ms; x = production / embedded)');
      if (P.main.ranOutOfTickets || S.main.ranOutOfTickets) out.push(`NOTE: ran out of prepared tickets before the end (embedded ${S.main.ranOutOfTickets}, prod ${P.main.ranOutOfTickets})`);
      out.push(`prod: ${P.main.commandsPerSec} commands/s over ${P.main.seconds}s; statuses ${JSON.stringify(P.main.statuses)}; SSE drain on B after load ${P.main.sseDrainAfterLoadMs ?? 'timeout'} ms`);
      const c = P.main.cpu;
      out.push(`prod cpu (cores): api A ${c.apiACores}, api B ${c.apiBCores}, projector ${c.projectorCores}, redis ${c.redisCores}, ferretdb ${c.ferretdbCores ?? '-'} (shared server: any client's use), bench client ${c.benchClientCores}, other processes ${c.otherProcessesCores}, iowait ${c.iowaitCores}`);
      out.push(`prod setup: ${P.setup.tickets}${P.setup.extraTickets ? `+${P.setup.extraTickets}` : ''} tickets at ${P.setup.commandsPerSec} commands/s (embedded ${S.setup?.commandsPerSec})`);
      const cb = P.main.commitBatches;
      if (cb && !cb.error) out.push(`group commit (shared events.db, two writer processes): ${cb.batches} commits, ${cb.commitsPerSec} commits/s, events/commit p50 ${cb.eventsPerBatch.p50} mean ${cb.eventsPerBatch.mean} max ${cb.eventsPerBatch.max}`);
      out.push('```', '');
    }
    const pj = (x) => (x ? `projector applied ${x.appliedPerSec} events/s while ${x.appendedPerSec}/s were appended (lag at end ${x.lagAtEnd} events, longest stall ${x.longestStallMs} ms)` : 'projector: no /health samples');
    if (P.main?.projector || P.setup?.projector) out.push('```', `setup: ${pj(P.setup?.projector)}`, `mix:   ${pj(P.main?.projector)}`, '```', '');
    if (P.projector?.stalled) {
      out.push(`Projector STALLED at checkpoint ${P.projector.last.checkpoint} (log head ${P.projector.last.head}). Hint, from outside this run: on FerretDB 1.24 alone (node test/bench/ferretdb-alone.mjs, the projector's own queries) a replace by _id costs ~10 ms whatever the bulk size, and $in reads scan the whole collection: FerretDB applies ~100 document writes/s, while 500 commands/s need several times that; the projector writes in bulk chunks of 50 (100 or more hang FerretDB's pool of 100 connections).`, '');
    }
    const xs = [['low rate', P.crossLowRate], ['target rate', X]].filter(([, v]) => v);
    if (xs.length) {
      out.push('### Cross-instance SSE: open-loop commands to A, SSE held on B (ack on A -> event on B, client clock)', '```');
      const lrows = [];
      for (const [k, v] of xs) {
        lrows.push([`${k} ${v.targetCommandsPerSec}/s: A -> B (cross-instance)`, v.achievedCommandsPerSec, v.crossInstance.count, v.crossInstance.p50, v.crossInstance.p90, v.crossInstance.p99, v.crossInstance.max, v.crossInstance.missing]);
        lrows.push([`${k} ${v.targetCommandsPerSec}/s: A -> A (same instance)`, '', v.sameInstance.count, v.sameInstance.p50, v.sameInstance.p90, v.sameInstance.p99, v.sameInstance.max, v.sameInstance.missing]);
      }
      if (P.lagAtSaturation) lrows.push(['mix at saturation: A+B -> B (info)', P.main?.commandsPerSec, P.lagAtSaturation.count, P.lagAtSaturation.p50, P.lagAtSaturation.p90, P.lagAtSaturation.p99, P.lagAtSaturation.max, P.lagAtSaturation.missing]);
      out.push(table(['ack -> SSE event', 'ack/s', 'matched', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'missing'], lrows));
      out.push('');
      for (const [k, v] of xs) {
        out.push(`${k}: ${v.achievedCommandsPerSec} commands/s acknowledged of ${v.targetCommandsPerSec} scheduled (${v.commandsSustained ? 'commands sustained' : 'commands NOT sustained'}, ${v.eventsSustained ? 'SSE delivery kept up' : 'SSE delivery did NOT keep up'}); ${v.sent}/${v.scheduled} sent, ${v.skippedAtInFlightCap} skipped at the in-flight cap ${v.maxInFlight} (peak ${v.peakInFlight}); client send lateness p99 ${v.sendLatenessMs.p99} ms`);
        out.push(`  command latency on A: p50 ${v.commandLatencyMs.all.p50} ms, p99 ${v.commandLatencyMs.all.p99} ms; statuses ${JSON.stringify(v.statuses)}; ${pj(v.projector)}${v.projectorStalled ? ' — STALLED' : ''}`);
        out.push(`  cpu (cores): api A ${v.cpu.apiACores}, api B ${v.cpu.apiBCores}, projector ${v.cpu.projectorCores}, redis ${v.cpu.redisCores}, ferretdb ${v.cpu.ferretdbCores ?? '-'}, bench client ${v.cpu.benchClientCores}, other processes ${v.cpu.otherProcessesCores}`);
      }
      out.push('```', '');
    }
  }
  if (PU?.skipped) out.push(`## Push alerts: skipped (${PU.skipped})`, '');
  else if (PU) {
    out.push(`## Push alerts (Web Push, ${PU.pushService})`, '');
    const SB = PU.senderBaseline;
    if (SB) {
      out.push(`### Sender baseline: dist/'s WebPushSender in the bench process -> web-push-testing, ${SB.subscriptions} subscriptions, concurrency ${SB.webPush.concurrency}, ${SB.webPush.seconds}s each`, '```');
      const brow = (k, m) => [k, m.perSecond, m.perCore, m.cpuMsPerRequest, m.pushServiceCpuMsPerRequest, m.proxyCpuMsPerRequest, m.cpu?.otherProcessesCores];
      out.push(table(['sender -> push service', 'per s', 'per sender core-s', 'sender cpu ms', 'push svc cpu ms', 'proxy cpu ms', 'others, cores'], [brow('plain POST /status (same bytes, same fetch)', SB.plainPost), brow('WebPushSender, direct', SB.webPush), brow('(info) WebPushSender through the proxy', SB.webPushViaProxy)]));
      out.push(`web push / plain POST: ${SB.vsPlainPost.perSecond} x per s, ${SB.vsPlainPost.perCore} x per core; ${SB.accepted} accepted${Object.keys(SB.failures).length ? `, failures ${JSON.stringify(SB.failures)}` : ''}`, '```', '');
    }
    if (PT) {
      const st = PU.setup;
      out.push(`### Through the service: ${PT.ticketsOpened} tickets at once, each -> ${st.employees} employees' alerts -> ${st.employees * st.subscriptionsPerEmployee} subscriptions (pushes counted and timed at the proxy)`, '```');
      out.push(`pushes: ${PT.accepted} accepted (201) of ${PT.expectedPushes} expected, ${PT.arrived} arrived, ${PT.duplicates} duplicates; statuses ${JSON.stringify(PT.arrivalStatuses)}`);
      out.push(`rate: ${PT.pushesPerSec} pushes/s end to end (first ack -> last push ${PT.lastPushAfterAckMs} ms), ${PT.steadyPushesPerSec} pushes/s first -> last push; first push ${PT.firstPushAfterAckMs} ms after the first ack`);
      out.push(`per 500 ms from the first ack: ${PT.pushesPer500msFromFirstAck.join(' ')}`);
      const tk = Object.values(PT.perTicket);
      if (tk.length) out.push(`per ticket, first / last push after its ack (ms): ${tk.map((v) => `${v.firstAfterAckMs} / ${v.lastAfterAckMs}`).join(', ')}`);
      if (PT.warmup?.tickets) out.push(`(warm-up before: ${PT.warmup.tickets} ticket, ${PT.warmup.pushes} pushes in ${PT.warmup.seconds}s = ${PT.warmup.pushesPerSec}/s, not counted)`);
      out.push(`push service answer (proxy arrival -> upstream answer) p50 ${PT.pushServiceAnswerMs.p50} ms, p99 ${PT.pushServiceAnswerMs.p99} ms`);
      out.push(`cpu per push (ms): service ${PT.serverCpuMsPerPush}, push service ${PT.pushServiceCpuMsPerPush}, proxy ${PT.proxyCpuMsPerPush}; ${PT.pushesPerServerCoreSec} pushes per service core-s`);
      out.push(`cpu (cores): service ${PT.cpu.serverCores}, push service ${PT.cpu.pushServiceCores}, proxy ${PT.cpu.proxyCores}, bench client ${PT.cpu.benchClientCores}, other processes ${PT.cpu.otherProcessesCores}, iowait ${PT.cpu.iowaitCores}`);
      const V = PU.vsSenderBaseline;
      if (V) out.push(`vs sender baseline: ${V.pushesPerSec} x pushes/s (steady ${V.steadyPushesPerSec} x), ${V.cpuMsPerPush} x CPU per push (service vs sender), ${V.pushesPerCoreSec} x pushes per core-s, push service CPU per push ${V.pushServiceCpuMsPerPush} x`);
      out.push(`service's own record (GET /v1/me/alerts/decisions): reasons ${JSON.stringify(PT.serviceDecisions?.reasons)}, deliveries ${JSON.stringify(PT.serviceDecisions?.deliveries)}`);
      const dp = PT.decryptedAtPushService;
      if (dp) out.push(`decrypted at web-push-testing: ${dp.messages} payloads on ${dp.subscriptionsChecked} subscriptions, ${dp.withAlertIdKindConversation} with alertId/kind/conversationId, kinds ${JSON.stringify(dp.kinds)}`);
      out.push(`setup: ${st.employees} employees x ${st.subscriptionsPerEmployee} subscriptions in ${st.seconds}s, statuses ${JSON.stringify(st.statuses)}`, '```', '');
    }
    const lrows = [];
    for (const [k, v] of [['idle', PU.latencyIdle], ['during the command mix', PU.latencyUnderLoad]]) {
      if (v) lrows.push([k, v.count, v.p50, v.p90, v.p99, v.max, v.missing, v.duplicates, v.ackMs.p50, v.ackMs.p99, v.requestSentToPushMs.p50, v.requestSentToPushMs.p99, k === 'idle' ? '' : `${v.mix.commandsPerSec} cmd/s, cmd p99 ${v.mix.latencyMs.all.p99} ms, cores: service ${v.mix.cpu.serverCores}, others ${v.mix.cpu.otherProcessesCores}`]);
    }
    if (lrows.length) {
      out.push(`### Latency: guest's support request acknowledged (201) -> its push at the proxy, 1 employee x 1 subscription, one ticket every ${CFG.push.probeGapMs} ms`, '```');
      out.push(table(['load', 'matched', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'missing', 'dup', 'ack p50', 'ack p99', 'sent->push p50', 'sent->push p99', 'mix'], lrows));
      out.push('(ack = the support request round trip; sent->push = from sending it to its push arriving; stamped by a separate guest process)', '```', '');
    }
    if (PU.wallSeconds) out.push(`push phase wall time ${PU.wallSeconds}s`, '');
  }
  out.push(...rebuildReportLines(results.rebuild, T.rebuildVsRawScan));
  const RB = results.rebuild?.ratio !== undefined ? results.rebuild : null;
  if (RB) verdict.rebuildVsRawScan = RB.ratio >= T.rebuildVsRawScan;
  out.push('## Ratios and targets', '```');
  out.push(
    table(
      ['measure', 'value', 'target', 'ok'],
      [
        ['commands/s / bare route req/s', ratios.commandsVsBareRoute, `>= ${T.vsBareRoute}`, verdict.commandsVsBareRoute],
        [`commands/s / raw durable inserts/s (${ratios.rawDurableInsertPerSecUsed})`, ratios.commandsVsRawDurableInsert, `>= ${T.vsRawDurableInsert}`, verdict.commandsVsRawDurableInsert],
        ['(info) CPU efficiency: cmds per server core-s / bare req per server core-s', ratios.cpuEfficiencyVsBareRoute, `(${ratios.commandsPerServerCoreSec} / ${ratios.bareRouteReqPerServerCoreSec})`, null],
        ['command p99 (ms)', S.main?.latencyMs.all.p99, `<= ${T.p99Ms}`, verdict.commandP99],
        ['lag p99 idle (ms)', L.idle?.p99, `<= ${T.lagP99Ms}`, verdict.lagIdleP99],
        ['lag p99 at half the saturation rate (ms)', L.moderate?.p99, `<= ${T.lagP99Ms}`, verdict.lagModerateP99],
        ...(X
          ? [
              [`prod cross-instance lag p99 (ms) at ${X.achievedCommandsPerSec} cmd/s (${X.crossInstance.missing} missing)`, X.crossInstance.p99, `<= ${T.crossInstanceLagP99Ms}, 0 missing`, verdict.crossInstanceLagP99],
              ['prod commands/s acknowledged, open-loop on A', X.achievedCommandsPerSec, `>= ${round(X.targetCommandsPerSec * 0.95, 0)}`, verdict.crossInstanceRateSustained],
              ...(P.crossLowRate ? [[`(info) prod cross-instance lag p99 (ms) at ${P.crossLowRate.achievedCommandsPerSec} cmd/s (${P.crossLowRate.crossInstance.missing} missing)`, P.crossLowRate.crossInstance.p99, `<= ${T.crossInstanceLagP99Ms}`, null]] : []),
            ]
          : []),
        ...(PT
          ? [
              [`push: pushes/s through the service (${PT.expectedPushes} to ${PU.setup.employees * PU.setup.subscriptionsPerEmployee} subscriptions)`, PT.pushesPerSec, `>= ${T.pushesPerSec}, all arrive`, verdict.pushesPerSec],
              [`(info) push: through the service / sender baseline (${PB?.perSecond} pushes/s)`, PU.vsSenderBaseline?.pushesPerSec, '', null],
              [`(info) push: service CPU per push / sender's (${PT.serverCpuMsPerPush} / ${PB?.cpuMsPerRequest} ms)`, PU.vsSenderBaseline?.cpuMsPerPush, '', null],
            ]
          : []),
        ...(PU?.latencyIdle ? [[`push latency p99 idle (ms), ack -> push (${PU.latencyIdle.missing} missing)`, PU.latencyIdle.p99, `<= ${T.pushIdleP99Ms}, 0 missing`, verdict.pushLatencyIdleP99]] : []),
        ...(results.peer?.oursVsPeer ? [[`commands/s / Emmett peer's, same phase (${results.peer.ours.commandsPerSec} / ${results.peer.peer.commandsPerSec}; p99 ${results.peer.oursVsPeer.p99} x)`, results.peer.oursVsPeer.commandsPerSec, `> ${T.vsEmmettPeer}`, results.peer.oursVsPeer.commandsPerSec > T.vsEmmettPeer]] : []),
        ...(RB ? [[`projection rebuild events/s / raw ordered scan events/s (${RB.inbox.eventsPerSec} / ${RB.rawScanMean}, ${RB.events} events)`, RB.ratio, `>= ${T.rebuildVsRawScan}`, verdict.rebuildVsRawScan]] : []),
        ...(PU?.latencyUnderLoad ? [[`(info) push latency p99 during the command mix (ms) (${PU.latencyUnderLoad.missing} missing)`, PU.latencyUnderLoad.p99, `<= ${T.pushIdleP99Ms}`, null]] : []),
      ],
    ),
    '```',
    '',
  );
  if (results.probes?.sseAtTicketOpenedPosition) {
    out.push(`Probe (alert recipient on, ${results.probes.ticketsOpened} tickets opened): SSE per opened ticket ${JSON.stringify(results.probes.sseAtTicketOpenedPosition)}; alerts in read model: ${results.probes.alertsInReadModel}.`, '');
  }
  const O = results.observability;
  if (O?.logging) {
    const L = O.logging;
    out.push(
      '## Observability',
      '',
      `Log cost (${L.route}, ${L.connections} connections, ${L.rounds} alternating rounds of ${L.secondsPerRound} s each): LOG_LEVEL=info ${L.info.reqPerSec} req/s, ` +
        `silent ${L.silent.reqPerSec} req/s (ratio ${L.throughputWithLogsVsWithout}); server CPU per request ${L.info.serverCpuUsPerRequest} vs ${L.silent.serverCpuUsPerRequest} µs ` +
        `(logging: ${L.logCpuUsPerRequest} µs per request; ${L.requestLinesWritten} request lines written).`,
      `/metrics scrape cost (${O.scrape.scrapes} sequential scrapes, ${O.scrape.series} series, ${O.scrape.bytes} bytes): p50 ${O.scrape.msPerScrape.p50} ms, p99 ${O.scrape.msPerScrape.p99} ms, ` +
        `server CPU ${O.scrape.serverCpuMsPerScrape} ms per scrape.`,
      '',
    );
  }
  const R = results.rateLimit;
  if (R?.limiterOff) {
    out.push(
      '## Rate limiting',
      '',
      `${R.mix}, ${R.workers} workers, ${R.rounds} alternating rounds of ${R.ticketsPerRound} tickets (3 commands each): limiter on (limits out of reach) ${R.limiterOnLimitsHigh.commandsPerSec} commands/s ` +
        `(p50 ${R.limiterOnLimitsHigh.latencyMs.p50} ms, p99 ${R.limiterOnLimitsHigh.latencyMs.p99} ms), off ${R.limiterOff.commandsPerSec} commands/s ` +
        `(p50 ${R.limiterOff.latencyMs.p50} ms, p99 ${R.limiterOff.latencyMs.p99} ms): **${R.throughputOnVsOff}x**; server CPU per command ${R.limiterOnLimitsHigh.serverCpuUsPerCommand} vs ${R.limiterOff.serverCpuUsPerCommand} µs.`,
      '',
    );
  }
  if (results.sse?.levels) out.push(...sseFanoutReportLines(results.sse));
  out.push(...peerReportLines(results.peer, S.main));
  out.push('## Problems seen');
  if (results.problems.length === 0) out.push('- none');
  for (const p of results.problems) out.push(`- [${p.where}] ${p.what} x${p.count}${p.examples ? `: ${JSON.stringify(p.examples).slice(0, 400)}` : ''}${p.detail ? ` ${JSON.stringify(p.detail)}` : ''}`);
  out.push('', `Total bench time ${results.totalSeconds}s; JSON: test/bench/results/latest.json`);
  return out.join('\n');
}

// ---- main --------------------------------------------------------------------------------------
/** The machine is shared: wait (bounded) for other processes to calm down, and record how busy it was. */
async function waitForQuiet(maxSec) {
  const start = performance.now();
  let busy = null;
  for (;;) {
    const a = systemCpu();
    await sleep(1000);
    busy = cpuDelta(a, systemCpu(), 1).busyCores;
    if (busy < 0.5 || (performance.now() - start) / 1000 >= maxSec) break;
    log(`machine busy (${busy} cores used by others), waiting`);
  }
  results.machine.busyCoresBeforeStart = busy;
  results.machine.waitedForQuietSec = round((performance.now() - start) / 1000, 1);
}

/**
 * The phases, in the order they run: each is selectable (BENCH_ONLY=<name> runs only it, its
 * BENCH_SKIP_* variable skips it) and records its result under `results[key]`; an aborted phase
 * is a problem of the run (exit code 1), and the next phase still runs.
 */
const PHASES = [
  // The main phase carries the baselines (bare route, raw inserts) the ratios of the others need.
  { name: 'main', key: 'service', skip: 'BENCH_SKIP_MAIN', run: async () => {
    results.baselines.bareRoute = await bareRoute();
    gc();
    results.baselines.rawInsert = await rawInserts(CFG.sqliteSingleMs, CFG.sqliteBatchedMs, `${CFG.sqliteSingleMs} ms`);
    await serviceBench();
  } },
  { name: 'observability', key: 'observability', skip: 'BENCH_SKIP_OBS', run: async () => {
    results.observability = await observabilityBench({ root: ROOT, log, onTmpDir: (d) => tmpDirs.push(d), seconds: CFG.obsSec });
  } },
  { name: 'ratelimit', key: 'rateLimit', skip: 'BENCH_SKIP_RATELIMIT', run: async () => {
    results.rateLimit = await rateLimitBench({ root: ROOT, log, onTmpDir: (d) => tmpDirs.push(d), ticketsPerRound: CFG.rateLimitTickets });
  } },
  { name: 'sse', key: 'sse', skip: 'BENCH_SKIP_SSE', run: async () => {
    results.sse = await sseFanoutBench({ root: ROOT, log, onTmpDir: (d) => tmpDirs.push(d) });
    for (const p of results.sse.problems) results.problems.push({ where: 'sse fan-out phase', what: p.what, count: p.count, detail: p.detail ?? p.examples });
  } },
  { name: 'peer', key: 'peer', skip: 'BENCH_SKIP_PEER', run: async () => {
    results.peer = await peerBench({ root: ROOT, log, onTmpDir: (d) => tmpDirs.push(d), runMix, roundSec: CFG.peerRoundSec });
    // runMix listed every non-2xx under "Problems seen"; a cycle's unexpected status fails the bench.
    if (results.peer.peer.unexpectedStatuses || results.peer.ours.unexpectedStatuses) process.exitCode = 1;
  } },
  { name: 'rebuild', key: 'rebuild', skip: 'BENCH_SKIP_REBUILD', run: async () => {
    results.rebuild = await rebuildBench({ root: ROOT, log, onTmpDir: (d) => tmpDirs.push(d), events: CFG.rebuildEvents, timeoutSec: CFG.rebuildTimeoutSec });
  } },
  { name: 'push', key: 'push', skip: 'BENCH_SKIP_PUSH', run: async () => {
    const t = performance.now();
    try {
      await pushBench();
    } finally {
      results.push = { ...results.push, wallSeconds: round((performance.now() - t) / 1000, 1) };
    }
  } },
  { name: 'production', key: 'production', skip: 'BENCH_SKIP_PROD', run: () => productionBench() },
];

async function runPhase(phase) {
  if (CFG.only !== '' && CFG.only !== phase.name) return void (results[phase.key] ??= { skipped: `BENCH_ONLY=${CFG.only}` });
  if (process.env[phase.skip] === '1') return void (results[phase.key] = { skipped: `${phase.skip}=1` });
  try {
    await phase.run();
  } catch (error) {
    results.problems.push({ where: `${phase.name} phase`, what: 'aborted', count: 1, examples: [String(error?.stack ?? error).slice(0, 2000)] });
    process.exitCode = 1;
  }
  gc();
}

async function main() {
  log(`machine: ${JSON.stringify(results.machine)}`);
  const names = PHASES.map((p) => p.name);
  if (CFG.only !== '' && !names.includes(CFG.only)) throw new Error(`BENCH_ONLY=${CFG.only}: the phases are ${names.join(', ')}`);
  try {
    await waitForQuiet(env('BENCH_QUIET_WAIT_S', 20));
    for (const phase of PHASES) await runPhase(phase);
    if (CFG.only === '' && results.baselines.rawInsert) results.baselines.rawInsertRepeat = await rawInserts(CFG.sqliteRepeatMs, 0, 'repeat');
  } catch (error) {
    results.problems.push({ where: 'bench', what: 'aborted', count: 1, examples: [String(error?.stack ?? error).slice(0, 2000)] });
    process.exitCode = 1;
  } finally {
    await stopAll();
  }
  const md = report();
  mkdirSync(join(HERE, 'results'), { recursive: true });
  writeFileSync(join(HERE, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(md);
}

await main();
