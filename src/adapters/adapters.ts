/**
 * Chooses and connects the adapters behind each port from the configuration: the embedded
 * default (SQLite files in DATA_DIR, in-process change feed, built-in AVA) or the production
 * servers. Connecting happens before Nest starts, so a bad URL fails fast, naming its variable.
 */
import { join } from 'node:path';
import type { AiResponder } from '../application/ports/ai-responder.js';
import type { ChangeFeed } from '../application/ports/change-feed.js';
import type { Clock } from '../application/ports/clock.js';
import type { EventStore } from '../application/ports/event-store.js';
import type { IdempotencyStore } from '../application/ports/idempotency-store.js';
import type { LeaseStore } from '../application/ports/lease.js';
import type { PushSender } from '../application/ports/push-sender.js';
import type { ReadModelStore } from '../application/ports/read-models.js';
import type { Config } from '../config.js';
import { BuiltinAiResponder } from './ai/builtin-responder.js';
import { FileClock } from './clock/file-clock.js';
import { SystemClock } from './clock/system-clock.js';
import { HttpAiResponder } from './ai/http-responder.js';
import { InProcessIdempotencyStore } from './memory/in-process-idempotency-store.js';
import { openDataFile, prepareDataDir } from './sqlite/data-dir.js';
import { SqliteChangeFeed } from './sqlite/sqlite-change-feed.js';
import { PUBLISHED_CHECKPOINT } from '../application/processing/projector.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';
import { SqliteLeaseStore } from './sqlite/sqlite-lease-store.js';
import { SqliteReadModelStore } from './sqlite/sqlite-read-model-store.js';
import { EsdbEventStore } from './eventstoredb/esdb-event-store.js';
import { MongoLeaseStore } from './mongo/mongo-lease-store.js';
import { MongoReadModelStore } from './mongo/mongo-read-model-store.js';
import { RedisChangeFeed } from './redis/redis-change-feed.js';
import { RedisIdempotencyStore } from './redis/redis-idempotency-store.js';
import { UnavailablePushSender, WebPushSender } from './web-push/web-push-sender.js';
import { MeteredEventStore } from './observability/metered-event-store.js';
import { Metrics } from './observability/metrics.js';

/** A cheap real round-trip to one configured store, for `/health/ready`. */
export interface StoreProbe {
  name: string;
  check(): Promise<Record<string, unknown> | void>;
}

export interface Adapters {
  eventStore: EventStore;
  readModels: ReadModelStore;
  changeFeed: ChangeFeed;
  aiResponder: AiResponder;
  /** First answers of requests sent with an Idempotency-Key (shared across instances on Redis). */
  idempotency: IdempotencyStore;
  /** Who runs the single-consumer roles (projector, AVA); next to the read models. */
  leases: LeaseStore;
  /** Web Push with the configured VAPID keys, or "unavailable" without them. */
  pushSender: PushSender;
  /** What "now" is: the system clock, or (tests only, LCT_TEST_CLOCK_FILE) a file's time. */
  clock: Clock;
  /** This process's Prometheus registry and metrics. */
  metrics: Metrics;
  /** The embedded event log (null on EventStoreDB): `npm start`'s two processes tell each other of appends (embedded-workers.ts). */
  sqliteEvents: SqliteEventStore | null;
  /** One probe per configured store (event store, read models, leases; Redis when configured). */
  probes: StoreProbe[];
  describe: string;
  /** What start-up changed or could not (DATA_DIR modes tightened): main.ts logs each as a warning. */
  startupWarnings: string[];
  close(): Promise<void>;
}

export async function connectAdapters(config: Config): Promise<Adapters> {
  // DATA_DIR 0700, its files 0600 (tightened if looser); a file that cannot be used names itself and DATA_DIR (data-dir.ts).
  const startupWarnings = prepareDataDir(config.dataDir);
  const dataFile = <T>(name: string, open: (file: string) => T): T => openDataFile(join(config.dataDir, name), config.dataDir, open);
  const opened: Array<{ close(): Promise<void> }> = [];
  const metrics = new Metrics();
  try {
    // The SQLite stores remember a failed write (disk full, read-only) until one succeeds: /health/ready asks them.
    const sqliteEvents = config.eventStoreUrl ? null : dataFile('events.db', (f) => new SqliteEventStore(f));
    const eventStore: EventStore = new MeteredEventStore(sqliteEvents ?? (await EsdbEventStore.connect(config.eventStoreUrl!)), metrics);
    opened.push(eventStore);
    const sqliteReadModels = config.mongoUrl ? null : dataFile('read-models.db', (f) => new SqliteReadModelStore(f));
    const readModels: ReadModelStore = sqliteReadModels ?? (await MongoReadModelStore.connect(config.mongoUrl!));
    opened.push(readModels);
    const leases: LeaseStore = config.mongoUrl
      ? await MongoLeaseStore.connect(config.mongoUrl)
      : dataFile('read-models.db', (f) => new SqliteLeaseStore(f));
    opened.push(leases);
    const redisFeed = config.redisUrl ? await RedisChangeFeed.connect(config.redisUrl) : null;
    const changeFeed: ChangeFeed = redisFeed ?? (await embeddedChangeFeed(eventStore, readModels, dataFile, !config.roles.includes('projector')));
    opened.push(changeFeed);
    const redisIdempotency = config.redisUrl ? await RedisIdempotencyStore.connect(config.redisUrl) : null;
    const idempotency: IdempotencyStore = redisIdempotency ?? new InProcessIdempotencyStore();
    opened.push(idempotency);
    const probes: StoreProbe[] = [
      {
        name: 'eventStore',
        check: async () => {
          await sqliteEvents?.checkWritable();
          return { head: (await eventStore.headPosition())?.toString() ?? null };
        },
      },
      {
        name: 'readModels',
        check: async () => {
          await sqliteReadModels?.checkWritable();
          await readModels.checkpoint('health-probe');
        },
      },
      { name: 'leases', check: async () => void (await leases.holder('projector')) },
      ...(redisFeed ? [{ name: 'changeFeed', check: () => redisFeed.ping() }] : []),
      ...(redisIdempotency ? [{ name: 'idempotency', check: () => redisIdempotency.ping() }] : []),
    ];
    const aiResponder: AiResponder = config.aiResponderUrl ? new HttpAiResponder(config.aiResponderUrl) : new BuiltinAiResponder();
    const pushSender: PushSender = config.vapid ? new WebPushSender(config.vapid) : new UnavailablePushSender();
    const clock: Clock = config.testClockFile ? new FileClock(config.testClockFile) : new SystemClock();
    const describe = [
      config.eventStoreUrl ? 'events: EventStoreDB' : `events: SQLite in ${config.dataDir}`,
      config.mongoUrl ? 'read models: MongoDB' : 'read models: SQLite',
      config.redisUrl ? 'change feed: Redis' : 'change feed: SQLite',
      config.redisUrl ? 'idempotency keys: Redis' : 'idempotency keys: in process',
      config.vapid ? 'web push: on' : 'web push: unavailable (no VAPID keys)',
      ...(config.testClockFile ? [`clock: TEST file ${config.testClockFile}`] : []),
    ].join(', ');
    return {
      eventStore,
      sqliteEvents,
      readModels,
      changeFeed,
      aiResponder,
      idempotency,
      leases,
      pushSender,
      clock,
      metrics,
      probes,
      describe,
      startupWarnings,
      async close() {
        for (const adapter of opened.reverse()) await adapter.close();
      },
    };
  } catch (error) {
    for (const adapter of opened.reverse()) await adapter.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Without Redis, the change feed is a SQLite file in DATA_DIR (sqlite-change-feed.ts), so SSE
 * ids survive a restart. A new file starts after what the projector had already published:
 * ids handed out before it existed are then too old (reset), and nothing published from now
 * on is mistaken for a republish. So does a file left from another log (beyond its head).
 * A process without the projector role publishes nothing: the embedded one is `npm start`'s
 * API process, its projector in the child (embedded-workers.ts), so its feed follows the file
 * (cross-process mode, caught up on the child's notes).
 */
async function embeddedChangeFeed(
  eventStore: EventStore,
  readModels: ReadModelStore,
  dataFile: <T>(name: string, open: (file: string) => T) => T,
  crossProcess: boolean,
): Promise<SqliteChangeFeed> {
  const published = await readModels.checkpoint(PUBLISHED_CHECKPOINT);
  const logHead = await eventStore.headPosition();
  return dataFile(CHANGE_FEED_FILE, (file) => new SqliteChangeFeed(file, { startAfter: `${published ?? 0n}-999999999`, logHead, crossProcess }));
}

export const CHANGE_FEED_FILE = 'change-feed.db';
