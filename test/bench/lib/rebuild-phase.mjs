// Phase 8 of run.mjs: projection rebuild throughput (test/bench/rebuild.mjs in a child process).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJsonChild } from './procs.mjs';

/** Runs the rebuild bench on `events` events; resolves with its JSON (see rebuild.mjs). */
export async function rebuildBench({ root, log, onTmpDir, events, timeoutSec }) {
  const dir = mkdtempSync(join(tmpdir(), 'lct-bench-rebuild-'));
  onTmpDir(dir);
  log(`rebuild: ${events} events (log, raw scan, live inbox, rebuild of the inbox; at most ${timeoutSec}s)`);
  return runJsonChild('rebuild', process.execPath, ['--expose-gc', join(root, 'test/bench/rebuild.mjs'), dir, String(events)], {
    cwd: root,
    env: { ...process.env, BENCH_REBUILD_TIMEOUT_S: String(timeoutSec) },
  });
}

/** The report's lines for the phase. */
export function rebuildReportLines(R, target) {
  if (!R) return [];
  if (R.skipped) return [`## Projection rebuild: skipped (${R.skipped})`, ''];
  const I = R.inbox;
  const lines = [
    `## Projection rebuild (${R.events} events on the embedded store, same run)`,
    '```',
    `raw ordered scan (EventStore.readAll, batches of 500): ${R.rawScan.eventsPerSec} events/s, again after the rebuild ${R.rawScanRepeat.eventsPerSec} events/s (mean ${R.rawScanMean})`,
    `rebuild of the inbox (v${I.fromVersion} -> v${I.toVersion}, beside the live one, to the switch): ${I.eventsPerSec} events/s in ${I.secondsStartToSwitch}s (${I.processCores} cores) = ${R.ratio} x the raw scan (target >= ${target})`,
  ];
  if (R.alerts) lines.push(`(info) rebuild of the alerts: ${R.alerts.eventsPerSec} events/s = ${R.alerts.ratioToRawScan} x the raw scan`);
  lines.push(`log written in ${R.logWriteSeconds}s, live inbox seeded in ${R.liveSeed.seconds}s`, '```', '');
  return lines;
}
