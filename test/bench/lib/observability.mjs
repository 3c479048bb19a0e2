// Observability costs (BENCH_SKIP_OBS=1 skips; BENCH_ONLY=observability runs only this phase):
// - log cost per request: the same simple public route (GET /health/live) on two services
//   started alike, one with LOG_LEVEL=info (one JSON line per request, to a file as a log
//   shipper would read it) and one with LOG_LEVEL=silent; autocannon rounds alternate between
//   them (on, off, on, off) so drift hits both. Reported: req/s each, the ratio, and the
//   server CPU per request (the difference is what logging a request costs).
// - /metrics scrape cost: sequential scrapes of the info service after a command mix has
//   created command/outcome series: ms per scrape (client side), server CPU per scrape, size.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { httpClient, sleep } from './http.mjs';
import { cpuSeconds, freePort } from './procs.mjs';
import { prepareTickets, tokenMinter } from './service.mjs';
import { round, summarize } from './stats.mjs';

async function startQuiet(root, logLevel, onTmpDir, children) {
  const dataDir = mkdtempSync(join(tmpdir(), `lct-bench-obs-${logLevel}-`));
  onTmpDir(dataDir);
  const port = await freePort();
  const secret = randomBytes(32).toString('hex');
  const logFile = join(dataDir, 'stdout.log');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', AUTH_JWT_SECRET: secret, LOG_LEVEL: logLevel },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-5000)));
  children.add(child);
  const killOnExit = () => child.kill('SIGKILL'); // the bench ending any way never leaves it behind
  process.once('exit', killOnExit);
  child.once('exit', () => (children.delete(child), process.removeListener('exit', killOnExit)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service (${logLevel}) exited: ${stderr}`);
    const ok = await fetch(`${base}/health/live`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`service (${logLevel}) not ready: ${stderr}`);
    await sleep(100);
  }
  return { child, base, secret, logFile, logLevel };
}

async function stop(children) {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill('SIGKILL'), 3000);
          c.once('exit', () => (clearTimeout(t), resolve()));
          c.kill('SIGTERM');
        }),
    ),
  );
}

async function measureRound(service, seconds, connections) {
  const cpu0 = cpuSeconds(service.child.pid);
  const r = await autocannon({ url: `${service.base}/health/live`, connections, duration: seconds });
  const cpu1 = cpuSeconds(service.child.pid);
  return { requests: r.requests.total, seconds: r.duration, non2xx: r.non2xx + r.errors, cpuSeconds: cpu1 - cpu0, p99: r.latency.p99 };
}

export async function observabilityBench({ root, log, onTmpDir, seconds = 4, connections = 50, scrapes = 300 }) {
  const children = new Set();
  try {
    log('observability: two services, LOG_LEVEL=info and LOG_LEVEL=silent');
    const on = await startQuiet(root, 'info', onTmpDir, children);
    const off = await startQuiet(root, 'silent', onTmpDir, children);
    for (const s of [on, off]) await autocannon({ url: `${s.base}/health/live`, connections, duration: 1 }); // warm-up
    const rounds = { info: [], silent: [] };
    for (let i = 0; i < 2; i++) {
      for (const s of [on, off]) rounds[s.logLevel].push(await measureRound(s, seconds, connections));
    }
    const agg = (rs) => {
      const requests = rs.reduce((a, r) => a + r.requests, 0);
      const secs = rs.reduce((a, r) => a + r.seconds, 0);
      const cpu = rs.reduce((a, r) => a + r.cpuSeconds, 0);
      return {
        requests,
        reqPerSec: round(requests / secs, 0),
        serverCpuUsPerRequest: round((cpu / requests) * 1e6, 1),
        latencyP99Ms: Math.max(...rs.map((r) => r.p99)),
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      };
    };
    const info = agg(rounds.info);
    const silent = agg(rounds.silent);
    const lines = readFileSync(on.logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"request completed"')).length;
    const logging = {
      route: 'GET /health/live',
      connections,
      secondsPerRound: seconds,
      rounds: 2,
      info,
      silent,
      throughputWithLogsVsWithout: round(info.reqPerSec / silent.reqPerSec, 3),
      logCpuUsPerRequest: round(info.serverCpuUsPerRequest - silent.serverCpuUsPerRequest, 1),
      requestLinesWritten: lines,
    };
    log(`observability: logs on ${info.reqPerSec} req/s, off ${silent.reqPerSec} req/s; CPU/request ${info.serverCpuUsPerRequest} vs ${silent.serverCpuUsPerRequest} µs`);

    // Some commands first, so /metrics carries command, outcome and append series.
    const call = httpClient(on.base).call;
    const mint = tokenMinter(on.secret);
    const admin = await mint('obs-admin', 'admin');
    await call('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' } });
    const { ids } = await prepareTickets(call, 50, 10, 'obs');
    for (const [i, id] of ids.entries()) {
      const t = await mint(`obs-agent-${i % 5}`);
      await call('POST', `/v1/conversations/${id}/take-over`, { token: t });
      await call('POST', `/v1/conversations/${id}/take-over`, { token: await mint('obs-late') }); // a 409: another outcome
    }
    const times = [];
    let bytes = 0;
    const cpu0 = cpuSeconds(on.child.pid);
    for (let i = 0; i < scrapes; i++) {
      const r = await call('GET', '/metrics');
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      times.push(r.ms);
      bytes = r.text.length;
    }
    const cpu1 = cpuSeconds(on.child.pid);
    const series = (await call('GET', '/metrics')).text.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const scrape = { scrapes, msPerScrape: summarize(times), serverCpuMsPerScrape: round(((cpu1 - cpu0) / scrapes) * 1000, 2), bytes, series };
    log(`observability: /metrics p50 ${scrape.msPerScrape.p50} ms, p99 ${scrape.msPerScrape.p99} ms, ${scrape.serverCpuMsPerScrape} ms CPU, ${bytes} bytes, ${series} series`);
    return { logging, scrape };
  } finally {
    await stop(children);
  }
}
