/**
 * Chooses and connects the adapters behind each port from the configuration: the embedded
 * default (SQLite files in DATA_DIR, in-process change feed, built-in AVA) or the production
 * servers. Connecting happens before Nest starts, so a bad URL fails fast, naming its variable.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AiResponder } from '../application/ports/ai-responder.js';
import type { ChangeFeed } from '../application/ports/change-feed.js';
import type { EventStore } from '../application/ports/event-store.js';
import type { ReadModelStore } from '../application/ports/read-models.js';
import type { Config } from '../config.js';
import { BuiltinAiResponder } from './ai/builtin-responder.js';
import { HttpAiResponder } from './ai/http-responder.js';
import { InProcessChangeFeed } from './memory/in-process-change-feed.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from './sqlite/sqlite-read-model-store.js';

export interface Adapters {
  eventStore: EventStore;
  readModels: ReadModelStore;
  changeFeed: ChangeFeed;
  aiResponder: AiResponder;
  describe: string;
  close(): Promise<void>;
}

export async function connectAdapters(config: Config): Promise<Adapters> {
  mkdirSync(config.dataDir, { recursive: true });
  const eventStore: EventStore = new SqliteEventStore(join(config.dataDir, 'events.db'));
  const readModels: ReadModelStore = new SqliteReadModelStore(join(config.dataDir, 'read-models.db'));
  // The in-process feed starts where the read models are: older Last-Event-IDs get a reset.
  const head = await eventStore.headPosition();
  const changeFeed: ChangeFeed = new InProcessChangeFeed(10_000, `${head ?? 0n}-999999999`);
  const aiResponder: AiResponder = config.aiResponderUrl ? new HttpAiResponder(config.aiResponderUrl) : new BuiltinAiResponder();
  return {
    eventStore,
    readModels,
    changeFeed,
    aiResponder,
    describe: `embedded SQLite in ${config.dataDir}`,
    async close() {
      await changeFeed.close();
      await eventStore.close();
      await readModels.close();
    },
  };
}
