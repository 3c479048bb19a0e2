/**
 * Applying a batch of the log to projections, shared by the live group (projector.ts) and a
 * rebuild (projection-rebuild.ts): document writes under the `_pos` guard, reads that see the
 * batch's own writes, and change-feed entries numbered `${position}-${n}` over the members in
 * their fixed order.
 */
import type { ChangeEntry } from '../ports/change-feed.js';
import type { Position, StoredEvent } from '../ports/event-store.js';
import type { Doc, DocWrite, ReadModelStore } from '../ports/read-models.js';
import { type Projection, type ProjectionContext, checkpointName, physicalCollection } from '../projections/projection.js';

/** A projection at one version (generation), and the last position applied to it. */
export interface Member {
  readonly projection: Projection;
  readonly version: number;
  after: Position | null;
}

export const memberCheckpoint = (m: Pick<Member, 'projection' | 'version'>) => checkpointName({ name: m.projection.name, version: m.version });

/**
 * Documents of the collections only this processor writes (it holds the lease, or builds a
 * new generation nobody reads yet), kept across batches so most reads never reach the store.
 * Bounded: beyond `capacity` the oldest entries go. A collection marked empty (a rebuild that
 * dropped it before starting) answers a miss as "absent" without asking the store.
 */
export class DocCache {
  private readonly docs = new Map<string, Map<string, Doc | null>>();
  private size = 0;
  private readonly known = new Map<string, Set<string>>();

  constructor(
    private readonly store: ReadModelStore,
    private readonly capacity = 200_000,
    private readonly knownCapacity = 5_000_000,
  ) {}

  markEmpty(collection: string): void {
    this.known.set(collection, new Set());
  }

  /** The document if this cache can answer without the store (null: absent), else undefined. */
  peek<T extends Doc>(collection: string, id: string): T | null | undefined {
    const cached = this.docs.get(collection)?.get(id);
    if (cached !== undefined) return cached as T | null;
    const known = this.known.get(collection);
    return known && !known.has(id) ? null : undefined;
  }

  async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    const hit = this.peek<T>(collection, id);
    if (hit !== undefined) return hit;
    const doc = await this.store.get<T>(collection, id);
    this.remember(collection, id, doc);
    return doc;
  }

  /** What a committed batch wrote. */
  committed(writes: readonly DocWrite[]): void {
    for (const { collection, doc } of writes) {
      this.remember(collection, doc._id, doc);
      const known = this.known.get(collection);
      if (!known) continue;
      known.add(doc._id);
      if (known.size > this.knownCapacity) this.known.delete(collection); // from now on a miss asks the store
    }
  }

  clear(): void {
    this.docs.clear();
    this.size = 0;
    this.known.clear();
  }

  private remember(collection: string, id: string, doc: Doc | null): void {
    let docs = this.docs.get(collection);
    if (!docs) this.docs.set(collection, (docs = new Map()));
    if (!docs.has(id)) {
      if (this.size >= this.capacity) this.evict(Math.ceil(this.capacity / 10));
      this.size++;
    }
    docs.set(id, doc);
  }

  /** Drops the oldest entries, from every collection in proportion. */
  private evict(count: number): void {
    for (const docs of this.docs.values()) {
      let n = Math.ceil((count * docs.size) / Math.max(1, this.size));
      for (const k of docs.keys()) {
        if (n-- <= 0) break;
        docs.delete(k);
        this.size--;
      }
    }
  }
}

/**
 * Applies `batch` to every member that has not applied an event yet (`after`), in member
 * order. Publishes entries only for events after `publishAfter` (`'never'`: a rebuild, or no
 * feed): what a replaying member re-derives was published when it first happened.
 */
export async function projectBatch(
  batch: readonly StoredEvent[],
  members: readonly Member[],
  cache: DocCache,
  publishAfter: Position | null | 'never',
  /** Writes of earlier batches not committed yet (a rebuild commits several batches at once): read through, added to. */
  pending: PendingDocs = new Map(),
): Promise<{ writes: DocWrite[]; entries: ChangeEntry[] }> {
  const entries: ChangeEntry[] = [];
  const current = { event: batch[0]!, n: 0, publishes: false };
  const publish: ProjectionContext['publish'] = (entry) => {
    if (current.publishes) entries.push({ ...entry, id: `${current.event.position}-${current.n++}` });
  };
  const contexts = members.map((m) => context(m.version, current, pending, cache, publish));
  for (const event of batch) {
    current.event = event;
    current.n = 0;
    current.publishes = publishAfter !== 'never' && (publishAfter === null || event.position > publishAfter);
    for (let i = 0; i < members.length; i++) {
      const member = members[i]!;
      if (!member.projection.handles.has(event.type)) continue;
      if (member.after !== null && event.position <= member.after) continue;
      await member.projection.apply(event, contexts[i]!);
    }
  }
  return { writes: pendingWrites(pending), entries };
}

/** Documents written by batches not committed yet, by collection and id. */
export type PendingDocs = Map<string, Map<string, Doc>>;

export function pendingWrites(pending: PendingDocs): DocWrite[] {
  const writes: DocWrite[] = [];
  for (const [collection, docs] of pending) for (const doc of docs.values()) writes.push({ collection, doc });
  return writes;
}

/** Reads see this batch's own writes; `update` applies the `_pos` guard. One per member and batch. */
function context(
  version: number,
  current: { event: StoredEvent },
  pending: PendingDocs,
  cache: DocCache,
  publish: ProjectionContext['publish'],
): ProjectionContext {
  const physical = new Map<string, string>();
  const physicalOf = (collection: string) => {
    let name = physical.get(collection);
    if (name === undefined) physical.set(collection, (name = physicalCollection(collection, version)));
    return name;
  };
  const lookup = <T extends Doc>(collection: string, id: string): T | null | undefined | Promise<T | null> => {
    const name = physicalOf(collection);
    const written = pending.get(name)?.get(id);
    if (written !== undefined) return written as T;
    const hit = cache.peek<T>(name, id);
    return hit !== undefined ? hit : cache.get<T>(name, id);
  };
  const apply = <T extends Doc>(collection: string, id: string, current: T | null, position: Position, change: (doc: T | null) => Omit<T, '_pos'> | null) => {
    if (current && current._pos >= position) return current;
    const next = change(current);
    if (next === null) return current;
    const doc = { ...next, _id: id, _pos: position } as unknown as T;
    const name = physicalOf(collection);
    let docs = pending.get(name);
    if (!docs) pending.set(name, (docs = new Map()));
    docs.set(id, doc);
    return doc;
  };
  return {
    get: <T extends Doc>(collection: string, id: string) => {
      const found = lookup<T>(collection, id);
      return found instanceof Promise ? found : Promise.resolve(found ?? null);
    },
    update: <T extends Doc>(collection: string, id: string, change: (doc: T | null) => Omit<T, '_pos'> | null) => {
      const position = current.event.position;
      const found = lookup<T>(collection, id);
      if (found instanceof Promise) return found.then((doc) => apply(collection, id, doc, position, change));
      return Promise.resolve(apply(collection, id, found ?? null, position, change));
    },
    publish,
  };
}
