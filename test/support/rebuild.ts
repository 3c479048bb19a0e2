/** Replays the whole log into fresh read models and returns both sides, collection by collection. */
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import type { EventStore } from '../../src/application/ports/event-store.js';
import type { Doc, ReadModelStore } from '../../src/application/ports/read-models.js';
import { physicalCollection } from '../../src/application/projections/projection.js';
import { PROJECTIONS } from '../../src/application/projections/projections.service.js';
import { ProjectionRegistry } from '../../src/application/projections/projection-registry.js';
import { Projector } from '../../src/application/processing/projector.js';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

type Dump = Record<string, Doc[]>;

/** The embedded store's files: events.db and read-models.db in `dataDir`. */
export async function compareWithRebuild(dataDir: string): Promise<{ live: Dump; rebuilt: Dump }> {
  const events = new SqliteEventStore(join(dataDir, 'events.db'));
  const live = new SqliteReadModelStore(join(dataDir, 'read-models.db'));
  try {
    return await compareStoresWithRebuild(events, live);
  } finally {
    await events.close();
    await live.close();
  }
}

/**
 * Any event store and read-model store (e.g. MongoDB read models): rebuilt into a fresh SQLite
 * file, each projection alone. Both sides are keyed by logical collection name: the live side
 * is read at each projection's live version (the registry's), which a rebuild may have moved.
 */
export async function compareStoresWithRebuild(events: EventStore, live: ReadModelStore): Promise<{ live: Dump; rebuilt: Dump }> {
  const tmp = tempDir('lct-rebuild-');
  const fresh = new SqliteReadModelStore(join(tmp.dir, 'rebuilt.db'));
  try {
    for (const projection of PROJECTIONS) {
      const projector = new Projector([projection], fresh, null);
      await projector.prepare();
      let after: bigint | null = null;
      for (;;) {
        const batch = await events.readAll(after, 500);
        if (batch.length === 0) break;
        after = batch[batch.length - 1]!.position;
        await fresh.commit(projector.checkpoint, await projector.handle(batch), after, projector.checkpointsAt(after));
        projector.committed(after);
      }
    }
    const dump = async (store: ReadModelStore, versions: Map<string, number>) => {
      const out: Dump = {};
      for (const p of PROJECTIONS) {
        for (const c of p.collections) {
          out[c] = await store.find<Doc>(physicalCollection(c, versions.get(p.name) ?? p.version), {}, { sort: { _id: 1 } });
        }
      }
      return out;
    };
    const liveVersions = (await new ProjectionRegistry(live, PROJECTIONS).read()).versions;
    return { live: await dump(live, liveVersions), rebuilt: await dump(fresh, new Map()) };
  } finally {
    await fresh.close();
    tmp.cleanup();
  }
}
