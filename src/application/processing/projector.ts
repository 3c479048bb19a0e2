/**
 * Runs the projections as one group: one log processor, one pass over the log, because
 * everything that publishes must number its change-feed entries (`${position}-${n}`, ids only
 * grow) in one pass. Per batch it computes document writes and entries, publishes the entries
 * (idempotent by id), and hands the writes to the LogConsumer, which commits them together
 * with every checkpoint. A crash anywhere only causes redelivery, which the `_pos` guard makes
 * harmless.
 *
 * Each member keeps its own checkpoint, `name@version`, so a member resumes from its own
 * position: the group reads from the least advanced member and a member skips what it has
 * already applied. A member whose version is new (a deployment changed its code version, or a
 * projection was added) starts from the beginning alone, and publishes nothing of what it
 * replays: entries are published only for events after `projections:published`, the position
 * up to which the group has published (when the group publishes an event, every member applies
 * it, so its entries are numbered exactly as in the first pass). A rebuild builds a new
 * version in a separate consumer and hands it to the group (projection-rebuild.ts).
 *
 * Versions (generations) come from the ProjectionRegistry; without one (a fresh store being
 * rebuilt, test/support/rebuild.ts) the code's versions.
 */
import type { ChangeFeed } from '../ports/change-feed.js';
import type { Position, StoredEvent } from '../ports/event-store.js';
import type { DocWrite, ReadModelStore } from '../ports/read-models.js';
import { type Projection, checkpointName, physicalCollection } from '../projections/projection.js';
import type { ProjectionRegistry } from '../projections/projection-registry.js';
import type { LogProcessor } from './log-consumer.js';
import { DocCache, type Member, memberCheckpoint, projectBatch } from './projection-batch.js';

/** The group's own checkpoint (the LogConsumer's): the last batch it committed. */
export const GROUP_CHECKPOINT = 'projections';
/** Change-feed entries are published for events after this position only. */
export const PUBLISHED_CHECKPOINT = 'projections:published';

const maxPosition = (a: Position | null, b: Position) => (a === null || b > a ? b : a);

export class Projector implements LogProcessor {
  readonly checkpoint = GROUP_CHECKPOINT;
  readonly startFrom = 'start' as const;
  private members: Member[] = [];
  private published: Position | null = null;
  private appliedRevision = 0n;
  private readonly cache: DocCache;
  private lastWrites: DocWrite[] = [];

  constructor(
    readonly projections: readonly Projection[],
    private readonly store: ReadModelStore,
    private readonly feed: ChangeFeed | null,
    private readonly registry: ProjectionRegistry | null = null,
    /** Told the versions the group runs, at each start (the process's reads follow them at once). */
    private readonly onVersions?: (versions: Map<string, number>) => void,
  ) {
    this.cache = new DocCache(store);
  }

  async prepare(): Promise<void> {
    this.cache.clear();
    const versions = this.registry
      ? await this.registry.adopt(new Date().toISOString())
      : new Map(this.projections.map((p) => [p.name, p.version]));
    this.onVersions?.(versions);
    this.members = await Promise.all(
      this.projections.map(async (projection) => {
        const version = versions.get(projection.name) ?? projection.version;
        return { projection, version, after: await this.store.checkpoint(memberCheckpoint({ projection, version })) };
      }),
    );
    await this.store.ensureIndexes(
      this.members.flatMap((m) => m.projection.indexes.map((i) => ({ ...i, collection: physicalCollection(i.collection, m.version) }))),
    );
    this.published = await this.store.checkpoint(PUBLISHED_CHECKPOINT);
    if (this.registry) this.appliedRevision = (await this.registry.read()).appliedRevision;
    if (this.published === null) await this.adoptLegacyCheckpoint();
  }

  /** Where the least advanced member is. */
  async resumeAfter(): Promise<Position | null> {
    let min: Position | null = null;
    for (const m of this.members) {
      if (m.after === null) return null;
      if (min === null || m.after < min) min = m.after;
    }
    return min;
  }

  async handle(batch: StoredEvent[], signal?: AbortSignal): Promise<DocWrite[]> {
    const { writes, entries } = await projectBatch(batch, this.members, this.cache, this.feed ? this.published : 'never');
    // Stopped meanwhile: publish nothing; the next holder gets this batch again.
    if (signal?.aborted) throw new Error('projector stopped');
    if (entries.length > 0 && this.feed) await this.feed.publish(entries);
    this.lastWrites = writes;
    const last = batch[batch.length - 1]!.position;
    // Last, so on MongoDB it lands after the batch's documents: every member has applied `last`.
    return this.registry ? [...writes, this.registry.appliedWrite(this.appliedRevision + 1n, last)] : writes;
  }

  /** The published position first: on MongoDB a crash between these writes must not let a member pass it. */
  checkpointsAt(last: Position): ReadonlyArray<readonly [string, Position]> {
    const out: Array<readonly [string, Position]> = [[PUBLISHED_CHECKPOINT, maxPosition(this.published, last)]];
    for (const m of this.members) if (m.after === null || m.after < last) out.push([memberCheckpoint(m), last]);
    return out;
  }

  committed(last: Position): void {
    this.published = maxPosition(this.published, last);
    for (const m of this.members) m.after = maxPosition(m.after, last);
    if (this.registry) this.appliedRevision += 1n;
    this.cache.committed(this.lastWrites);
    this.lastWrites = [];
  }

  /** Each member's version and last applied position, as of this process's last batch. */
  memberPositions(): Map<string, { version: number; after: Position | null }> {
    return new Map(this.members.map((m) => [m.projection.name, { version: m.version, after: m.after }]));
  }

  /**
   * Before members had checkpoints of their own the group had one, named after every member
   * (`inbox@3+settings@2+…`). Members of the longest list prefix found resume from it; members
   * added behind it (or at another version) start over.
   */
  private async adoptLegacyCheckpoint(): Promise<void> {
    for (let n = this.projections.length; n > 0; n--) {
      const key = this.projections.slice(0, n).map(checkpointName).join('+');
      const legacy = await this.store.checkpoint(key);
      if (legacy === null) continue;
      const seeded = this.members.slice(0, n).filter((m) => m.after === null && m.version === m.projection.version);
      for (const m of seeded) m.after = legacy;
      this.published = legacy;
      await this.store.commit(PUBLISHED_CHECKPOINT, [], legacy, seeded.map((m) => [memberCheckpoint(m), legacy] as const));
      await this.store.drop(key, []);
      return;
    }
  }
}
