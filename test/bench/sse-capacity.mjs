// SSE capacity of one process (dist/main.js, embedded store): memory of idle streams and the
// time from SIGTERM to exit with streams open. Run `npm run build` first, then
//   node test/bench/sse-capacity.mjs            (BENCH_SSE_STREAMS=2000, BENCH_SSE_SHUTDOWN_STREAMS=1000)
// Streams at 1,000-10,000 and the time for one change to reach them all: lib/sse-fanout.mjs (BENCH_ONLY=sse).
// Results on stdout (JSON) and in test/bench/results/sse-capacity.json.
//
// 1. Memory: RSS (/proc/<pid>/status VmRSS) and V8 heap used (/metrics) of the idle service, then
//    with N idle streams open (one per employee, each got its `ready`), each the median of 5
//    samples 1 s apart after a settling pause; the difference per stream.
// 2. Shutdown: with M streams still open, SIGTERM; time until the process exited, its exit code,
//    and how many streams ended cleanly (the response ended, not the connection cut).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllNow } from './lib/procs.mjs';
import { startService, tokenMinter } from './lib/service.mjs';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const STREAMS = Number(process.env.BENCH_SSE_STREAMS ?? 2000);
const SHUTDOWN_STREAMS = Number(process.env.BENCH_SSE_SHUTDOWN_STREAMS ?? 1000);
const log = (...a) => console.error('[sse-capacity]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.on('exit', killAllNow);

const tmpDirs = [];
const service = await startService(ROOT, {
  onTmpDir: (d) => tmpDirs.push(d),
  // Caps per address off: every stream here comes from 127.0.0.1 (one per employee stays within the per-principal cap).
  env: { SSE_MAX_STREAMS_PER_ADDRESS: '0' },
});
const mint = tokenMinter(service.secret);

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

async function heapUsedBytes() {
  const text = await (await fetch(`${service.base}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)[1]);
}

async function openConnections() {
  const text = await (await fetch(`${service.base}/metrics`)).text();
  return Number(/^lct_sse_connections (\S+)$/m.exec(text)?.[1] ?? NaN);
}

async function sampleMemory() {
  await sleep(3000);
  const rss = [];
  const heap = [];
  for (let i = 0; i < 5; i++) {
    rss.push(rssBytes(service.pid));
    heap.push(await heapUsedBytes());
    await sleep(1000);
  }
  return { rssBytes: median(rss), heapUsedBytes: median(heap) };
}

/** One stream: resolves once `ready` arrived; records how it ended. */
function openStream(token) {
  const agent = new http.Agent({ keepAlive: false });
  const stream = { ended: false, cut: false, req: null };
  const ready = new Promise((resolveReady, reject) => {
    stream.req = http.get(`${service.base}/v1/stream`, { agent, headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (d) => {
        if (text !== null) {
          text += d;
          if (text.includes('event: ready')) {
            text = null;
            resolveReady();
          }
        }
      });
      res.on('end', () => (stream.ended = true));
      res.on('aborted', () => (stream.cut = !stream.ended));
      res.on('error', () => (stream.cut = !stream.ended));
    });
    stream.req.on('error', reject);
  });
  return { stream, ready };
}

async function openMany(n, from) {
  const streams = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, async (_, j) => {
        const opened = openStream(await mint(`employee-${from + i + j}`));
        await opened.ready;
        return opened.stream;
      }),
    );
    streams.push(...batch);
  }
  return streams;
}

try {
  log(`idle service (pid ${service.pid})`);
  const idle = await sampleMemory();
  log(`opening ${STREAMS} streams`);
  const t0 = Date.now();
  const streams = await openMany(STREAMS, 0);
  const openedInMs = Date.now() - t0;
  log(`opened in ${openedInMs} ms; server counts ${await openConnections()}`);
  const loaded = await sampleMemory();

  // Shutdown with SHUTDOWN_STREAMS open: close the rest first.
  for (const s of streams.slice(SHUTDOWN_STREAMS)) s.req.destroy();
  const kept = streams.slice(0, SHUTDOWN_STREAMS);
  for (let i = 0; i < 100 && (await openConnections()) !== SHUTDOWN_STREAMS; i++) await sleep(100);
  const openAtSignal = await openConnections();
  const exited = new Promise((r) => service.entry.child.once('exit', (code, signal) => r({ code, signal, at: Date.now() })));
  const signalledAt = Date.now();
  service.entry.child.kill('SIGTERM');
  const { code, signal, at } = await exited;
  await sleep(200); // let the last 'end' events of the clients run
  const result = {
    at: new Date().toISOString(),
    node: process.version,
    memory: {
      streams: STREAMS,
      openedInMs,
      idle: { rssMiB: mib(idle.rssBytes), heapUsedMiB: mib(idle.heapUsedBytes) },
      withStreams: { rssMiB: mib(loaded.rssBytes), heapUsedMiB: mib(loaded.heapUsedBytes) },
      perStreamKiB: {
        rss: Math.round((loaded.rssBytes - idle.rssBytes) / STREAMS / 102.4) / 10,
        heapUsed: Math.round((loaded.heapUsedBytes - idle.heapUsedBytes) / STREAMS / 102.4) / 10,
      },
    },
    shutdown: {
      streamsOpen: openAtSignal,
      sigtermToExitMs: at - signalledAt,
      exitCode: code,
      exitSignal: signal,
      streamsEndedCleanly: kept.filter((s) => s.ended).length,
      streamsCut: kept.filter((s) => s.cut).length,
    },
  };
  mkdirSync(join(ROOT, 'test/bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'test/bench/results/sse-capacity.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result));
} finally {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
}
