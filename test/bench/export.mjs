// History export rate (`live-chat-tickets export`) vs a raw ordered scan of the same store, same run.
// Usage: npm run build && node test/bench/export.mjs [events=200000]
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SqliteEventStore } from '../../dist/adapters/sqlite/sqlite-event-store.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const total = Number(process.argv[2] ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'lct-export-'));
try {
  const store = new SqliteEventStore(join(dir, 'events.db'));
  const perStream = 100;
  for (let s = 0; s < total / perStream; s++) {
    const id = randomUUID();
    const events = Array.from({ length: perStream }, (_, i) => ({
      id: randomUUID(),
      type: i === 0 ? 'ConversationStarted' : 'GuestMessagePosted',
      data: i === 0 ? { conversationId: id, propertyId: 'bench', guestName: 'Guest', at: new Date().toISOString() } : { messageId: randomUUID(), text: `message ${i}`, at: new Date().toISOString() },
      metadata: { propertyId: 'bench', commandId: randomUUID(), actor: { kind: 'guest', id } },
    }));
    await store.append(`conversation-${id}`, events, 'no_stream');
  }
  let t0 = performance.now();
  let after = null;
  let scanned = 0;
  for (;;) {
    const batch = await store.readAll(after, 1000);
    if (batch.length === 0) break;
    scanned += batch.length;
    after = batch[batch.length - 1].position;
  }
  const scanMs = performance.now() - t0;
  await store.close();

  const out = join(dir, 'export.ndjson');
  t0 = performance.now();
  execFileSync(process.execPath, [join(ROOT, 'dist/cli.js'), 'export', '--out', out], { env: { PATH: process.env.PATH, DATA_DIR: dir }, stdio: ['ignore', 'ignore', 'inherit'] });
  const exportMs = performance.now() - t0;
  const result = {
    events: scanned,
    rawScanEventsPerSec: Math.round(scanned / (scanMs / 1000)),
    exportEventsPerSec: Math.round(scanned / (exportMs / 1000)),
    ratioToRawScan: Number((scanMs / exportMs).toFixed(3)),
    exportSeconds: Number((exportMs / 1000).toFixed(2)),
    exportMiB: Number((statSync(out).size / 1048576).toFixed(1)),
    note: 'export time includes the CLI process start (~1-2 s): node, Nest core context, adapters',
  };
  console.log(JSON.stringify(result));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
