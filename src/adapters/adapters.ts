/**
 * Chooses and connects the adapters behind each port from the configuration: the embedded
 * default (SQLite files in DATA_DIR, in-process change feed, built-in AVA) or the production
 * servers. Connecting happens before Nest starts, so a bad URL fails fast, naming its variable.
 */
import { mkdirSync } from 'node:fs';
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
import { InProcessChangeFeed } from './memory/in-process-change-feed.js';
import { InProcessIdempotencyStore } from './memory/in-process-idempotency-store.js';
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
  /** One probe per configured store (event store, read models, leases; Redis when configured). */
  probes: StoreProbe[];
  describe: string;
  close(): Promise<void>;
}

export async function connectAdapters(config: Config): Promise<Adapters> {
  mkdirSync(config.dataDir, { recursive: true });
  const opened: Array<{ close(): Promise<void> }> = [];
  const metrics = new Metrics();
  try {
    const eventStore: EventStore = new MeteredEventStore(
      config.eventStoreUrl ? await EsdbEventStore.connect(config.eventStoreUrl) : new SqliteEventStore(join(config.dataDir, 'events.db')),
      metrics,
    );
    opened.push(eventStore);
    const readModels: ReadModelStore = config.mongoUrl
      ? await MongoReadModelStore.connect(config.mongoUrl)
      : new SqliteReadModelStore(join(config.dataDir, 'read-models.db'));
    opened.push(readModels);
    const leases: LeaseStore = config.mongoUrl
      ? await MongoLeaseStore.connect(config.mongoUrl)
      : new SqliteLeaseStore(join(config.dataDir, 'read-models.db'));
    opened.push(leases);
    // The in-process feed starts where the log is now: older Last-Event-IDs get a reset.
    const head = await eventStore.headPosition();
    const redisFeed = config.redisUrl ? await RedisChangeFeed.connect(config.redisUrl) : null;
    const changeFeed: ChangeFeed = redisFeed ?? new InProcessChangeFeed(10_000, `${head ?? 0n}-999999999`);
    opened.push(changeFeed);
    const redisIdempotency = config.redisUrl ? await RedisIdempotencyStore.connect(config.redisUrl) : null;
    const idempotency: IdempotencyStore = redisIdempotency ?? new InProcessIdempotencyStore();
    opened.push(idempotency);
    const probes: StoreProbe[] = [
      { name: 'eventStore', check: async () => ({ head: (await eventStore.headPosition())?.toString() ?? null }) },
      { name: 'readModels', check: async () => void (await readModels.checkpoint('health-probe')) },
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
      config.redisUrl ? 'change feed: Redis' : 'change feed: in process',
      config.redisUrl ? 'idempotency keys: Redis' : 'idempotency keys: in process',
      config.vapid ? 'web push: on' : 'web push: unavailable (no VAPID keys)',
      ...(config.testClockFile ? [`clock: TEST file ${config.testClockFile}`] : []),
    ].join(', ');
    return {
      eventStore,
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
      async close() {
        for (const adapter of opened.reverse()) await adapter.close();
      },
    };
  } catch (error) {
    for (const adapter of opened.reverse()) await adapter.close().catch(() => undefined);
    throw error;
  }
}
