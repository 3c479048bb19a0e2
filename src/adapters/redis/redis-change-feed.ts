/**
 * The change feed shared by every API instance: a Redis Stream (default key `lct:changes`)
 * whose entry ids are the change ids, so they double as SSE ids.
 *
 * - publish: one Lua call per batch (one round-trip), `XADD key MAXLEN ~ capacity <id> entry
 *   <json>` per entry; an id not greater than the stream's top item is skipped, so a projector
 *   that republishes after a crash is harmless. The stream keeps at least `capacity` entries
 *   (approximate trimming removes whole stream nodes, so usually somewhat more).
 * - readAfter: one read-only Lua call: `XRANGE key (afterId + COUNT limit` plus the stream's
 *   trim state. Redis 7.0's XINFO `max-deleted-entry-id` is not advanced by MAXLEN trimming
 *   (only by XDEL), so it cannot tell what was trimmed. Instead: the stream was trimmed when
 *   `entries-added` > `length` (this adapter never XDELs), and every trimmed entry is older
 *   than the first retained one. So `tooOld` = trimmed && afterId < first retained id. That
 *   is conservative at exactly one id: the last trimmed entry's id is also answered `tooOld`
 *   although nothing after it was lost (the client refetches; nothing is ever skipped).
 * - subscribe: one dedicated connection per instance runs `XREAD BLOCK` from the last
 *   delivered id and fans out in process. ioredis re-sends the in-flight XREAD (which carries
 *   that id) after a reconnect, so entries published while disconnected are delivered, in
 *   order, once the connection is back. If the stream was trimmed past that id meanwhile the
 *   gap cannot be filled: `onGap` is called (default: an error log) so the caller can make its
 *   clients resync (SSE: end the streams; clients come back with Last-Event-ID and get tooOld).
 *
 * A Redis without persistence loses the stream when it restarts; subscribers then simply
 * continue with ids greater than their last one, and older Last-Event-IDs are not reported as
 * tooOld (an id above the new lastId is "ahead", which SSE answers with a reset). Production
 * Redis should persist (AOF) if that matters.
 */
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { connectRedis, hangUp } from './redis-connection.js';
import {
  type ChangeEntry,
  type ChangeFeed,
  type ChangeType,
  type FeedRead,
  compareChangeIds,
  parseChangeId,
} from '../../application/ports/change-feed.js';

export interface RedisChangeFeedOptions {
  /** Stream key; default `lct:changes`. */
  key?: string;
  /** Entries kept at least (approximate MAXLEN); default 10 000. */
  capacity?: number;
  /** Fail `connect` after this long; default 5 000 ms. */
  connectTimeoutMs?: number;
  /** CLIENT SETNAME of the two connections (`<name>` and `<name>:sub`); default `lct-change-feed`. */
  connectionName?: string;
  /** How long one XREAD blocks before it is re-issued; default 5 000 ms. */
  blockMs?: number;
  /**
   * Called when the subscriber reconnected and entries after its last delivered id had
   * already been trimmed, i.e. listeners missed entries. Default: logs an error.
   */
  onGap?: (lastDeliveredId: string) => void;
}

type StreamEntry = [id: string, fields: string[]];
/** [entries, exists (0|1), length, entries-added, first id ('' if none), last-generated-id] */
type ReadReply = [StreamEntry[], number, number, number, string, string];

interface FeedScripts {
  lctFeedPublish(key: string, capacity: number, ...idsAndJson: string[]): Promise<number>;
  lctFeedRead(key: string, afterId: string, count: number): Promise<ReadReply>;
}

const FIELD = 'entry';

// KEYS[1] stream; ARGV[1] capacity; ARGV[2..] id, json, id, json, ...  Returns how many were added.
const PUBLISH_LUA = `
local added = 0
for i = 2, #ARGV, 2 do
  local r = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], ARGV[i], '${FIELD}', ARGV[i + 1])
  if type(r) == 'table' and r.err then
    if not (string.find(r.err, 'equal or smaller', 1, true) or string.find(r.err, 'greater than 0-0', 1, true)) then
      return redis.error_reply(r.err)
    end
  else
    added = added + 1
  end
end
return added
`;

// KEYS[1] stream; ARGV[1] exclusive start id; ARGV[2] count (0: none).
const READ_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {{}, 0, 0, 0, '', '0-0'} end
local range = {}
if tonumber(ARGV[2]) > 0 then
  range = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local f = {}
for i = 1, #info, 2 do f[info[i]] = info[i + 1] end
local first = ''
if type(f['first-entry']) == 'table' then first = f['first-entry'][1] end
return {range, 1, f['length'], f['entries-added'], first, f['last-generated-id']}
`;

const DEFAULT_KEY = 'lct:changes';
const DEFAULT_CAPACITY = 10_000;

export class RedisChangeFeed implements ChangeFeed {
  private readonly logger = new Logger('RedisChangeFeed');
  private readonly listeners = new Set<(entry: ChangeEntry) => void>();
  private readonly key: string;
  private readonly capacity: number;
  private readonly blockMs: number;
  private readonly onGap: (lastDeliveredId: string) => void;
  private blocking: Redis | null = null;
  private loop: Promise<void> | null = null;
  /** Last id handed to listeners (or the newest id when the loop started). */
  private cursor: string | null = null;
  private reconnected = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly stopped: Promise<void>;
  private stop!: () => void;

  private constructor(
    private readonly client: Redis,
    private readonly scripts: FeedScripts,
    options: RedisChangeFeedOptions,
  ) {
    this.key = options.key ?? DEFAULT_KEY;
    this.capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.blockMs = options.blockMs ?? 5000;
    this.onGap =
      options.onGap ??
      ((id) => this.logger.error(`entries after ${id} were trimmed from ${this.key} while disconnected; live subscribers missed them`));
    this.stopped = new Promise((resolve) => (this.stop = resolve));
  }

  /**
   * Connects (and checks the connection) or fails within `connectTimeoutMs` with an Error that
   * names REDIS_URL. Later connection losses are retried in the background.
   */
  static async connect(url: string, options: RedisChangeFeedOptions = {}): Promise<RedisChangeFeed> {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`RedisChangeFeed capacity must be a positive integer (got ${capacity})`);
    const client = await connectRedis(url, {
      connectionName: options.connectionName ?? 'lct-change-feed',
      connectTimeoutMs: options.connectTimeoutMs,
      scripts: {
        lctFeedPublish: { lua: PUBLISH_LUA, numberOfKeys: 1 },
        lctFeedRead: { lua: READ_LUA, numberOfKeys: 1, readOnly: true },
      },
    });
    return new RedisChangeFeed(client, client as unknown as FeedScripts, { ...options, capacity });
  }

  async publish(entries: ChangeEntry[]): Promise<void> {
    if (this.closed) throw new Error('RedisChangeFeed is closed');
    if (entries.length === 0) return;
    const args: string[] = [];
    for (const entry of entries) {
      const id = normalizeId(entry.id);
      if (id === null) throw new Error(`invalid change id "${entry.id}" (expected <position>-<n>)`);
      args.push(id, encode(entry));
    }
    await this.scripts.lctFeedPublish(this.key, this.capacity, ...args);
  }

  async readAfter(afterId: string, limit: number): Promise<FeedRead> {
    const from = normalizeId(afterId) ?? '0-0';
    const count = Math.max(0, Math.floor(limit));
    const [range, exists, length, added, first] = await this.scripts.lctFeedRead(this.key, from, count);
    const trimmed = exists === 1 && Number(added) > Number(length);
    if (trimmed && (first === '' || compareChangeIds(from, first) < 0)) return { entries: [], tooOld: true };
    return { entries: range.map(decode), tooOld: false };
  }

  async lastId(): Promise<string> {
    const newest = (await this.client.xrevrange(this.key, '+', '-', 'COUNT', 1)) as StreamEntry[];
    return newest[0]?.[0] ?? '0-0';
  }

  subscribe(listener: (entry: ChangeEntry) => void): () => void {
    if (this.closed) throw new Error('RedisChangeFeed is closed');
    this.listeners.add(listener);
    if (!this.loop) {
      // Ask for the newest id now, on the command connection: it is answered before any query
      // the caller issues next (e.g. its catch-up readAfter), so nothing falls in between.
      const start = this.lastId();
      start.catch(() => {});
      this.loop = this.run(start);
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** PING on the command connection (readiness probe). */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stop();
    if (this.blocking) hangUp(this.blocking);
    await this.loop;
    if (this.client.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.client.quit().catch(() => {}),
        new Promise((resolve) => (timer = setTimeout(resolve, 1000))),
      ]);
      clearTimeout(timer);
    }
    hangUp(this.client);
  }

  private async run(start: Promise<string>): Promise<void> {
    let pendingStart: Promise<string> | null = start;
    while (!this.closed && this.cursor === null) {
      try {
        this.cursor = (await this.untilStopped(pendingStart ?? this.lastId())) ?? null;
      } catch (err) {
        this.logger.warn(`cannot read the newest id of ${this.key}, retrying: ${(err as Error).message}`);
        await this.sleep(500);
      }
      pendingStart = null;
    }
    if (this.closed) return;
    const blocking = this.client.duplicate({
      connectionName: `${this.client.options.connectionName ?? 'lct-change-feed'}:sub`,
      // The blocked XREAD waits across reconnects; ioredis re-sends it (with our cursor) once ready.
      maxRetriesPerRequest: null,
      autoResendUnfulfilledCommands: true,
      lazyConnect: true,
      scripts: undefined,
    });
    this.blocking = blocking;
    let readyCount = 0;
    blocking.on('ready', () => {
      if (++readyCount > 1) this.reconnected = true;
    });
    blocking.on('error', () => {}); // reconnection is automatic; errors surface as rejected reads
    while (!this.closed) {
      const from = this.cursor!;
      try {
        const read = blocking.xread('COUNT', 1000, 'BLOCK', this.blockMs, 'STREAMS', this.key, from) as Promise<
          [string, StreamEntry[]][] | null
        >;
        read.catch(() => {});
        const reply = await this.untilStopped(read);
        if (this.closed) return;
        if (this.reconnected) {
          this.reconnected = false;
          await this.checkGap(from);
        }
        for (const [, items] of reply ?? []) this.deliver(items);
      } catch (err) {
        if (this.closed) return;
        this.logger.warn(`XREAD on ${this.key} failed, retrying: ${(err as Error).message}`);
        await this.sleep(500);
      }
    }
  }

  private deliver(items: StreamEntry[]): void {
    for (const item of items) {
      if (this.closed) return;
      if (compareChangeIds(item[0], this.cursor!) <= 0) continue;
      this.cursor = item[0];
      let entry: ChangeEntry;
      try {
        entry = decode(item);
      } catch (err) {
        this.logger.error(`skipping unreadable entry ${item[0]} of ${this.key}: ${(err as Error).message}`);
        continue;
      }
      for (const listener of [...this.listeners]) {
        try {
          listener(entry);
        } catch (err) {
          this.logger.error(`change listener failed: ${(err as Error).message}`);
        }
      }
    }
  }

  private async checkGap(from: string): Promise<void> {
    try {
      const { tooOld } = await this.readAfter(from, 0);
      if (tooOld) this.onGap(from);
    } catch (err) {
      this.logger.warn(`cannot check ${this.key} for a gap after reconnecting: ${(err as Error).message}`);
    }
  }

  /** Resolves with the promise's value, or with undefined once the feed is closed. */
  private untilStopped<T>(promise: Promise<T>): Promise<T | undefined> {
    return Promise.race([promise, this.stopped.then(() => undefined)]);
  }

  private async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await this.untilStopped(new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))));
    clearTimeout(timer);
  }
}

/** Disconnects (also stops reconnecting) unless already ended. */
function normalizeId(id: string): string | null {
  const parsed = parseChangeId(id);
  return parsed ? `${parsed[0]}-${parsed[1]}` : null;
}

function encode(entry: ChangeEntry): string {
  const { type, propertyId, conversationId, employeeId, data } = entry;
  return JSON.stringify({ type, propertyId, conversationId, employeeId, data });
}

function decode([id, fields]: StreamEntry): ChangeEntry {
  const i = fields.indexOf(FIELD);
  const raw = i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
  if (raw === undefined) throw new Error(`change feed entry ${id} has no "${FIELD}" field`);
  const body = JSON.parse(raw) as {
    type: ChangeType;
    propertyId: string;
    conversationId: string;
    employeeId?: string;
    data: Record<string, unknown>;
  };
  const entry: ChangeEntry = { id, type: body.type, propertyId: body.propertyId, conversationId: body.conversationId, data: body.data };
  if (body.employeeId !== undefined) entry.employeeId = body.employeeId;
  return entry;
}

