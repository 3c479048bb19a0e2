// One client process of the SSE fan-out phase (lib/sse-fanout.mjs): thousands of SSE streams
// on raw sockets, so the client costs as little per stream as it can (no EventSource, no
// http.IncomingMessage per stream). Commands arrive on stdin, one JSON line each; answers go to
// stdout, one JSON line each. Exits when stdin closes (never outlives the bench).
//
// Reads use net's `onread` (one shared buffer, no stream machinery per read): the client's
// share of the machine is reported by the phase, and this keeps it small.
// Receipt times are CLOCK_MONOTONIC (process.hrtime), shared by every process on the machine,
// taken when the socket's data arrives. The body is not de-chunked: the service writes each SSE
// frame with one write, i.e. one HTTP chunk, so a frame's `id:`/`event:` lines are contiguous.
//
// Commands:
//   {op:'open', port, streams:[{path, token, group}]}      -> {op:'opened', ok, failed, errors}
//   {op:'collect', position, groups:[...], timeoutMs}       -> {op:'collected', position, arrivals:{group:[t...]},
//       missing:{group:n}, badges:{group:{badge:n}}, cpuMs, handlerMs}  (waits until every stream of `groups` has
//       the position, or the timeout; then forgets what it saw)
//   {op:'stats'}                                            -> {op:'stats', open, closed, heartbeats, violations, ...}
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const FRAME = /id: (\d+)-\d+\nevent: ([a-z.]+)\ndata: ([^\n]*)\n/g;
const BADGE = /"badge":(null|"[a-z_]+")/;
const READ_BUFFER = Buffer.alloc(256 * 1024);

/** Guests must never see an employee id (SPEC §2): the bench's employee ids all start with this. */
const EMPLOYEE_ID_MARK = 'fan-';
const streams = [];
let handlerMs = 0;
const violations = [];
let closed = 0;
let heartbeats = 0;
let pending = null; // the collect waiting for arrivals
// CPU and handler time since the last collect (or open): what one change cost this client.
let cpuMark = process.cpuUsage();
let handlerMark = 0;

const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function onFrame(stream, position, event, data, t) {
  if (event === 'ready' || event === 'reset') return;
  let seen = stream.seen.get(position);
  if (!seen) {
    stream.seen.set(position, (seen = { t, badge: undefined }));
    // A change may bring several frames at its position (`<position>-0`, `-1`, ...): the stream counts once.
    if (pending && pending.groups.has(stream.group) && position === pending.position && --pending.left === 0) pending.finish();
  }
  if (stream.group.startsWith('guest') && data.includes(EMPLOYEE_ID_MARK)) {
    if (violations.length < 20) violations.push({ group: stream.group, what: 'employee id in a guest frame', event, data: data.slice(0, 300) });
  }
  if (event === 'conversation.updated' && !stream.group.startsWith('guest')) seen.badge = BADGE.exec(data)?.[1] ?? 'none';
}

function openStream(port, spec) {
  return new Promise((resolve) => {
    const stream = { group: spec.group, seen: new Map(), ready: false, socket: null };
    // onread: reads land in one shared buffer, no Buffer and no stream 'data' event per read.
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true, onread: { buffer: READ_BUFFER, callback: (n, buf) => onRead(buf.latin1Slice(0, n)) } });
    stream.socket = socket;
    let head = '';
    let settled = false;
    const settle = (error) => {
      if (settled) return;
      settled = true;
      resolve(error ? { error } : { stream });
    };
    socket.on('connect', () => {
      socket.write(`GET ${spec.path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\naccept: text/event-stream\r\nauthorization: Bearer ${spec.token}\r\n\r\n`);
    });
    const onRead = (chunk) => {
      const t = nowMs();
      const started = performance.now();
      if (!stream.ready) {
        head += chunk;
        if (!head.startsWith('HTTP/1.1 200')) {
          if (head.includes('\r\n\r\n')) {
            settle(head.slice(0, 200));
            socket.destroy();
          }
          return;
        }
        if (!head.includes('event: ready')) return;
        stream.ready = true;
        chunk = head;
        head = '';
        settle();
      }
      if (chunk.includes(': heartbeat')) heartbeats++;
      FRAME.lastIndex = 0;
      for (let m; (m = FRAME.exec(chunk)); ) onFrame(stream, m[1], m[2], m[3], t);
      handlerMs += performance.now() - started;
    };
    socket.on('error', (error) => settle(String(error.message)));
    socket.on('close', () => {
      if (stream.ready) closed++;
      settle('closed before ready');
    });
  });
}

async function open({ port, streams: specs, concurrency = 200 }) {
  let next = 0;
  let ok = 0;
  const errors = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < specs.length) {
        const r = await openStream(port, specs[next++]);
        if (r.stream) {
          streams.push(r.stream);
          ok++;
        } else if (errors.length < 5) errors.push(r.error);
        else errors.length++;
      }
    }),
  );
  cpuMark = process.cpuUsage();
  handlerMark = handlerMs;
  return { op: 'opened', ok, failed: errors.length, errors: errors.filter(Boolean) };
}

function collect({ position, groups, timeoutMs }) {
  const want = new Set(groups);
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      pending = null;
      const cpu = process.cpuUsage(cpuMark);
      const handled = handlerMs - handlerMark;
      cpuMark = process.cpuUsage();
      handlerMark = handlerMs;
      const arrivals = {};
      const missing = {};
      const badges = {};
      for (const s of streams) {
        const seen = s.seen.get(position);
        arrivals[s.group] ??= [];
        missing[s.group] ??= 0;
        if (seen) {
          arrivals[s.group].push(seen.t);
          if (seen.badge !== undefined) (badges[s.group] ??= {})[seen.badge] = (badges[s.group][seen.badge] ?? 0) + 1;
        } else missing[s.group]++;
        s.seen.clear();
      }
      resolve({ op: 'collected', position, arrivals, missing, badges, cpuMs: (cpu.user + cpu.system) / 1000, handlerMs: handled });
    };
    let left = 0;
    for (const s of streams) if (want.has(s.group) && !s.seen.has(position)) left++;
    const timer = setTimeout(finish, timeoutMs);
    pending = { position, groups: want, left, finish };
    if (left === 0) finish();
  });
}

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'open') say(await open(cmd));
  else if (cmd.op === 'collect') say(await collect(cmd));
  else if (cmd.op === 'stats') say({ op: 'stats', open: streams.length - closed, closed, heartbeats, violations });
});
lines.on('close', () => process.exit(0));
say({ op: 'started' });
