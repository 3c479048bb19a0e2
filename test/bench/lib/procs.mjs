// Child processes of the bench: spawned, awaited until ready, always killed at the end
// (normal exit, error, Ctrl-C). Only processes started here are ever signalled, by pid.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const children = new Set();

/** `stdin: 'pipe'` for children that exit when their stdin closes (so they never outlive the bench). */
export function spawnChild(name, command, args, { env, cwd, stdin = 'ignore' } = {}) {
  const child = spawn(command, args, { cwd, env, stdio: [stdin, 'pipe', 'pipe'] });
  child.stdin?.on('error', () => {}); // EPIPE once the child is gone
  const entry = { name, child, stdout: '', stderr: '', exited: false, exitCode: null };
  children.add(entry);
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  // Keep a bounded tail of the output for error reports.
  const keep = (s) => (s.length > 20000 ? s.slice(-20000) : s);
  child.stdout.on('data', (d) => (entry.stdout = keep(entry.stdout + d)));
  child.stderr.on('data', (d) => (entry.stderr = keep(entry.stderr + d)));
  child.on('exit', (code, signal) => {
    entry.exited = true;
    entry.exitCode = code ?? signal;
    children.delete(entry);
  });
  return entry;
}

/** Resolves with the first match of `pattern` on the child's stdout. */
export function waitForOutput(entry, pattern, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      const m = pattern.exec(entry.stdout);
      if (m) return resolve(m);
      if (entry.exited) return reject(new Error(`${entry.name} exited (${entry.exitCode}) before ready:\n${entry.stdout}\n${entry.stderr}`));
      if (Date.now() - started > timeoutMs) return reject(new Error(`${entry.name} not ready after ${timeoutMs} ms:\n${entry.stdout}\n${entry.stderr}`));
      setTimeout(check, 25);
    };
    check();
  });
}

/** Runs a child to completion and parses the last stdout line as JSON. */
export async function runJsonChild(name, command, args, opts = {}) {
  const entry = spawnChild(name, command, args, opts);
  await new Promise((resolve) => entry.child.once('exit', resolve));
  if (entry.exitCode !== 0) throw new Error(`${name} failed (${entry.exitCode}):\n${entry.stderr}`);
  const lines = entry.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

export async function stopChild(entry, graceMs = 3000) {
  if (entry.exited) return entry.exitCode;
  const exited = new Promise((resolve) => entry.child.once('exit', resolve));
  entry.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!entry.exited) entry.child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
  return entry.exitCode;
}

export async function stopAll() {
  await Promise.all([...children].map((e) => stopChild(e)));
}

/** Last-resort synchronous cleanup (process 'exit' cannot wait). */
export function killAllNow() {
  for (const e of children) {
    try {
      e.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user+system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}
