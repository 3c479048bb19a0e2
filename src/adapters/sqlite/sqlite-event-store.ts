/**
 * Event store on one SQLite file (WAL). Durability: `synchronous=FULL`, so an acknowledged
 * append survives power loss; speed: appends that arrive while a commit is running are
 * committed together in the next transaction (group commit), each still checked against its
 * own expected revision. Commits run in a worker thread (sqlite-event-writer.ts) so fsync
 * never blocks the event loop; reads use this thread's own connection (WAL readers do not
 * wait for the writer).
 *
 * Several processes may share the file: every batch is a BEGIN IMMEDIATE transaction that
 * re-reads stream revisions, and subscribers poll for other processes' appends.
 *
 * Storage faults (disk full, read-only, I/O error, locked past busy_timeout) reject the appends
 * concerned with StorageUnavailableError (a rolled-back transaction: nothing of them is kept)
 * and are remembered in `writeHealth` until a commit succeeds; `checkWritable()` (the readiness
 * probe) retries a one-row write while one is remembered.
 */
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type ReadStreamOptions,
  type StoredEvent,
  WrongExpectedVersionError,
} from '../../application/ports/event-store.js';
import { catchUpSubscription } from '../../application/ports/catch-up-subscription.js';
import { StorageUnavailableError } from '../../application/ports/storage-unavailable.js';
import { WriteHealth, asStorageFault, isSqliteFaultCode } from '../storage-faults.js';
import { type WriterReply, type WriterRequest, writerMain } from './sqlite-event-writer.js';
import { RecentEvents } from './recent-events.js';

const STORE = 'eventStore';

interface PendingAppend {
  streamId: string;
  events: EventToAppend[];
  /** data and metadata as JSON, serialised before queueing so a bad payload fails only its own append. */
  json: Array<{ data: string; metadata: string }>;
  expected: ExpectedRevision;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

interface EventRow {
  position: bigint;
  id: string;
  stream: string;
  revision: bigint;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

export interface SqliteEventStoreOptions {
  /** How often subscribers look for appends made by other processes. */
  pollIntervalMs?: number;
}

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly appended = new EventEmitter();
  private pending: PendingAppend[] = [];
  private inFlight: PendingAppend[] | null = null;
  /** Readiness probes waiting for a probe write: the next group carries one (`probe: true`). */
  private probeWaiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private probesInFlight: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  /** The last storage fault of a commit, until one succeeds (for /health/ready). */
  readonly writeHealth = new WriteHealth(STORE);
  private flushScheduled = false;
  private batchNumber = 0;
  private readonly writer: Worker;
  private closed = false;
  private readonly pollIntervalMs: number;
  private readonly recent = new RecentEvents();
  private readonly stmt: {
    readStream: Database.Statement;
    readAll: Database.Statement;
    head: Database.Statement;
  };

  constructor(file: string, options: SqliteEventStoreOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 10;
    this.appended.setMaxListeners(0);
    this.db = new Database(file);
    this.db.defaultSafeIntegers(true);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position    INTEGER PRIMARY KEY,
        id          TEXT NOT NULL,
        stream      TEXT NOT NULL,
        revision    INTEGER NOT NULL,
        type        TEXT NOT NULL,
        data        TEXT NOT NULL,
        metadata    TEXT NOT NULL,
        recorded_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events(stream, revision);
      CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL);
    `);
    this.stmt = {
      readStream: this.db.prepare('SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision'),
      readAll: this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      head: this.db.prepare('SELECT max(position) AS p FROM events'),
    };
    this.writer = new Worker(`(${writerMain.toString()})(require)`, {
      eval: true,
      workerData: { file, betterSqlite3: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    this.writer.on('message', (reply: WriterReply) => this.onWriterReply(reply));
    this.writer.on('error', (error) => this.failInFlight(error));
    this.writer.unref();
  }

  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('Event store is closed'));
    if (events.length === 0) return Promise.reject(new Error('Nothing to append'));
    let json: PendingAppend['json'];
    try {
      json = events.map((e) => ({ data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata) }));
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ streamId, events, json, expected, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * For the readiness probe: resolves when the file is writable. While no fault is remembered
   * that is taken for granted (every commit reports one); otherwise a one-row write in the
   * writer thread tells (and clears the fault when it succeeds).
   */
  checkWritable(): Promise<void> {
    if (this.writeHealth.lastFault === null) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('Event store is closed'));
    return new Promise((resolve, reject) => {
      this.probeWaiting.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    // Appends issued in the same tick join one group; later ones queue behind the running commit.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Sends everything queued since the last commit as one group, unless a commit is running. */
  private flush(): void {
    if (this.inFlight !== null || (this.pending.length === 0 && this.probeWaiting.length === 0)) return;
    this.inFlight = this.pending;
    this.pending = [];
    this.probesInFlight = this.probeWaiting;
    this.probeWaiting = [];
    const request: WriterRequest = {
      batch: ++this.batchNumber,
      recordedAt: new Date().toISOString(),
      probe: this.probesInFlight.length > 0,
      appends: this.inFlight.map((p) => ({
        streamId: p.streamId,
        expected: p.expected,
        events: p.events.map((e, i) => ({ id: e.id, type: e.type, data: p.json[i]!.data, metadata: p.json[i]!.metadata })),
      })),
    };
    this.writer.ref(); // keep the process alive until the group is durable
    this.writer.postMessage(request);
  }

  /** Called after every group this instance committed (embedded-workers.ts tells the child process). */
  onCommitted(listener: () => void): () => void {
    this.appended.on('committed', listener);
    return () => this.appended.off('committed', listener);
  }

  /** Another process says it appended: subscribers read now rather than at their next poll. */
  appendedElsewhere(): void {
    this.appended.emit('appended');
  }

  private onWriterReply(reply: WriterReply): void {
    if ('closed' in reply) return;
    const batch = this.inFlight ?? [];
    const probes = this.probesInFlight;
    this.inFlight = null;
    this.probesInFlight = [];
    this.writer.unref();
    if ('error' in reply) {
      const error = this.failure(reply.code, `Event store commit failed: ${reply.error}`);
      for (const item of [...batch, ...probes]) item.reject(error);
    } else {
      let faulted = false;
      batch.forEach((item, i) => {
        const outcome = reply.outcomes[i]!;
        if ('ok' in outcome) item.resolve(outcome.ok);
        else if ('wrongVersion' in outcome) item.reject(new WrongExpectedVersionError(item.streamId, item.expected, outcome.wrongVersion.actual));
        else {
          faulted ||= isSqliteFaultCode(outcome.code);
          item.reject(this.failure(outcome.code, `Append to ${item.streamId} failed: ${outcome.failed}`));
        }
      });
      if (!faulted) this.writeHealth.succeeded();
      for (const probe of probes) probe.resolve();
      this.appended.emit('appended');
      if (batch.length > 0) this.appended.emit('committed');
    }
    this.appended.emit('settled');
    this.flush();
  }

  /** A storage fault (remembered until a commit succeeds) or any other failure. */
  private failure(code: string | undefined, message: string): Error {
    if (!isSqliteFaultCode(code)) return new Error(message);
    const fault = new StorageUnavailableError(STORE, code, { cause: new Error(message) });
    this.writeHealth.failed(fault);
    return fault;
  }

  private failInFlight(error: unknown): void {
    const fault = asStorageFault(error, STORE);
    if (fault) this.writeHealth.failed(fault);
    for (const item of [...(this.inFlight ?? []), ...this.pending, ...this.probesInFlight, ...this.probeWaiting]) item.reject(fault ?? error);
    this.inFlight = null;
    this.pending = [];
    this.probesInFlight = [];
    this.probeWaiting = [];
    this.appended.emit('settled');
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    return reading(() => (this.stmt.readStream.all(streamId, options.fromRevision ?? 0n) as EventRow[]).map(toStoredEvent));
  }

  /** Parsed once per process for all its log consumers (recent-events.ts). */
  async readAll(after: Position | null, limit: number): Promise<StoredEvent[]> {
    return reading(() => this.recent.read(after ?? 0n, limit, (from, n) => (this.stmt.readAll.all(from, BigInt(n)) as EventRow[]).map(toStoredEvent)));
  }

  async headPosition(): Promise<Position | null> {
    return reading(() => (this.stmt.head.get() as { p: bigint | null }).p);
  }

  subscribeToAll(
    after: Position | null,
    handle: (events: StoredEvent[]) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    return catchUpSubscription({
      after,
      handle,
      signal,
      readAll: (from, limit) => this.readAll(from, limit),
      waitForAppend: () => this.waitForAppend(),
    });
  }

  /** Resolves on the next local append, or after the poll interval (appends by other processes). */
  private waitForAppend(maxMs = this.pollIntervalMs): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.appended.off('appended', done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.appended.once('appended', done);
    });
  }

  /** Lets queued appends commit, then stops the writer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.inFlight !== null || this.pending.length > 0 || this.probeWaiting.length > 0) {
      await new Promise((r) => this.appended.once('settled', r));
      this.flush();
    }
    this.appended.emit('appended');
    this.writer.ref();
    await new Promise<void>((resolve) => {
      this.writer.once('exit', () => resolve());
      this.writer.once('message', (reply: WriterReply) => 'closed' in reply && void this.writer.terminate());
      this.writer.postMessage({ close: true } satisfies WriterRequest);
    });
    this.db.close();
  }
}

/** A read that failed for a storage reason (I/O error, locked past busy_timeout) is a StorageUnavailableError. */
function reading<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw asStorageFault(error, STORE) ?? error;
  }
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    streamId: row.stream,
    revision: row.revision,
    position: row.position,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    recordedAt: new Date(row.recorded_at),
  };
}
