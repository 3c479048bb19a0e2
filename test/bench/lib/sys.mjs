// Machine facts and whole-machine CPU accounting (the box is shared: other sessions' work
// shows up as CPU used by neither the server nor the bench client).
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: model,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavgAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** Jiffies from the aggregate `cpu` line of /proc/stat. */
export function systemCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [, ...nums] = line.trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = nums.map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, iowait, steal, total };
}

/** Between two samples: busy cores (of nproc), iowait and steal as core-equivalents. */
export function cpuDelta(a, b, seconds) {
  const hz = 100;
  return {
    busyCores: round2((b.busy - a.busy) / hz / seconds),
    iowaitCores: round2((b.iowait - a.iowait) / hz / seconds),
    stealCores: round2((b.steal - a.steal) / hz / seconds),
  };
}

const round2 = (v) => Math.round(v * 100) / 100;
