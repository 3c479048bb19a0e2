/**
 * Event store on one SQLite file (WAL). Durability: `synchronous=FULL`, so an acknowledged
 * append survives power loss; speed: appends that arrive while a commit is running are
 * committed together in the next transaction (group commit), each still checked against its
 * own expected revision.
 *
 * Several processes may share the file: every batch is a BEGIN IMMEDIATE transaction that
 * re-reads stream revisions, and subscribers poll for other processes' appends.
 */
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import {
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type StoredEvent,
  WrongExpectedVersionError,
} from '../../application/ports/event-store.js';
import { catchUpSubscription } from '../../application/ports/catch-up-subscription.js';

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
  private flushScheduled = false;
  private closed = false;
  private readonly pollIntervalMs: number;
  private readonly stmt: {
    lastRevision: Database.Statement;
    insert: Database.Statement;
    atRevision: Database.Statement;
    readStream: Database.Statement;
    readAll: Database.Statement;
    head: Database.Statement;
  };

  constructor(file: string, options: SqliteEventStoreOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
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
    `);
    this.stmt = {
      lastRevision: this.db.prepare('SELECT max(revision) AS r FROM events WHERE stream = ?'),
      insert: this.db.prepare(
        'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      atRevision: this.db.prepare('SELECT position, id FROM events WHERE stream = ? AND revision = ?'),
      readStream: this.db.prepare('SELECT * FROM events WHERE stream = ? ORDER BY revision'),
      readAll: this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      head: this.db.prepare('SELECT max(position) AS p FROM events'),
    };
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
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** One transaction for everything that queued up since the last commit. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: AppendResult } | { error: unknown }> = [];
    const recordedAt = new Date().toISOString();
    try {
      this.db.transaction(() => {
        for (const item of batch) outcomes.push(this.appendInTransaction(item, recordedAt));
      }).immediate();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if ('ok' in outcome) item.resolve(outcome.ok);
      else item.reject(outcome.error);
    });
    this.appended.emit('appended');
  }

  private appendInTransaction(item: PendingAppend, recordedAt: string): { ok: AppendResult } | { error: unknown } {
    const last = (this.stmt.lastRevision.get(item.streamId) as { r: bigint | null }).r;
    const actual: bigint | 'no_stream' = last === null ? 'no_stream' : last;
    const expectedLast = item.expected === 'no_stream' ? -1n : item.expected;
    const matches = item.expected === 'any' || (actual === 'no_stream' ? expectedLast === -1n : actual === expectedLast);
    if (!matches) {
      const replay = this.sameAppendAlreadyStored(item, expectedLast as bigint);
      return replay ? { ok: replay } : { error: new WrongExpectedVersionError(item.streamId, item.expected, actual) };
    }
    let revision = last === null ? -1n : last;
    let position = 0n;
    for (const [i, e] of item.events.entries()) {
      revision += 1n;
      const info = this.stmt.insert.run(
        e.id,
        item.streamId,
        revision,
        e.type,
        item.json[i]!.data,
        item.json[i]!.metadata,
        recordedAt,
      );
      position = BigInt(info.lastInsertRowid);
    }
    return { ok: { revision, position } };
  }

  /** ESDB's idempotence: the same ids right after the same expected revision mean "already done". */
  private sameAppendAlreadyStored(item: PendingAppend, expectedLast: bigint): AppendResult | null {
    if (item.expected === 'any') return null;
    let position = 0n;
    for (let i = 0; i < item.events.length; i++) {
      const revision = expectedLast + 1n + BigInt(i);
      const row = this.stmt.atRevision.get(item.streamId, revision) as { position: bigint; id: string } | undefined;
      if (!row || row.id !== item.events[i]!.id) return null;
      position = row.position;
    }
    return { revision: expectedLast + BigInt(item.events.length), position };
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    return (this.stmt.readStream.all(streamId) as EventRow[]).map(toStoredEvent);
  }

  async readAll(after: Position | null, limit: number): Promise<StoredEvent[]> {
    return (this.stmt.readAll.all(after ?? 0n, BigInt(limit)) as EventRow[]).map(toStoredEvent);
  }

  async headPosition(): Promise<Position | null> {
    return (this.stmt.head.get() as { p: bigint | null }).p;
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pending.length > 0) this.flush();
    this.appended.emit('appended');
    this.db.close();
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
