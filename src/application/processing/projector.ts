/**
 * Runs a group of projections as one log processor. Per batch it computes document writes
 * and change-feed entries, publishes the entries (idempotent by id), and hands the writes to
 * the LogConsumer, which commits them with the checkpoint. A crash anywhere only causes
 * redelivery, which the `_pos` guard makes harmless.
 *
 * One processor for the group, not one per projection: change-feed ids are
 * `${position}-${n}` and must only grow, so everything that publishes has to number its
 * entries in one pass over the log.
 */
import type { ChangeEntry, ChangeFeed } from '../ports/change-feed.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc, DocWrite, ReadModelStore } from '../ports/read-models.js';
import { type Projection, type ProjectionContext, checkpointName, physicalCollection } from '../projections/projection.js';
import type { LogProcessor } from './log-consumer.js';

const SEP = '\u0000';

export class Projector implements LogProcessor {
  /** Every member's name and version, so changing any member rebuilds the group. */
  readonly checkpoint: string;
  readonly startFrom = 'start' as const;

  constructor(
    readonly projections: readonly Projection[],
    private readonly store: ReadModelStore,
    private readonly feed: ChangeFeed | null,
  ) {
    this.checkpoint = projections.map(checkpointName).join('+');
  }

  async prepare(): Promise<void> {
    await this.store.ensureIndexes(
      this.projections.flatMap((p) => p.indexes.map((i) => ({ ...i, collection: physicalCollection(i.collection, p.version) }))),
    );
  }

  async handle(batch: StoredEvent[], signal?: AbortSignal): Promise<DocWrite[]> {
    const pending = new Map<string, Doc>();
    const entries: ChangeEntry[] = [];
    for (const event of batch) {
      let n = 0;
      const publish = (entry: Omit<ChangeEntry, 'id'>) => entries.push({ ...entry, id: `${event.position}-${n++}` });
      for (const projection of this.projections) {
        if (projection.handles.has(event.type)) await projection.apply(event, this.context(projection, event, pending, publish));
      }
    }
    // Stopped meanwhile: publish nothing; the next holder gets this batch again.
    if (signal?.aborted) throw new Error('projector stopped');
    if (entries.length > 0 && this.feed) await this.feed.publish(entries);
    return [...pending].map(([k, doc]) => ({ collection: k.split(SEP)[0]!, doc }));
  }

  /** Reads see this batch's own writes; `update` applies the `_pos` guard. */
  private context(
    projection: Projection,
    event: StoredEvent,
    pending: Map<string, Doc>,
    publish: ProjectionContext['publish'],
  ): ProjectionContext {
    const physicalOf = (logical: string) => physicalCollection(logical, projection.version);
    const get = async <T extends Doc>(collection: string, id: string) => {
      const physical = physicalOf(collection);
      return ((pending.get(physical + SEP + id) as T | undefined) ?? (await this.store.get<T>(physical, id))) ?? null;
    };
    return {
      get,
      update: async <T extends Doc>(collection: string, id: string, change: (doc: T | null) => Omit<T, '_pos'> | null) => {
        const current = await get<T>(collection, id);
        if (current && current._pos >= event.position) return current;
        const next = change(current);
        if (next === null) return current;
        const doc = { ...next, _id: id, _pos: event.position } as unknown as T;
        pending.set(physicalOf(collection) + SEP + id, doc);
        return doc;
      },
      publish,
    };
  }
}
