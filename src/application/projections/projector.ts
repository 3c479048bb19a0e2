/**
 * Runs a group of projections as one sequential consumer of the log from one checkpoint.
 * Per batch it computes document writes and change-feed entries, publishes the entries
 * (idempotent by id), then commits documents and checkpoint. A crash anywhere only causes
 * redelivery.
 *
 * One consumer for the group, not one per projection: change-feed ids are
 * `${position}-${n}` and must only grow, so everything that publishes has to number its
 * entries in one pass over the log.
 */
import { Logger } from '@nestjs/common';
import type { ChangeEntry, ChangeFeed } from '../ports/change-feed.js';
import type { EventStore, Position, StoredEvent } from '../ports/event-store.js';
import type { Doc, DocWrite, ReadModelStore } from '../ports/read-models.js';
import { type Projection, type ProjectionContext, checkpointName, physicalCollection } from './projection.js';

const SEP = '\u0000';

export class Projector {
  private readonly logger: Logger;
  /** Checkpoint key: every member's name and version, so changing any member rebuilds the group. */
  readonly name: string;
  private abort = new AbortController();
  private running: Promise<void> | null = null;
  private lastApplied: Position | null = null;

  constructor(
    readonly projections: readonly Projection[],
    private readonly events: EventStore,
    private readonly store: ReadModelStore,
    private readonly feed: ChangeFeed | null,
  ) {
    this.name = projections.map(checkpointName).join('+');
    this.logger = new Logger(`Projector:${this.name}`);
  }

  async start(): Promise<void> {
    await this.store.ensureIndexes(
      this.projections.flatMap((p) => p.indexes.map((i) => ({ ...i, collection: physicalCollection(i.collection, p.version) }))),
    );
    this.lastApplied = await this.store.checkpoint(this.name);
    this.abort = new AbortController();
    this.running = this.events.subscribeToAll(this.lastApplied, (batch) => this.applyBatch(batch), this.abort.signal);
    this.logger.log(`started after position ${this.lastApplied ?? 'start'}`);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.running = null;
  }

  /** Last position this process applied (the stored checkpoint may be read by other processes). */
  get position(): Position | null {
    return this.lastApplied;
  }

  async applyBatch(batch: StoredEvent[]): Promise<void> {
    const pending = new Map<string, Doc>();
    const entries: ChangeEntry[] = [];
    for (const event of batch) {
      let n = 0;
      const publish = (entry: Omit<ChangeEntry, 'id'>) => entries.push({ ...entry, id: `${event.position}-${n++}` });
      for (const projection of this.projections) {
        if (projection.handles.has(event.type)) await projection.apply(event, this.context(projection, event, pending, publish));
      }
    }
    const last = batch[batch.length - 1]!.position;
    // Stopped meanwhile (e.g. the lease is being lost): write nothing more; the next holder
    // gets this batch again from the checkpoint.
    if (this.abort.signal.aborted) throw new Error('projector stopped');
    if (entries.length > 0 && this.feed) await this.feed.publish(entries);
    const writes: DocWrite[] = [...pending].map(([k, doc]) => ({ collection: k.split(SEP)[0]!, doc }));
    await this.store.commit(this.name, writes, last);
    this.lastApplied = last;
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
