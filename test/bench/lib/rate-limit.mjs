// Rate limiting's cost (BENCH_SKIP_RATELIMIT=1 skips; BENCH_ONLY=ratelimit runs only this phase):
// the main bench's command mix (take-over -> reply -> close, one worker per agent token) on two
// services started alike from the same build, one with the limiter on and every limit out of
// reach (HIGH_RATE_LIMITS: each request still counts in its buckets) and one with
// RATE_LIMIT_ENABLED=false. Rounds alternate (on, off, off, on, on, off) so drift hits both, and
// every round does the same work (`ticketsPerRound` take-over/reply/close cycles), timed.
// Reported: commands/s each, the ratio on/off, p50/p99 latency, and server CPU per command.
import { httpClient } from './http.mjs';
import { cpuSeconds, stopChild } from './procs.mjs';
import { PROPERTY, prepareTickets, startService, tokenMinter } from './service.mjs';
import { round, summarize } from './stats.mjs';

async function prepare(svc, label, tickets, workers) {
  const { call, close } = httpClient(svc.base, { maxSockets: workers + 16 });
  const mint = tokenMinter(svc.secret);
  const admin = await mint(`rl-admin-${label}`, 'admin');
  const settings = await call('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' } });
  if (settings.status !== 200) throw new Error(`${label}: PUT /v1/settings/live-chat answered ${settings.status}: ${settings.text}`);
  const prep = await prepareTickets(call, tickets, 50, `rl-${label}`);
  if (prep.failures.length) throw new Error(`${label}: ${prep.failures.length} ticket preparations failed, e.g. ${JSON.stringify(prep.failures[0])}`);
  const agents = await Promise.all(Array.from({ length: workers }, (_, i) => mint(`rl-agent-${i}`, 'agent', `Agent ${i}`)));
  return { call, close, agents, tickets: prep.ids };
}

/** One round of the mix on `side`: `n` of its prepared tickets taken over, replied to and closed, timed. */
async function round_(side, n) {
  const samples = [];
  const tickets = side.tickets.splice(0, n);
  if (tickets.length < n) throw new Error(`${side.label}: only ${tickets.length} of ${n} tickets left`);
  const cpu0 = cpuSeconds(side.svc.pid);
  const start = performance.now();
  await Promise.all(
    side.agents.map(async (token) => {
      while (tickets.length > 0) {
        const id = tickets.shift();
        for (const [kind, path, body] of [
          ['take-over', `/v1/conversations/${id}/take-over`],
          ['reply', `/v1/conversations/${id}/messages`, { text: 'Hello from the bench' }],
          ['close', `/v1/conversations/${id}/close`],
        ]) {
          const r = await side.call('POST', path, { token, body });
          samples.push({ kind, status: r.status, ms: r.ms });
          if (r.status >= 300) break;
        }
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  const cpu = cpuSeconds(side.svc.pid) - cpu0;
  return { samples, seconds: secs, cpuSeconds: cpu };
}

export async function rateLimitBench({ root, log, onTmpDir, rounds = 3, workers = 50, ticketsPerRound = 3000 }) {
  const started = [];
  try {
    log('rate limiting: two services, limiter on (limits out of reach) and RATE_LIMIT_ENABLED=false');
    const on = { label: 'on', svc: await startService(root, { onTmpDir }) };
    const off = { label: 'off', svc: await startService(root, { onTmpDir, env: { RATE_LIMIT_ENABLED: 'false' } }) };
    started.push(on.svc, off.svc);
    for (const side of [on, off]) Object.assign(side, await prepare(side.svc, side.label, ticketsPerRound * rounds, workers));
    const results = { on: [], off: [] };
    for (let i = 0; i < rounds; i++) {
      // Who goes first alternates too (on/off, off/on, ...): the first round of a run is also the warm-up.
      for (const side of i % 2 === 0 ? [on, off] : [off, on]) {
        const r = await round_(side, ticketsPerRound);
        results[side.label].push(r);
        log(`rate limiting: round ${i + 1} ${side.label}: ${round(r.samples.filter((s) => s.status < 300).length / r.seconds, 0)} commands/s in ${round(r.seconds, 1)} s`);
      }
    }
    const agg = (rs) => {
      const samples = rs.flatMap((r) => r.samples);
      const ok = samples.filter((s) => s.status > 0 && s.status < 300);
      const secs = rs.reduce((a, r) => a + r.seconds, 0);
      const cpu = rs.reduce((a, r) => a + r.cpuSeconds, 0);
      return {
        commands: samples.length,
        okCommands: ok.length,
        non2xx: samples.length - ok.length,
        commandsPerSec: round(ok.length / secs, 0),
        latencyMs: summarize(ok.map((s) => s.ms)),
        serverCpuUsPerCommand: round((cpu / Math.max(1, ok.length)) * 1e6, 0),
        seconds: round(secs, 1),
      };
    };
    const a = agg(results.on);
    const b = agg(results.off);
    const out = {
      mix: 'take-over -> reply -> close (the main phase), embedded store',
      property: PROPERTY,
      workers,
      ticketsPerRound,
      rounds,
      limiterOnLimitsHigh: a,
      limiterOff: b,
      throughputOnVsOff: round(a.commandsPerSec / b.commandsPerSec, 3),
      limiterCpuUsPerCommand: round(a.serverCpuUsPerCommand - b.serverCpuUsPerCommand, 0),
    };
    log(`rate limiting: on ${a.commandsPerSec}/s (p99 ${a.latencyMs.p99} ms), off ${b.commandsPerSec}/s (p99 ${b.latencyMs.p99} ms): ${out.throughputOnVsOff}x`);
    await Promise.all([on, off].map((s) => s.close?.()));
    return out;
  } finally {
    await Promise.all(started.map((svc) => stopChild(svc.entry)));
  }
}
