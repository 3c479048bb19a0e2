// Web Push bench: `npm run build && node test/bench/push.mjs`.
//
// Starts web-push-testing (a real push service: verifies each VAPID JWT, decrypts each body) in a
// child process (lib/push.mjs, via test/support/web-push-testing.cjs), makes 1,000 subscriptions,
// and sends through dist/'s WebPushSender at concurrency 32 and 1. Baseline in the same run: plain
// unencrypted JSON POSTs (same payload, same fetch) to the same service (its /status route).
// "perCore" = pushes per CPU-second of this process (process.cpuUsage), i.e. what one core of
// the sender side sustains; the push service's CPU is reported separately (it is the other
// core's bottleneck on a 2-core machine, not ours). Prints one JSON line on stdout.
// `npm run bench` measures the same sender baseline (concurrency 32) in its push phase.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllNow } from './lib/procs.mjs';
import { SAMPLE_PAYLOAD, loadSender, measure, senderTasks, startPushService } from './lib/push.mjs';
import { machine } from './lib/sys.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const CFG = { subscriptions: 1000, phaseSec: env('BENCH_PUSH_S', 5), warmupSec: 1, concurrencies: [32, 1] };

process.on('exit', killAllNow);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const { WebPushSender, generateVapidKeys } = await loadSender(ROOT);
const pushService = await startPushService(ROOT);
try {
  const keys = generateVapidKeys();
  const sender = new WebPushSender({ ...keys, subject: 'mailto:bench@example.com' });
  const subs = await pushService.subscribeMany(keys.publicKey, CFG.subscriptions, 32);
  const { push, plain, counters } = senderTasks(sender, pushService.base, subs);
  const pids = { pushService: pushService.pid };

  const phases = {};
  for (const concurrency of CFG.concurrencies) {
    await measure(plain, concurrency, CFG.warmupSec); // warm-up: JIT, connections
    phases[`plainPost_c${concurrency}`] = await measure(plain, concurrency, CFG.phaseSec, pids);
    await measure(push, concurrency, CFG.warmupSec);
    phases[`webPush_c${concurrency}`] = await measure(push, concurrency, CFG.phaseSec, pids);
  }

  // Every accepted push must have arrived decrypted at the push service.
  let delivered = 0;
  for (const s of subs) delivered += (await pushService.notifications(s.endpoint)).length;

  const ratio = (a, b) => Math.round((a / b) * 1000) / 1000;
  const result = {
    bench: 'web-push',
    machine: machine(),
    subscriptions: subs.length,
    payloadBytes: Buffer.byteLength(SAMPLE_PAYLOAD),
    phaseSec: CFG.phaseSec,
    phases,
    vsPlainPost: Object.fromEntries(
      CFG.concurrencies.map((c) => [`c${c}`, { perSecond: ratio(phases[`webPush_c${c}`].perSecond, phases[`plainPost_c${c}`].perSecond), perCore: ratio(phases[`webPush_c${c}`].perCore, phases[`plainPost_c${c}`].perCore) }]),
    ),
    accepted: counters.accepted,
    delivered,
    failures: counters.failures,
    ok: delivered === counters.accepted && Object.keys(counters.failures).length === 0,
  };
  console.log(JSON.stringify(result));
  if (!result.ok) process.exitCode = 1;
} finally {
  await pushService.stop();
}
