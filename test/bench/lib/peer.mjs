// The Emmett peer (BENCH_SKIP_PEER=1 skips it; BENCH_ONLY=peer runs only this phase, ~1 min):
// the main phase's take-over -> reply -> close mix (run.mjs's runMix and cycle, 50 workers, each
// with its own employee token, distinct prepared conversations) against test/bench/peers/emmett
// (Emmett's decider + command handler on emmett-sqlite behind plain Fastify routes, same URLs and
// shapes) and against the service, in alternating timed rounds (peer, ours, ours, peer, ...) so
// both see the same machine state; the ratios come from these rounds, also in a full bench run
// (the main phase ran minutes earlier, on a machine other helpers share).
// The peer's own dependencies (sqlite3 compiles from source) are installed here on demand with
// `npm ci --prefix test/bench/peers/emmett`, skipped when node_modules matches its lock.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { httpClient } from './http.mjs';
import { freePort, spawnChild, stopChild, waitForOutput } from './procs.mjs';
import { prepareTickets, startService, tokenMinter } from './service.mjs';
import { round, summarize, table } from './stats.mjs';

const peerDir = (root) => join(root, 'test/bench/peers/emmett');

/** `npm ci` of the peer unless node_modules was installed from the same lock on this platform. */
async function ensureInstalled(root, log) {
  const dir = peerDir(root);
  const stamp = join(dir, 'node_modules', '.lct-installed-from');
  const want = `${createHash('sha256').update(readFileSync(join(dir, 'package-lock.json'))).digest('hex')} ${process.platform}-${process.arch}`;
  const binding = join(dir, 'node_modules/sqlite3/build/Release/node_sqlite3.node');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(binding)) return { ran: false };
  log('emmett peer: npm ci --prefix test/bench/peers/emmett (sqlite3 compiles from source: about 2 minutes the first time)');
  const t = performance.now();
  const entry = spawnChild('peer npm ci', 'npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { cwd: dir, env: process.env });
  const code = await new Promise((resolve) => (entry.exited ? resolve(entry.exitCode) : entry.child.once('exit', (c) => resolve(c))));
  if (code !== 0) throw new Error(`npm ci of the Emmett peer failed (${code}):\n${entry.stderr.slice(-3000)}`);
  writeFileSync(stamp, want);
  return { ran: true, seconds: round((performance.now() - t) / 1000, 1) };
}

async function startPeer(root, onTmpDir) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lct-bench-peer-'));
  onTmpDir(dataDir);
  const port = await freePort();
  const secret = randomBytes(32).toString('hex');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', AUTH_JWT_SECRET: secret };
  // PEER_STORE=stock: emmett-sqlite's default wiring, to see it fail (peers/emmett/server.mjs).
  if (process.env.PEER_STORE) env.PEER_STORE = process.env.PEER_STORE;
  const entry = spawnChild('emmett-peer', process.execPath, ['server.mjs'], { cwd: peerDir(root), env });
  await waitForOutput(entry, /listening on/, 30000);
  return { entry, pid: entry.child.pid, base: `http://127.0.0.1:${port}`, secret };
}

const versionOf = (root, pkg) => JSON.parse(readFileSync(join(peerDir(root), 'node_modules', pkg, 'package.json'), 'utf8')).version;

/** Opens `n` tickets on `side` (untimed); a failed preparation aborts the phase. */
async function addTickets(side, n, log) {
  const t = performance.now();
  const prep = await prepareTickets(side.call, n, 50, `${side.label}-${side.batches++}`);
  if (prep.failures.length) throw new Error(`${side.label}: ${prep.failures.length} ticket preparations failed, e.g. ${JSON.stringify(prep.failures[0])}`);
  const seconds = (performance.now() - t) / 1000;
  side.tickets.push(...prep.ids);
  log(`emmett peer phase: ${side.label}: ${prep.ids.length} more tickets in ${round(seconds, 1)} s (${round(prep.samples.length / seconds, 0)} commands/s)`);
  return prep.samples.length / seconds;
}

/**
 * Enough tickets for the next round: 1.3x what the fastest round so far consumed (the first
 * round: 2.5x the setup rate, since a cycle's commands run faster than opening a ticket).
 */
async function topUp(side, roundSec, log) {
  const rate = Math.max(side.setupCommandsPerSec * 2.5, ...side.runs.map((r) => r.main.commandsPerSec));
  const needed = Math.min(30000, Math.ceil(((rate * roundSec) / 3) * 1.3));
  if (side.tickets.length < needed) await addTickets(side, needed - side.tickets.length, log);
}

function aggregate(runs) {
  const samples = runs.flatMap((r) => r.samples);
  const ok = samples.filter((s) => s.status > 0 && s.status < 300);
  const seconds = runs.reduce((a, r) => a + r.main.seconds, 0);
  const serverCores = runs.map((r) => Object.entries(r.main.cpu).filter(([k]) => k === 'serverCores' || k === 'workersCores').reduce((a, [, v]) => a + (v ?? 0), 0));
  return {
    rounds: runs.map((r) => ({ commandsPerSec: r.main.commandsPerSec, p99: r.main.latencyMs.all.p99, seconds: r.main.seconds, ranOutOfTickets: r.main.ranOutOfTickets })),
    commands: samples.length,
    okCommands: ok.length,
    unexpectedStatuses: samples.length - ok.length,
    commandsPerSec: round(ok.length / seconds, 0),
    latencyMs: summarize(ok.map((s) => s.ms)),
    serverCores: round(serverCores.reduce((a, v) => a + v, 0) / runs.length),
    otherProcessesCores: round(runs.reduce((a, r) => a + (r.main.cpu.otherProcessesCores ?? 0), 0) / runs.length),
    benchClientCores: round(runs.reduce((a, r) => a + (r.main.cpu.benchClientCores ?? 0), 0) / runs.length),
    seconds: round(seconds, 1),
  };
}

/** `runMix` is run.mjs's: the main phase's workers and cycle(), with its error accounting. */
export async function peerBench({ root, log, onTmpDir, runMix, rounds = 3, roundSec = 3, workers = 50 }) {
  const started = [];
  const clients = [];
  try {
    const install = await ensureInstalled(root, log);
    if (install.ran) log(`emmett peer: installed in ${install.seconds} s`);
    log('emmett peer phase: starting the peer and the service');
    const peerProc = await startPeer(root, onTmpDir);
    started.push(peerProc.entry);
    const svc = await startService(root, { onTmpDir });
    started.push(svc.entry);
    const sides = [
      { label: 'peer', proc: peerProc, pids: { server: peerProc.pid } },
      { label: 'ours', proc: svc, pids: { server: svc.pid, ...(svc.workersPid ? { workers: svc.workersPid } : {}) } },
    ];
    for (const side of sides) {
      const client = httpClient(side.proc.base, { maxSockets: workers + 16 });
      clients.push(client);
      side.call = client.call;
      const mint = tokenMinter(side.proc.secret);
      side.agents = await Promise.all(Array.from({ length: workers }, (_, i) => mint(`peer-agent-${i}`, 'agent', `Agent ${i}`)));
      Object.assign(side, { runs: [], tickets: [], batches: 0 });
    }
    const ours = sides[1];
    const admin = await tokenMinter(svc.secret)('peer-admin', 'admin');
    const settings = await ours.call('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' } });
    if (settings.status !== 200) throw new Error(`PUT /v1/settings/live-chat answered ${settings.status}: ${settings.text}`);
    // Warm-up (also measures the setup rate the first round's tickets are sized by).
    for (const side of sides) side.setupCommandsPerSec = round(await addTickets(side, 500, log), 0);

    for (let i = 0; i < rounds; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        await topUp(side, roundSec, log);
        const r = await runMix(() => side.call, side.agents, side.tickets, side.pids, `emmett peer phase: ${side.label} round ${i + 1}`, roundSec);
        side.tickets = r.leftover;
        side.runs.push(r);
        log(`emmett peer phase: ${side.label} round ${i + 1}: ${r.main.commandsPerSec} commands/s, p99 ${r.main.latencyMs.all.p99} ms`);
      }
    }
    const [peer, us] = sides.map((s) => ({ ...aggregate(s.runs), setupCommandsPerSec: s.setupCommandsPerSec }));
    return {
      install,
      versions: Object.fromEntries(['@event-driven-io/emmett', '@event-driven-io/emmett-sqlite', 'sqlite3', 'fastify', 'jose'].map((p) => [p, versionOf(root, p)])),
      store:
        process.env.PEER_STORE === 'stock'
          ? "PEER_STORE=stock: emmett-sqlite's default, a fresh connection per store operation"
          : 'emmett-sqlite getSQLiteEventStore on one shared connection (connectionOptions.singleton), appends one at a time (the stock per-operation connections answer SQLITE_BUSY at 50 connections: peers/emmett/server.mjs)',
      durability: 'WAL (set by emmett-sqlite on every connection), synchronous FULL (SQLite default, never set by emmett-sqlite), one transaction per append',
      workers,
      rounds,
      roundSec,
      peer,
      ours: us,
      oursVsPeer: { commandsPerSec: round(us.commandsPerSec / peer.commandsPerSec, 2), p99: round(us.latencyMs.p99 / peer.latencyMs.p99, 2) },
    };
  } finally {
    for (const c of clients) c.close();
    await Promise.all(started.map((e) => stopChild(e)));
  }
}

/** Report lines; `main` is the main phase's figures when it ran (for information: another time). */
export function peerReportLines(P, main) {
  if (!P) return [];
  if (P.skipped) return [`## Emmett peer: skipped (${P.skipped})`, ''];
  if (!P.peer) return [];
  const row = (k, s) => [k, s.commandsPerSec, s.latencyMs.p50, s.latencyMs.p99, s.latencyMs.max, s.unexpectedStatuses, s.serverCores, s.otherProcessesCores, s.rounds.map((r) => `${r.commandsPerSec} (p99 ${r.p99})`).join(' / ')];
  const out = [
    `## Emmett peer (same client, same machine): ${P.workers} workers, take-over -> reply -> close, ${P.rounds} alternating rounds of ${P.roundSec} s each side`,
    '',
    `peer: @event-driven-io/emmett ${P.versions['@event-driven-io/emmett']} decider + DeciderCommandHandler, emmett-sqlite ${P.versions['@event-driven-io/emmett-sqlite']} (sqlite3 ${P.versions.sqlite3}), Fastify ${P.versions.fastify}, jose ${P.versions.jose}; ${P.store}; durability: ${P.durability}.`,
    'The service does more per command than the peer (idempotency keys, read models + SSE change feed, rate limits, logs/metrics, settings reads): see the header of test/bench/peers/emmett/server.mjs.',
    ...(P.install?.ran ? [`(peer installed in this run: npm ci ${P.install.seconds} s)`] : []),
    '```',
    table(['side', 'cmd/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'server cores', 'others, cores', 'per round: cmd/s (p99 ms)'], [row('Emmett peer', P.peer), row('ours', P.ours)]),
    `ours / peer: ${P.oursVsPeer.commandsPerSec} x commands/s, ${P.oursVsPeer.p99} x p99`,
  ];
  if (main?.commandsPerSec) out.push(`(info) main phase, earlier in this run: ${main.commandsPerSec} cmd/s, p99 ${main.latencyMs.all.p99} ms = ${round(main.commandsPerSec / P.peer.commandsPerSec, 2)} x the peer's commands/s`);
  out.push('```', '');
  return out;
}
