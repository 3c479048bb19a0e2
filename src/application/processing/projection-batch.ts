/**
 * Applying a batch of the log to projections, shared by the live group (projector.ts) and a
 * rebuild (projection-rebuild.ts): document writes under the `_pos` guard, reads that see the
 * batch's own writes, and change-feed entries numbered `${position}-${n}` over the members in
 * their fixed order.
 *
 * Where every read is a server round-trip (the store's `prefetchesBatches`: MongoDB), reads
 * cost per batch, not per event: before applying a batch it is run "dry" against what
 * the cache knows, every document it misses is noted, and the misses are fetched with one
 * `getMany` per collection (again, while a dry pass finds new misses: a read that depends on
 * another document). Projections stay plain functions of (event, documents) and declare
 * nothing up front: a prefetch declaration per event type would repeat each projection's read
 * logic and silently go stale; the dry pass cannot (a miss it does not foresee is read on its
 * own in the real pass, correct, only slower). Projections are deterministic, so a dry pass
 * touches nothing: its writes and entries are thrown away.
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

  /** Whether batches are read ahead (the store's `prefetchesBatches`). */
  get prefetches(): boolean {
    return this.store.prefetchesBatches;
  }

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

  /** Reads the documents of `misses` (collection -> ids) the cache cannot answer: one `getMany` per collection. */
  async load(misses: ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
    await Promise.all(
      [...misses].map(async ([collection, ids]) => {
        const wanted = [...ids].filter((id) => this.peek(collection, id) === undefined);
        if (wanted.length === 0) return;
        const found = new Map((await this.store.getMany(collection, wanted)).map((d) => [d._id, d]));
        for (const id of wanted) this.remember(collection, id, found.get(id) ?? null);
      }),
    );
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
  if (cache.prefetches) await prefetch(batch, members, cache, pending);
  return { entries: await applyBatch(batch, members, { cache, pending, publishAfter }), writes: pendingWrites(pending) };
}

/** Dry passes bound: ids that depend on documents read in the pass before (conversation -> its property's mode) take one more. */
const MAX_DRY_PASSES = 3;

/** Loads into `cache` every document the batch will read, in one `getMany` per collection and pass. */
async function prefetch(batch: readonly StoredEvent[], members: readonly Member[], cache: DocCache, pending: PendingDocs): Promise<void> {
  for (let pass = 0; pass < MAX_DRY_PASSES; pass++) {
    const misses = new Map<string, Set<string>>();
    await applyBatch(batch, members, { cache, pending: new Map(), readThrough: pending, publishAfter: 'never', misses });
    if (misses.size === 0) return;
    await cache.load(misses);
  }
}

interface BatchTarget {
  cache: DocCache;
  /** Where this pass writes (and reads first). */
  pending: PendingDocs;
  /** Read after `pending`, never written (a dry pass over a rebuild's uncommitted batches). */
  readThrough?: PendingDocs;
  publishAfter: Position | null | 'never';
  /** A dry pass: a read the cache cannot answer is noted here and answered "absent"; errors are ignored. */
  misses?: Map<string, Set<string>>;
}

async function applyBatch(batch: readonly StoredEvent[], members: readonly Member[], target: BatchTarget): Promise<ChangeEntry[]> {
  const { publishAfter } = target;
  const entries: ChangeEntry[] = [];
  const current = { event: batch[0]!, n: 0, publishes: false };
  const publish: ProjectionContext['publish'] = (entry) => {
    if (current.publishes) entries.push({ ...entry, id: `${current.event.position}-${current.n++}` });
  };
  const contexts = members.map((m) => context(m.version, current, target, publish));
  for (const event of batch) {
    current.event = event;
    current.n = 0;
    current.publishes = publishAfter !== 'never' && (publishAfter === null || event.position > publishAfter);
    for (let i = 0; i < members.length; i++) {
      const member = members[i]!;
      if (!member.projection.handles.has(event.type)) continue;
      if (member.after !== null && event.position <= member.after) continue;
      if (!target.misses) {
        await member.projection.apply(event, contexts[i]!);
        continue;
      }
      // A dry pass sees misses as absent, which a projection may find inconsistent: the real pass decides.
      await member.projection.apply(event, contexts[i]!).catch(() => undefined);
    }
  }
  return entries;
}

/** Documents written by batches not committed yet, by collection and id; `absent`: none was stored before. */
export type PendingDocs = Map<string, Map<string, { doc: Doc; absent: boolean }>>;

export function pendingWrites(pending: PendingDocs): DocWrite[] {
  const writes: DocWrite[] = [];
  for (const [collection, docs] of pending) for (const { doc, absent } of docs.values()) writes.push({ collection, doc, absent });
  return writes;
}

/** Reads see this batch's own writes; `update` applies the `_pos` guard. One per member and batch. */
function context(
  version: number,
  current: { event: StoredEvent },
  { cache, pending, readThrough, misses }: BatchTarget,
  publish: ProjectionContext['publish'],
): ProjectionContext {
  const physical = new Map<string, string>();
  const physicalOf = (collection: string) => {
    let name = physical.get(collection);
    if (name === undefined) physical.set(collection, (name = physicalCollection(collection, version)));
    return name;
  };
  const lookup = <T extends Doc>(name: string, id: string): T | null | Promise<T | null> => {
    const written = pending.get(name)?.get(id) ?? readThrough?.get(name)?.get(id);
    if (written !== undefined) return written.doc as T;
    const hit = cache.peek<T>(name, id);
    if (hit !== undefined) return hit;
    if (!misses) return cache.get<T>(name, id);
    let ids = misses.get(name);
    if (!ids) misses.set(name, (ids = new Set()));
    ids.add(id);
    return null;
  };
  /** Whether the stored state before this batch (or these uncommitted batches) had no such document. */
  const storedAbsent = (name: string, id: string) => {
    const earlier = pending.get(name)?.get(id) ?? readThrough?.get(name)?.get(id);
    return earlier ? earlier.absent : cache.peek(name, id) === null;
  };
  const apply = <T extends Doc>(name: string, id: string, current: T | null, position: Position, change: (doc: T | null) => Omit<T, '_pos'> | null) => {
    if (current && current._pos >= position) return current;
    const next = change(current);
    if (next === null) return current;
    const doc = { ...next, _id: id, _pos: position } as unknown as T;
    let docs = pending.get(name);
    if (!docs) pending.set(name, (docs = new Map()));
    docs.set(id, { doc, absent: storedAbsent(name, id) });
    return doc;
  };
  return {
    get: <T extends Doc>(collection: string, id: string) => {
      const found = lookup<T>(physicalOf(collection), id);
      return found instanceof Promise ? found : Promise.resolve(found);
    },
    update: <T extends Doc>(collection: string, id: string, change: (doc: T | null) => Omit<T, '_pos'> | null) => {
      const position = current.event.position;
      const name = physicalOf(collection);
      const found = lookup<T>(name, id);
      if (found instanceof Promise) return found.then((doc) => apply(name, id, doc, position, change));
      return Promise.resolve(apply(name, id, found, position, change));
    },
    publish,
  };
}
