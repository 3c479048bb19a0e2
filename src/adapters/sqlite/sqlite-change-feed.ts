/**
 * The embedded change feed: the newest `capacity` entries (default 10,000) in a SQLite file
 * in DATA_DIR (`change-feed.db`), so SSE ids survive a restart of the process — a client
 * reconnecting with Last-Event-ID after `npm start` restarts gets what it missed, not `reset`.
 *
 * - publish: one transaction per batch, whatever its size (WAL at synchronous=NORMAL: a
 *   process crash loses nothing committed; a power loss may lose the newest batches, whose ids
 *   are then above lastId, which SSE answers with `reset`, never silence). Entries not newer
 *   than the newest are skipped (a projector replaying after a crash republishes the same
 *   ids); the oldest are dropped in the same transaction, and the newest dropped id is kept
 *   as the floor: readAfter an id below it is `tooOld`. Dropping is amortized: it runs once a
 *   tenth of `capacity` was added since the last time (finding the cut walks `capacity` keys,
 *   which on every small batch cost the projector's process ~15% of its CPU), so the file holds
 *   between `capacity` and 1.1 × `capacity` entries — at least the newest `capacity`, like Redis's
 *   approximate trimming.
 * - A new file starts after `startAfter` (adapters.ts: the position up to which the projector
 *   had already published), so ids handed out before the file existed are `tooOld`, not "ahead".
 *   A file whose newest entry lies beyond the log's head (`logHead`) belongs to another log
 *   (events.db was reset, this file kept): it starts over the same way, or the new log's
 *   entries, their ids not above the old ones, would all be skipped as republished.
 * - subscribe, two modes. Local (default): listeners get what this instance publishes, a
 *   batch's entries once it has committed. Cross-process (`crossProcess: true`): another
 *   process publishes into the file (`npm start`'s child running the log consumers,
 *   embedded-workers.ts), so listeners get every entry the file receives, whoever published
 *   it: `catchUp()` (called on the child's "published" note over IPC, and after this
 *   instance's own publishes) reads what follows the last delivered id, in id order, in one
 *   read transaction, and delivers it. An entry dropped (capacity) before it was delivered is
 *   a gap: `onGap` is told (default: an error log), as RedisChangeFeed does.
 *
 * Ids are stored as a fixed-width text key (19 + 9 digits), so text order is id order, also
 * beyond SQLite's 64-bit integers.
 */
import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { type ChangeEntry, type ChangeFeed, type FeedRead, compareChangeIds, parseChangeId } from '../../application/ports/change-feed.js';

export interface SqliteChangeFeedOptions {
  /** Entries kept; default 10,000. */
  capacity?: number;
  /** Where a new file starts (ids at or below it are tooOld); default `0-0`. Ignored for an existing file. */
  startAfter?: string;
  /** The log's head position (null: empty log): a file with entries beyond it is emptied and starts after `startAfter`. */
  logHead?: bigint | null;
  /** Listeners follow the file (another process publishes), fed by `catchUp()`; default false: they get this instance's publishes. */
  crossProcess?: boolean;
  /** Cross-process mode: entries after `lastDeliveredId` were dropped before they could be delivered. Default: an error log. */
  onGap?: (lastDeliveredId: string) => void;
}

/** Entries one catch-up read takes at a time (it reads until nothing follows). */
const CATCH_UP_PAGE = 1000;

export const DEFAULT_CHANGE_FEED_CAPACITY = 10_000;

export class SqliteChangeFeed implements ChangeFeed {
  private readonly db: Database.Database;
  private readonly emitter = new EventEmitter();
  private readonly capacity: number;
  private readonly stmt: {
    newest: Database.Statement<[], { key: string }>;
    floor: Database.Statement<[], { value: string }>;
    setFloor: Database.Statement<[string]>;
    insert: Database.Statement<[string, string]>;
    nthNewest: Database.Statement<[number], { key: string }>;
    dropUpTo: Database.Statement<[string]>;
    after: Database.Statement<[string, number], { entry: string }>;
  };
  private readonly publishBatch: (entries: ChangeEntry[]) => ChangeEntry[];
  /** Entries this instance added since it last dropped the oldest (starts "due": another instance may have added some). */
  private untrimmed: number;
  private readonly trimEvery: number;
  private readonly crossProcess: boolean;
  private readonly onGap: (lastDeliveredId: string) => void;
  /** Cross-process mode: the newest id handed to listeners (the newest in the file when opened). */
  private delivered = '0-0';
  /** What follows `delivered` in the file; `gapAfter`: the old `delivered`, when entries after it were dropped (it then moves to the floor). */
  /** readAfter in one read transaction: another process's publish cannot drop entries between the floor check and the read. */
  private readonly readPage: (afterId: string, limit: number) => FeedRead;
  private readonly readNew: () => { gapAfter: string | null; entries: ChangeEntry[] };

  constructor(file: string, options: SqliteChangeFeedOptions = {}) {
    this.capacity = options.capacity ?? DEFAULT_CHANGE_FEED_CAPACITY;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new Error(`SqliteChangeFeed capacity must be a positive integer (got ${this.capacity})`);
    const startAfter = options.startAfter ?? '0-0';
    if (parseChangeId(startAfter) === null) throw new Error(`SqliteChangeFeed startAfter must be a change id (got "${startAfter}")`);
    this.trimEvery = Math.ceil(this.capacity / 10);
    this.untrimmed = this.trimEvery;
    this.emitter.setMaxListeners(0);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    // A rowid table with the key indexed: entries (a conversation snapshot, 1–2 KB) are too big
    // for a WITHOUT ROWID b-tree, where inserting a batch cost 2.5× as much (files from before
    // are moved over once: `change_feed`).
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS change_feed_entries (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, entry TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS change_feed_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    this.db.transaction(() => {
      if (!this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'change_feed'`).get()) return;
      this.db.exec('INSERT INTO change_feed_entries (key, entry) SELECT key, entry FROM change_feed ORDER BY key; DROP TABLE change_feed;');
    }).immediate();
    this.db.prepare(`INSERT OR IGNORE INTO change_feed_meta (name, value) VALUES ('floor', ?)`).run(startAfter);
    if (options.logHead !== undefined) this.startOverIfAhead(options.logHead ?? 0n, startAfter);
    this.stmt = {
      newest: this.db.prepare('SELECT key FROM change_feed_entries ORDER BY key DESC LIMIT 1'),
      floor: this.db.prepare(`SELECT value FROM change_feed_meta WHERE name = 'floor'`),
      setFloor: this.db.prepare(`UPDATE change_feed_meta SET value = ? WHERE name = 'floor'`),
      insert: this.db.prepare('INSERT INTO change_feed_entries (key, entry) VALUES (?, ?)'),
      nthNewest: this.db.prepare('SELECT key FROM change_feed_entries ORDER BY key DESC LIMIT 1 OFFSET ?'),
      dropUpTo: this.db.prepare('DELETE FROM change_feed_entries WHERE key <= ?'),
      after: this.db.prepare('SELECT entry FROM change_feed_entries WHERE key > ? ORDER BY key LIMIT ?'),
    };
    // BEGIN IMMEDIATE: the newest id is read and extended under the write lock.
    this.publishBatch = this.db.transaction((entries: ChangeEntry[]) => {
      let newest = this.newestId();
      const added: ChangeEntry[] = [];
      for (const entry of entries) {
        if (parseChangeId(entry.id) === null || compareChangeIds(entry.id, newest) <= 0) continue;
        this.stmt.insert.run(keyOf(entry.id), JSON.stringify(entry));
        newest = entry.id;
        added.push(entry);
      }
      if (added.length === 0) return added;
      this.untrimmed += added.length;
      if (this.untrimmed < this.trimEvery) return added;
      this.untrimmed = 0;
      const oldestDropped = this.stmt.nthNewest.get(this.capacity);
      if (oldestDropped) {
        this.stmt.dropUpTo.run(oldestDropped.key);
        this.stmt.setFloor.run(idOf(oldestDropped.key));
      }
      return added;
    }).immediate;
    this.readPage = this.db.transaction((afterId: string, limit: number): FeedRead => {
      if (compareChangeIds(afterId, this.floorId()) < 0) return { entries: [], tooOld: true };
      const rows = this.stmt.after.all(keyOf(afterId), limit);
      return { entries: rows.map((row) => JSON.parse(row.entry) as ChangeEntry), tooOld: false };
    });
    this.crossProcess = options.crossProcess ?? false;
    this.onGap = options.onGap ?? ((id) => new Logger('SqliteChangeFeed').error(`entries after ${id} were dropped before they reached live subscribers`));
    this.delivered = this.newestId();
    // One read transaction: the floor and the entries after `delivered` from the same snapshot.
    this.readNew = this.db.transaction(() => {
      const floor = this.floorId();
      const gapAfter = compareChangeIds(this.delivered, floor) < 0 ? this.delivered : null;
      if (gapAfter !== null) this.delivered = floor;
      const rows = this.stmt.after.all(keyOf(this.delivered), CATCH_UP_PAGE);
      return { gapAfter, entries: rows.map((row) => JSON.parse(row.entry) as ChangeEntry) };
    });
  }

  async publish(entries: ChangeEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const added = this.publishBatch(entries);
    if (this.crossProcess) this.catchUp();
    else for (const entry of added) this.emitter.emit('entry', entry);
  }

  /** Cross-process mode: delivers to the listeners, in order, every entry the file holds after the last delivered one. */
  catchUp(): void {
    if (!this.crossProcess || !this.db.open) return;
    if (this.emitter.listenerCount('entry') === 0) {
      this.delivered = this.newestId(); // nobody to deliver to, nothing missed
      return;
    }
    for (;;) {
      const { gapAfter, entries } = this.readNew();
      if (gapAfter !== null) this.onGap(gapAfter);
      for (const entry of entries) {
        this.delivered = entry.id;
        this.emitter.emit('entry', entry);
      }
      if (entries.length < CATCH_UP_PAGE) return;
    }
  }

  async readAfter(afterId: string, limit: number): Promise<FeedRead> {
    return this.readPage(afterId, limit);
  }

  async lastId(): Promise<string> {
    return this.newestId();
  }

  subscribe(listener: (entry: ChangeEntry) => void): () => void {
    this.emitter.on('entry', listener);
    return () => this.emitter.off('entry', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    if (this.db.open) this.db.close();
  }

  private startOverIfAhead(logHead: bigint, startAfter: string): void {
    const newest = this.db.prepare('SELECT key FROM change_feed_entries ORDER BY key DESC LIMIT 1').get() as { key: string } | undefined;
    if (!newest || parseChangeId(idOf(newest.key))![0] <= logHead) return;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM change_feed_entries').run();
      this.db.prepare(`UPDATE change_feed_meta SET value = ? WHERE name = 'floor'`).run(startAfter);
    })();
  }

  private floorId(): string {
    return this.stmt.floor.get()?.value ?? '0-0';
  }

  /** The newest entry's id, or the floor when the feed holds none (never below an id handed out). */
  private newestId(): string {
    const row = this.stmt.newest.get();
    return row ? idOf(row.key) : this.floorId();
  }
}

/** `42-3` → `0000000000000000042-000000003`: text order is id order. A malformed id sorts as 0-0. */
function keyOf(id: string): string {
  const [position, n] = parseChangeId(id) ?? [0n, 0n];
  return `${position.toString().padStart(19, '0')}-${n.toString().padStart(9, '0')}`;
}

function idOf(key: string): string {
  const [position, n] = key.split('-') as [string, string];
  return `${BigInt(position)}-${BigInt(n)}`;
}
