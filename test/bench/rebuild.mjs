// Rebuild throughput (run by run.mjs as a child; or alone: node test/bench/rebuild.mjs <dir> [events]).
//
// 1. A log of N events (default 1,000,000) on the embedded SQLite event store, written straight
//    into its table: conversations of 10 events each (start, guest/AVA messages, ticket opened,
//    taken over, answered, closed), 400 of them interleaved at a time, over 20 properties.
// 2. Baseline, same store, same run: a raw ordered scan (EventStore.readAll in batches of 500,
//    rows parsed into events, nothing applied) — events/s.
// 3. The live inbox, seeded (see below); the live group (dist's ProjectionsService) at the head.
// 4. A rebuild of the inbox through the real path (requestRebuild -> rebuilder -> hand-over):
//    events/s from its start to the switch, as a ratio to the raw scan (BENCH_REBUILD_ALERTS=1: alerts
//    too, for information: its checkpoint is set, its documents are not seeded).
// Bounded: BENCH_REBUILD_TIMEOUT_S (default 240) aborts; prints one JSON line.
import 'reflect-metadata';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const dist = (p) => import(join(ROOT, 'dist', p));
const { SqliteEventStore } = await dist('adapters/sqlite/sqlite-event-store.js');
const { SqliteReadModelStore } = await dist('adapters/sqlite/sqlite-read-model-store.js');
const { SqliteChangeFeed } = await dist('adapters/sqlite/sqlite-change-feed.js');
const { PROJECTIONS, ProjectionsService } = await dist('application/projections/projections.service.js');
const { CATCH_UP, RebuildProcessor } = await dist('application/processing/projection-rebuild.js');
const { GROUP_CHECKPOINT, PUBLISHED_CHECKPOINT } = await dist('application/processing/projector.js');
const { Logger } = await import('@nestjs/common');

const [dir, eventsArg] = process.argv.slice(2);
const N = Number(eventsArg ?? process.env.BENCH_REBUILD_EVENTS ?? 1_000_000);
const TIMEOUT_S = Number(process.env.BENCH_REBUILD_TIMEOUT_S ?? 240);
const round = (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[rebuild]', ...a);
Logger.overrideLogger(false);
setTimeout(() => {
  console.error(`[rebuild] timed out after ${TIMEOUT_S}s`);
  process.exit(3);
}, TIMEOUT_S * 1000).unref();

mkdirSync(dir, { recursive: true });
const eventsFile = join(dir, 'events.db');
const out = { events: N };

// ---- 1. the log ----------------------------------------------------------------------------------
{
  const t0 = performance.now();
  await new SqliteEventStore(eventsFile).close(); // its schema
  const db = new Database(eventsFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare('INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const properties = Array.from({ length: 20 }, (_, i) => `hotel-${i}`);
  const employees = Array.from({ length: 10 }, (_, i) => ({ id: `agent-${i}`, name: `Agent ${i}` }));
  const base = Date.now() - N * 10;
  let written = 0;
  const row = (stream, revision, type, data, propertyId, actor) => {
    const at = new Date(base + written * 10).toISOString();
    insert.run(randomUUID(), stream, revision, type, JSON.stringify({ ...data, at }), JSON.stringify({ propertyId, commandId: randomUUID(), actor }), at);
    written++;
  };
  const settings = db.transaction(() => {
    for (const p of properties) {
      row(`propertySettings-${p}`, 0, 'LiveChatSettingsChanged', { requestSupportChat: true, chatMode: 'hybrid', changedBy: 'boss' }, p, { kind: 'employee', id: 'boss' });
      employees.forEach((e, i) =>
        row(`employee-${p}-${e.id}`, 0, 'PersonalSettingsChanged', { employeeId: e.id, incomingSupportRequests: i < 3, assignedChatActivity: i < 2, closureMessage: { enabled: false, text: '' }, role: 'agent' }, p, { kind: 'employee', id: e.id }),
      );
    }
  });
  settings();
  // One conversation's 10 events, in order; 400 conversations interleaved.
  const steps = (c) => {
    const g = { kind: 'guest', id: c.id };
    const e = employees[c.n % employees.length];
    const emp = { kind: 'employee', id: e.id };
    const m1 = randomUUID();
    return [
      ['ConversationStarted', { conversationId: c.id, propertyId: c.p, guestName: `Guest ${c.n}` }, g],
      ['GuestMessagePosted', { messageId: m1, text: 'Hello, is the spa open today?' }, g],
      ['AiReplyPosted', { messageId: randomUUID(), text: 'Yes, from 9 to 21.', inReplyTo: m1 }, { kind: 'system', id: 'ava' }],
      ['GuestMessagePosted', { messageId: randomUUID(), text: 'I would like to talk to a person' }, g],
      ['TicketOpened', { ticketId: c.ticket, origin: 'ai_detected' }, { kind: 'system', id: 'ava' }],
      ['TicketTakenOver', { ticketId: c.ticket, employeeId: e.id, employeeName: e.name }, emp],
      ['EmployeeReplied', { ticketId: c.ticket, messageId: randomUUID(), employeeId: e.id, employeeName: e.name, text: 'Hi, how can I help?' }, emp],
      ['GuestMessagePosted', { messageId: randomUUID(), text: 'Can I book a massage at 5?' }, g],
      ['EmployeeReplied', { ticketId: c.ticket, messageId: randomUUID(), employeeId: e.id, employeeName: e.name, text: 'Booked, see you then.' }, emp],
      ['TicketClosed', { ticketId: c.ticket, employeeId: e.id, closedBy: e }, emp],
    ];
  };
  let n = 0;
  const open = [];
  const fresh = () => {
    const c = { id: randomUUID(), p: properties[n % properties.length], n: n++, ticket: randomUUID(), rev: 0 };
    c.steps = steps(c);
    return c;
  };
  for (let i = 0; i < 400; i++) open.push(fresh());
  const chunk = db.transaction((count) => {
    for (let i = 0; i < count && written < N; i++) {
      const slot = written % open.length;
      let c = open[slot];
      if (c.rev === c.steps.length) c = open[slot] = fresh();
      const [type, data, actor] = c.steps[c.rev];
      row(`conversation-${c.id}`, c.rev++, type, data, c.p, actor);
    }
  });
  while (written < N) chunk(50_000);
  db.close();
  out.logWriteSeconds = round((performance.now() - t0) / 1000, 1);
  log(`log: ${N} events in ${out.logWriteSeconds}s`);
}

const events = new SqliteEventStore(eventsFile);
const store = new SqliteReadModelStore(join(dir, 'read-models.db'));

// ---- 2. raw ordered scan ------------------------------------------------------------------------
async function rawScan() {
  const t0 = performance.now();
  let after = null;
  let count = 0;
  for (;;) {
    const batch = await events.readAll(after, 500);
    if (batch.length === 0) break;
    count += batch.length;
    after = batch[batch.length - 1].position;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { events: count, seconds: round(seconds, 2), eventsPerSec: round(count / seconds) };
}
globalThis.gc?.();
out.rawScan = await rawScan();
log(`raw scan: ${out.rawScan.eventsPerSec} events/s`);

// ---- 3. the live read models -------------------------------------------------------------------
// The live group's own catch-up over a million events (batches of 500, every projection, every
// index maintained) takes minutes here and is not what this phase measures: the live inbox is
// seeded with the same apply code in large batches (indexes created at the end), the other
// projections' checkpoints are set to the head without their documents (nothing reads them
// here), and the group then starts at the head, as a caught-up projector would.
const service = new ProjectionsService(events, store, new SqliteChangeFeed(join(dir, 'change-feed.db'), { startAfter: `${N}-999999999` }));
const head = await events.headPosition();
{
  const t0 = performance.now();
  const inbox = PROJECTIONS.find((p) => p.name === 'inbox');
  const seed = new RebuildProcessor(inbox, inbox.version, store, true);
  await seed.prepare();
  await seed.catchUp(events, head, CATCH_UP);
  await seed.ensureIndexes();
  const others = PROJECTIONS.filter((p) => p !== inbox).map((p) => [`${p.name}@${p.version}`, head]);
  await store.commit(GROUP_CHECKPOINT, [service.registry.appliedWrite(1n, head)], head, [[PUBLISHED_CHECKPOINT, head], ...others]);
  await service.startAll();
  while ((await service.checkpoint()) !== head) await sleep(50);
  out.liveSeed = { seconds: round((performance.now() - t0) / 1000, 1) };
  log(`live inbox seeded in ${out.liveSeed.seconds}s`);
}

// ---- 4. rebuilds --------------------------------------------------------------------------------
async function rebuild(name) {
  globalThis.gc?.();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const requested = await service.requestRebuild(name, { employeeId: 'bench', propertyId: 'bench' });
  let doc;
  for (;;) {
    doc = await service.registry.rebuild(name);
    if (doc.state === 'failed') throw new Error(`rebuild of ${name} failed: ${doc.error}`);
    if (doc.state === 'switched' || doc.state === 'done') break;
    await sleep(20);
  }
  const wallToSwitch = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const built = (Date.parse(doc.switchedAt) - Date.parse(doc.startedAt)) / 1000;
  return {
    projection: name,
    fromVersion: requested.fromVersion,
    toVersion: requested.toVersion,
    secondsStartToSwitch: round(built, 2),
    secondsRequestToSwitch: round(wallToSwitch, 2),
    eventsPerSec: round(N / built),
    processCores: round((cpu.user + cpu.system) / 1e6 / wallToSwitch, 2),
    ratioToRawScan: round(N / built / out.rawScan.eventsPerSec, 3),
  };
}
out.inbox = await rebuild('inbox');
log(`inbox rebuild: ${out.inbox.eventsPerSec} events/s = ${out.inbox.ratioToRawScan} x raw scan`);
out.rawScanRepeat = await rawScan(); // the machine is shared: the baseline again, after
if (process.env.BENCH_REBUILD_ALERTS === '1') {
  out.alerts = await rebuild('alerts');
  log(`alerts rebuild: ${out.alerts.eventsPerSec} events/s`);
}
out.rawScanMean = round((out.rawScan.eventsPerSec + out.rawScanRepeat.eventsPerSec) / 2);
out.ratio = round(out.inbox.eventsPerSec / out.rawScanMean, 3);
await service.stopAll();
await events.close();
await store.close();
console.log(JSON.stringify(out));
process.exit(0);
