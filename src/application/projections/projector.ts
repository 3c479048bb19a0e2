/**
 * Runs one projection: a sequential consumer of the log from its checkpoint. Per batch it
 * computes document writes and change-feed entries, publishes the entries (idempotent by id),
 * then commits documents and checkpoint. A crash anywhere only causes redelivery.
 */
import { Logger } from '@nestjs/common';
import type { ChangeEntry, ChangeFeed } from '../ports/change-feed.js';
import type { EventStore, Position, StoredEvent } from '../ports/event-store.js';
import type { Doc, DocWrite, ReadModelStore } from '../ports/read-models.js';
import { type Projection, type ProjectionContext, checkpointName, physicalCollection } from './projection.js';

export class Projector {
  private readonly logger: Logger;
  private abort = new AbortController();
  private running: Promise<void> | null = null;
  private lastApplied: Position | null = null;

  constructor(
    readonly projection: Projection,
    private readonly events: EventStore,
    private readonly store: ReadModelStore,
    private readonly feed: ChangeFeed | null,
  ) {
    this.logger = new Logger(`Projector:${checkpointName(projection)}`);
  }

  collection(logical: string): string {
    return physicalCollection(logical, this.projection.version);
  }

  async start(): Promise<void> {
    const { projection } = this;
    await this.store.ensureIndexes(
      projection.indexes.map((i) => ({ ...i, collection: this.collection(i.collection) })),
    );
    this.lastApplied = await this.store.checkpoint(checkpointName(projection));
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
    const key = (collection: string, id: string) => `${collection}\u0000${id}`;
    for (const event of batch) {
      if (!this.projection.handles.has(event.type)) continue;
      let n = 0;
      const ctx: ProjectionContext = {
        get: async <T extends Doc>(collection: string, id: string) => {
          const physical = this.collection(collection);
          return ((pending.get(key(physical, id)) as T | undefined) ?? (await this.store.get<T>(physical, id))) ?? null;
        },
        update: async <T extends Doc>(collection: string, id: string, change: (doc: T | null) => Omit<T, '_pos'> | null) => {
          const current = await ctx.get<T>(collection, id);
          if (current && current._pos >= event.position) return current;
          const next = change(current);
          if (next === null) return current;
          const doc = { ...next, _id: id, _pos: event.position } as unknown as T;
          pending.set(key(this.collection(collection), id), doc);
          return doc;
        },
        publish: (entry) => entries.push({ ...entry, id: `${event.position}-${n++}` }),
      };
      await this.projection.apply(event, ctx);
    }
    const last = batch[batch.length - 1]!.position;
    if (entries.length > 0 && this.feed) await this.feed.publish(entries);
    const writes: DocWrite[] = [...pending].map(([k, doc]) => ({ collection: k.split('\u0000')[0]!, doc }));
    await this.store.commit(checkpointName(this.projection), writes, last);
    this.lastApplied = last;
  }
}
