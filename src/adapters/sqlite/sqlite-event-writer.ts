/**
 * The event store's writer, run in a worker thread: with `synchronous=FULL` every commit
 * waits for fsync, and better-sqlite3 is synchronous, so on the main thread each commit
 * would stall every request. Here the main thread keeps serving (and queueing the next
 * group of appends) while the disk syncs.
 *
 * `writerMain` is type-checked like any other code but runs from its source text
 * (`Function.prototype.toString`) in an `eval` worker, so it must not use imports or
 * anything outside its own body: it gets `require` as its argument.
 */
import type { ExpectedRevision } from '../../application/ports/event-store.js';

export interface WriterAppend {
  streamId: string;
  expected: ExpectedRevision;
  events: Array<{ id: string; type: string; data: string; metadata: string }>;
}

export type WriterOutcome =
  | { ok: { revision: bigint; position: bigint } }
  | { wrongVersion: { actual: bigint | 'no_stream' } }
  | { failed: string; code?: string };

/**
 * `probe`: also (or only, with no appends) rewrite the one row of `write_probe`, so /health/ready
 * can find out whether the file is writable again after a fault without appending an event.
 * `code` on a failure is SQLite's result code (`SQLITE_FULL`, …): the store tells storage faults
 * from bugs by it.
 */
export type WriterRequest = { batch: number; appends: WriterAppend[]; recordedAt: string; probe?: boolean } | { close: true };
export type WriterReply =
  | { batch: number; outcomes: WriterOutcome[] }
  | { batch: number; error: string; code?: string }
  | { closed: true };

export function writerMain(require: (id: string) => any): void {
  const { parentPort, workerData } = require('node:worker_threads');
  const Database = require(workerData.betterSqlite3);
  const db = new Database(workerData.file);
  db.defaultSafeIntegers(true);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  const lastRevision = db.prepare('SELECT max(revision) AS r FROM events WHERE stream = ?');
  const atRevision = db.prepare('SELECT position, id FROM events WHERE stream = ? AND revision = ?');
  const insert = db.prepare(
    'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const probe = db.prepare('INSERT INTO write_probe (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at');
  const codeOf = (error: unknown) => (typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined);

  /** ESDB's idempotence: the same ids right after the same expected revision mean "already done". */
  function alreadyStored(item: WriterAppend, expectedLast: bigint): { revision: bigint; position: bigint } | null {
    if (item.expected === 'any') return null;
    let position = 0n;
    for (let i = 0; i < item.events.length; i++) {
      const row = atRevision.get(item.streamId, expectedLast + 1n + BigInt(i));
      if (!row || row.id !== item.events[i]!.id) return null;
      position = row.position;
    }
    return { revision: expectedLast + BigInt(item.events.length), position };
  }

  function appendOne(item: WriterAppend, recordedAt: string): WriterOutcome {
    const last: bigint | null = lastRevision.get(item.streamId).r;
    const expectedLast = item.expected === 'no_stream' ? -1n : item.expected;
    const matches = item.expected === 'any' || (last === null ? expectedLast === -1n : last === expectedLast);
    if (!matches) {
      const replay = alreadyStored(item, expectedLast as bigint);
      return replay ? { ok: replay } : { wrongVersion: { actual: last === null ? 'no_stream' : last } };
    }
    let revision = last === null ? -1n : last;
    let position = 0n;
    for (const e of item.events) {
      revision += 1n;
      position = BigInt(insert.run(e.id, item.streamId, revision, e.type, e.data, e.metadata, recordedAt).lastInsertRowid);
    }
    return { ok: { revision, position } };
  }

  parentPort.on('message', (request: WriterRequest) => {
    if ('close' in request) {
      db.close();
      parentPort.postMessage({ closed: true } satisfies WriterReply);
      return;
    }
    const outcomes: WriterOutcome[] = [];
    try {
      db.transaction(() => {
        for (const item of request.appends) {
          // A failing insert (e.g. a constraint) fails its own append, not the whole group.
          db.exec('SAVEPOINT one_append');
          try {
            outcomes.push(appendOne(item, request.recordedAt));
            db.exec('RELEASE one_append');
          } catch (error) {
            db.exec('ROLLBACK TO one_append');
            db.exec('RELEASE one_append');
            outcomes.push({ failed: String(error), code: codeOf(error) });
          }
        }
        if (request.probe) probe.run(request.recordedAt);
      }).immediate();
      parentPort.postMessage({ batch: request.batch, outcomes } satisfies WriterReply);
    } catch (error) {
      // Nothing of the group is kept: the transaction rolled back whole (e.g. SQLITE_FULL at COMMIT).
      parentPort.postMessage({ batch: request.batch, error: String(error), code: codeOf(error) } satisfies WriterReply);
    }
  });
}
