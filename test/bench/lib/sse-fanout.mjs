// SSE fan-out on one instance (BENCH_SKIP_SSE=1 skips it; BENCH_ONLY=sse runs only this phase,
// ~1 min; also `node test/bench/lib/sse-fanout.mjs` after `npm run build`): one service
// (embedded store, lib/service.mjs) with 1,000, then 5,000, then 10,000 SSE streams open, held
// by two client processes (lib/sse-fanout-client.mjs: raw sockets, CLOCK_MONOTONIC stamps).
//
// At each level:
// - memory per connection: RSS (/proc, median of 5 samples) and V8 heap used (/metrics, lowest of
//   5 samples: nearest a collection) minus the idle service's in the same run (before any stream),
//   divided by the level;
// - broadcast: `BENCH_SSE_CHANGES` changes to ONE ticket (take-over / release by its owner,
//   alternating), each received by every stream that may see it; for each, the time from the
//   command's acknowledgement to each stream's receipt of the event with that position
//   (p50/p99 over all receipts of all changes) and until the last stream had it;
// - the client's share: the client processes' CPU per change (the stamps are taken in their
//   event loops, so a stamp is late by at most the time its process was busy before it).
// The mix of viewers (per-viewer rendering): employees of the property (agents, some admins,
// the ticket's owner), guests of the ticket's conversation, and two control groups that must
// receive nothing of these changes (employees of another property, guests of another
// conversation); guest frames are checked for employee ids.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { httpClient, sleep } from './http.mjs';
import { cpuSeconds, killAllNow, spawnChild, stopChild } from './procs.mjs';
import { toMonotonicMs } from './push.mjs';
import { PROPERTY, startService, tokenMinter } from './service.mjs';
import { round, summarize } from './stats.mjs';
import { cpuDelta, systemCpu } from './sys.mjs';

const OTHER_PROPERTY = 'bench-property-other';
const CLIENTS = 2;
const RECEIVERS = ['employee', 'admin', 'owner', 'guest'];
const CONTROLS = ['other-property', 'guest-other-conversation'];

/** The viewer of stream `i`: ~80 % employees of PROPERTY, 10 % guests of the ticket, 10 % controls. */
function groupOf(i) {
  const k = i % 20;
  if (k === 0) return 'other-property';
  if (k === 1) return 'guest-other-conversation';
  if (k === 2 || k === 3) return 'guest';
  if (i % 50 === 4) return 'owner';
  if (k === 5) return 'admin';
  return 'employee';
}

/** Line-oriented JSON conversation with one client process. */
function startClient(root, index) {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const entry = spawnChild(`sse-client-${index}`, process.execPath, [join(root, 'test/bench/lib/sse-fanout-client.mjs')], { cwd: root, env, stdin: 'pipe' });
  // Answers can be far larger than the tail spawnChild keeps of stdout: read them as lines.
  const answers = [];
  let wake = () => {};
  createInterface({ input: entry.child.stdout }).on('line', (line) => {
    answers.push(JSON.parse(line));
    wake();
  });
  const next = (what, timeoutMs) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${entry.name}: no answer to ${what} within ${timeoutMs} ms`)), timeoutMs);
      const onExit = () => reject(new Error(`${entry.name} exited (${entry.exitCode}): ${entry.stderr.slice(-2000)}`));
      entry.child.once('exit', onExit);
      wake = () => {
        if (answers.length === 0) return;
        clearTimeout(timer);
        entry.child.off('exit', onExit);
        resolve(answers.shift());
      };
      wake();
    });
  const ask = (cmd, timeoutMs = 120_000) => {
    entry.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    return next(cmd.op, timeoutMs);
  };
  return { entry, ask, ready: next('start', 30_000) };
}

function rssBytes(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}

export async function sseFanoutBench({ root, log, onTmpDir, levels = [1000, 5000, 10000], changes = 5 }) {
  const svc = await startService(root, {
    onTmpDir,
    // Every stream comes from 127.0.0.1 and many share a principal: the caps would refuse them.
    env: { SSE_MAX_STREAMS_PER_PRINCIPAL: '0', SSE_MAX_STREAMS_PER_ADDRESS: '0' },
  });
  const clients = Array.from({ length: CLIENTS }, (_, i) => startClient(root, i));
  const { call, close } = httpClient(svc.base, { maxSockets: 8 });
  try {
    await Promise.all(clients.map((c) => c.ready));
    const mint = tokenMinter(svc.secret);
    const mintOther = tokenMinter(svc.secret, { propertyId: OTHER_PROPERTY });
    const metric = async (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await call('GET', '/metrics')).text)?.[1] ?? NaN);

    // The ticket whose changes fan out, and a second conversation (control).
    const admin = await mint('fan-admin-setup', 'admin');
    const settings = await call('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' } });
    if (settings.status !== 200) throw new Error(`PUT /v1/settings/live-chat answered ${settings.status}: ${settings.text}`);
    const conversation = async (name) => {
      const s = await call('POST', '/v1/guest/conversations', { body: { propertyId: PROPERTY, guestName: name } });
      if (s.status !== 201) throw new Error(`start conversation answered ${s.status}: ${s.text}`);
      const r = await call('POST', `/v1/guest/conversations/${s.json.conversationId}/support-requests`, { token: s.json.guestToken });
      if (r.status >= 300) throw new Error(`support request answered ${r.status}: ${r.text}`);
      return s.json;
    };
    const ticket = await conversation('Broadcast Guest');
    const other = await conversation('Other Guest');
    const owner = await mint('fan-owner', 'agent', 'Olga Owner');

    // Tokens per group (a few hundred distinct principals, several streams each).
    const employees = await Promise.all(Array.from({ length: 400 }, (_, i) => mint(`fan-agent-${i}`, 'agent', `Agent ${i}`)));
    const admins = await Promise.all(Array.from({ length: 20 }, (_, i) => mint(`fan-admin-${i}`, 'admin', `Admin ${i}`)));
    const others = await Promise.all(Array.from({ length: 50 }, (_, i) => mintOther(`fan-other-${i}`, 'agent', `Other ${i}`)));
    const specOf = (i) => {
      const group = groupOf(i);
      const employeeStream = (token) => ({ path: '/v1/stream', token, group });
      switch (group) {
        case 'guest':
          return { path: `/v1/guest/conversations/${ticket.conversationId}/stream`, token: ticket.guestToken, group };
        case 'guest-other-conversation':
          return { path: `/v1/guest/conversations/${other.conversationId}/stream`, token: other.guestToken, group };
        case 'other-property':
          return employeeStream(others[i % others.length]);
        case 'owner':
          return employeeStream(owner);
        case 'admin':
          return employeeStream(admins[i % admins.length]);
        default:
          return employeeStream(employees[i % employees.length]);
      }
    };

    const sampleMemory = async () => {
      await sleep(1500);
      const rss = [];
      const heap = [];
      for (let i = 0; i < 5; i++) {
        rss.push(rssBytes(svc.pid));
        heap.push(await metric('nodejs_heap_size_used_bytes'));
        await sleep(300);
      }
      // Heap: the lowest sample, the one closest after a collection (garbage is not what a connection costs).
      const median = (xs) => [...xs].sort((a, b) => a - b)[2];
      return { rss: median(rss), heap: Math.min(...heap) };
    };

    const idle = await sampleMemory();
    log(`sse fan-out: idle service rss ${round(idle.rss / 2 ** 20, 1)} MiB, heap ${round(idle.heap / 2 ** 20, 1)} MiB`);
    let opened = 0;
    let change = 0;
    const out = { levels: [], clients: CLIENTS, changesPerLevel: changes, mix: {}, problems: [] };
    for (const level of levels) {
      const t0 = performance.now();
      const specs = Array.from({ length: level - opened }, (_, j) => specOf(opened + j));
      const answers = await Promise.all(clients.map((c, k) => c.ask({ op: 'open', port: svc.port, streams: specs.filter((_, j) => j % CLIENTS === k) })));
      const failed = answers.reduce((a, r) => a + r.failed, 0);
      if (failed > 0) out.problems.push({ level, what: 'streams refused', count: failed, examples: answers.flatMap((r) => r.errors).slice(0, 3) });
      opened = level;
      const openSeconds = (performance.now() - t0) / 1000;
      const serverCount = await metric('lct_sse_connections');
      const mem = await sampleMemory();
      log(`sse fan-out: ${level} streams (server counts ${serverCount}) opened in ${round(openSeconds, 1)} s; rss ${round(mem.rss / 2 ** 20, 1)} MiB`);

      const receipts = [];
      const toFirst = [];
      const toLast = [];
      const serverCpuMs = [];
      const workersCpuMs = [];
      const clientCpuMs = [];
      const clientHandlerMs = [];
      const missing = {};
      const badges = {};
      const controlFrames = {};
      // The machine is shared: how busy it was while the changes ran (all processes, ours included).
      let machine0 = null;
      let measuredFrom = 0;
      // One unmeasured change first: the level's streams have been idle, the first write to each is a warm-up.
      for (let c = -1; c < changes; c++) {
        if (c === 0) {
          machine0 = systemCpu();
          measuredFrom = performance.now();
        }
        const cpu0 = cpuSeconds(svc.pid);
        const workersCpu0 = svc.workersPid ? cpuSeconds(svc.workersPid) : null;
        const path = `/v1/conversations/${ticket.conversationId}/${change++ % 2 === 0 ? 'take-over' : 'release'}`;
        const r = await call('POST', path, { token: owner });
        if (r.status !== 200 || !r.json?.position) throw new Error(`${path} answered ${r.status}: ${r.text.slice(0, 300)}`);
        const ackMono = toMonotonicMs(r.at);
        const got = await Promise.all(clients.map((cl) => cl.ask({ op: 'collect', position: r.json.position, groups: RECEIVERS, timeoutMs: 20_000 })));
        const cpu = cpuSeconds(svc.pid) - cpu0;
        const workersCpu = workersCpu0 === null ? null : cpuSeconds(svc.workersPid) - workersCpu0;
        if (c < 0) continue;
        let first = Infinity;
        let last = 0;
        for (const g of got) {
          for (const group of RECEIVERS) {
            for (const t of g.arrivals[group] ?? []) {
              receipts.push(t - ackMono);
              first = Math.min(first, t - ackMono);
              last = Math.max(last, t - ackMono);
            }
            missing[group] = (missing[group] ?? 0) + (g.missing[group] ?? 0);
          }
          for (const group of CONTROLS) controlFrames[group] = (controlFrames[group] ?? 0) + (g.arrivals[group]?.length ?? 0);
          for (const [group, counts] of Object.entries(g.badges)) for (const [b, n] of Object.entries(counts)) ((badges[group] ??= {})[b] = (badges[group][b] ?? 0) + n);
        }
        toFirst.push(first);
        toLast.push(last);
        serverCpuMs.push(cpu * 1000);
        if (workersCpu !== null) workersCpuMs.push(workersCpu * 1000);
        clientCpuMs.push(got.reduce((a, g) => a + g.cpuMs, 0));
        clientHandlerMs.push(got.reduce((a, g) => a + g.handlerMs, 0));
      }
      const busy = cpuDelta(machine0, systemCpu(), (performance.now() - measuredFrom) / 1000);
      const ours = (serverCpuMs.reduce((a, b) => a + b, 0) + workersCpuMs.reduce((a, b) => a + b, 0) + clientCpuMs.reduce((a, b) => a + b, 0)) / 1000;
      const mean = (xs) => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), 1);
      const result = {
        connections: level,
        serverCounts: serverCount,
        openSeconds: round(openSeconds, 1),
        memoryPerConnectionKiB: { rss: round((mem.rss - idle.rss) / level / 1024, 1), heapUsed: round((mem.heap - idle.heap) / level / 1024, 1) },
        rssMiB: round(mem.rss / 2 ** 20, 1),
        heapUsedMiB: round(mem.heap / 2 ** 20, 1),
        broadcastMs: summarize(receipts),
        // The first receipt is mostly the projection's lag (ack -> entry in this process's feed); the rest is the fan-out.
        untilFirstStreamMs: summarize(toFirst),
        untilLastStreamMs: summarize(toLast),
        serverCpuMsPerChange: mean(serverCpuMs),
        // The log consumers' child process (projector: the change itself), when the service runs one.
        workersCpuMsPerChange: workersCpuMs.length ? mean(workersCpuMs) : null,
        clientCpuMsPerChange: mean(clientCpuMs),
        clientHandlerMsPerChange: mean(clientHandlerMs),
        machineBusyCores: busy.busyCores,
        othersBusyCores: round(busy.busyCores - ours / ((performance.now() - measuredFrom) / 1000), 2),
        missingReceipts: missing,
        controlFrames,
        badges,
      };
      out.levels.push(result);
      const missed = Object.values(missing).reduce((a, b) => a + b, 0);
      if (missed > 0) out.problems.push({ level, what: 'receipts missing (20 s timeout)', count: missed, detail: missing });
      const leaked = Object.values(controlFrames).reduce((a, b) => a + b, 0);
      if (leaked > 0) out.problems.push({ level, what: 'control streams received the change', count: leaked, detail: controlFrames });
      log(
        `sse fan-out: ${level} streams: ${result.memoryPerConnectionKiB.rss} KiB rss / ${result.memoryPerConnectionKiB.heapUsed} KiB heap per connection; ` +
          `broadcast p50 ${result.broadcastMs.p50} ms p99 ${result.broadcastMs.p99} ms, first/last stream ${result.untilFirstStreamMs.p50}/${result.untilLastStreamMs.p50} ms (median); ` +
          `server CPU ${result.serverCpuMsPerChange} ms, clients ${result.clientCpuMsPerChange} ms per change; machine busy ${result.machineBusyCores} cores (others ~${result.othersBusyCores}); missing ${missed}`,
      );
    }
    const stats = await Promise.all(clients.map((c) => c.ask({ op: 'stats' })));
    out.closedByServer = stats.reduce((a, s) => a + s.closed, 0);
    out.heartbeatsSeen = stats.reduce((a, s) => a + s.heartbeats, 0);
    const violations = stats.flatMap((s) => s.violations);
    if (violations.length > 0) out.problems.push({ what: 'guest frames with employee ids', count: violations.length, examples: violations.slice(0, 3) });
    if (out.closedByServer > 0) out.problems.push({ what: 'streams closed by the service during the phase', count: out.closedByServer });
    out.mix = Object.fromEntries([...RECEIVERS, ...CONTROLS].map((g) => [g, Array.from({ length: levels[levels.length - 1] }, (_, i) => groupOf(i)).filter((x) => x === g).length]));
    out.idle = { rssMiB: round(idle.rss / 2 ** 20, 1), heapUsedMiB: round(idle.heap / 2 ** 20, 1) };
    return out;
  } finally {
    await close?.();
    await Promise.all(clients.map((c) => stopChild(c.entry)));
    await stopChild(svc.entry, 10_000);
  }
}

/** Report lines for run.mjs. */
export function sseFanoutReportLines(S) {
  const lines = [
    '## SSE fan-out (one instance, embedded store)',
    '',
    `${S.clients} client processes (raw sockets); mix at the largest level ${JSON.stringify(S.mix)}; ${S.changesPerLevel} changes per level (take-over/release of one ticket). ` +
      `Memory against the idle service of the same run (rss ${S.idle.rssMiB} MiB, heap ${S.idle.heapUsedMiB} MiB).`,
    '',
    '| connections | KiB/conn rss | KiB/conn heap | broadcast p50 ms | p99 ms | first / last stream (median) ms | server CPU ms/change | clients CPU ms/change | busy cores (others) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const l of S.levels) {
    lines.push(
      `| ${l.connections} | ${l.memoryPerConnectionKiB.rss} | ${l.memoryPerConnectionKiB.heapUsed} | ${l.broadcastMs.p50} | ${l.broadcastMs.p99} | ${l.untilFirstStreamMs.p50} / ${l.untilLastStreamMs.p50} | ${l.serverCpuMsPerChange} | ${l.clientCpuMsPerChange} | ${l.machineBusyCores} (${l.othersBusyCores}) |`,
    );
  }
  lines.push('', `Targets at 10,000: broadcast p99 ≤ 250 ms, ≤ 20 KiB per connection. Problems: ${S.problems.length === 0 ? 'none' : JSON.stringify(S.problems).slice(0, 600)}`, '');
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rmSync } = await import('node:fs');
  process.on('exit', killAllNow);
  const root = new URL('../../..', import.meta.url).pathname;
  const tmpDirs = [];
  const levels = (process.env.BENCH_SSE_LEVELS ?? '1000,5000,10000').split(',').map(Number);
  try {
    const result = await sseFanoutBench({ root, log: (...a) => console.error('[sse-fanout]', ...a), onTmpDir: (d) => tmpDirs.push(d), levels, changes: Number(process.env.BENCH_SSE_CHANGES ?? 5) });
    console.log(sseFanoutReportLines(result).join('\n'));
    console.log(JSON.stringify(result));
  } finally {
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  }
}
