// Baseline: raw durable appends on SQLite, one INSERT per transaction (WAL, synchronous=FULL)
// into a table shaped like the service's events table. Also, for context, 100 per transaction.
// Usage: node sqlite-insert.mjs <dir> <singleMs> <batchedMs>. Prints one JSON line.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const [dir, singleMs = '5000', batchedMs = '2000'] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });

function open(file) {
  rmSync(file, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE events (
      position    INTEGER PRIMARY KEY,
      id          TEXT NOT NULL,
      stream      TEXT NOT NULL,
      revision    INTEGER NOT NULL,
      type        TEXT NOT NULL,
      data        TEXT NOT NULL,
      metadata    TEXT NOT NULL,
      recorded_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX events_stream_revision ON events(stream, revision);
  `);
  return db;
}

function rowMaker() {
  let stream = '';
  let revision = 0;
  return () => {
    if (revision % 5 === 0) {
      stream = `conversation-${randomUUID()}`;
      revision = 0;
    }
    const at = new Date().toISOString();
    return [
      randomUUID(),
      stream,
      revision++,
      'EmployeeReplied',
      JSON.stringify({ ticketId: randomUUID(), messageId: randomUUID(), employeeId: 'bench-agent-1', employeeName: 'Agent 1', text: 'Hello, how can I help?', at }),
      JSON.stringify({ commandId: randomUUID(), propertyId: 'bench-property', actor: { kind: 'employee', id: 'bench-agent-1' } }),
      at,
    ];
  };
}

function run(file, ms, perTx) {
  const db = open(file);
  const insert = db.prepare('INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const next = rowMaker();
  const tx = db.transaction((rows) => {
    for (const r of rows) insert.run(...r);
  });
  let inserted = 0;
  let transactions = 0;
  const t0 = performance.now();
  const deadline = t0 + Number(ms);
  while (performance.now() < deadline) {
    const rows = Array.from({ length: perTx }, next);
    tx.immediate(rows);
    inserted += perTx;
    transactions++;
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return { inserted, transactions, seconds: Math.round(seconds * 1000) / 1000, insertsPerSec: Math.round(inserted / seconds), txPerSec: Math.round(transactions / seconds) };
}

const single = run(join(dir, 'single.db'), singleMs, 1);
const batched = Number(batchedMs) > 0 ? run(join(dir, 'batched.db'), batchedMs, 100) : null;
console.log(JSON.stringify({ single, batched100: batched }));
