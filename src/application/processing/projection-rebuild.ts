/**
 * Rebuilding one projection while it stays live (POST /v1/ops/projections/{name}/rebuild).
 * Runs in the process holding the projector lease, next to the live group (projector.ts):
 *
 * 1. An API process records the request (`projectionRebuilds`, ProjectionRegistry.request);
 *    the rebuilder here polls for it.
 * 2. A separate processor (RebuildProcessor, checkpoint `name@(live + 1)`) builds the new
 *    version from the start of the log into its own collections (`${collection}_v${version}`),
 *    publishing nothing. It reads the log itself in large batches and commits its checkpoint
 *    with its documents every CATCH_UP.commitEvery events (resumable from there); a fresh one
 *    creates its indexes once, near the head. Reads keep using the live version meanwhile.
 * 3. Hand-over, once it is within a batch of the head and of the live member: the rebuild
 *    stops at R; the live group is let past R (so it has published every event the
 *    rebuild applied silently), then stopped at P ≥ R; the rebuild applies (R, P] itself; the
 *    registry switches `name` to the new version; the group starts again, now running the new
 *    version from its checkpoint P. So no event is applied twice to the new version or skipped,
 *    and the group keeps publishing in order (it never published anything for the new version
 *    that the old one had not). The group pauses only for that last stretch.
 * 4. Reads switch: at once in this process, within the registry cache's refresh elsewhere.
 *    After `graceMs` (well beyond that refresh) the old version's collections and checkpoint
 *    are dropped. Then the rebuild is `done`.
 *
 * Every step is resumable: a successor of the lease finds the request `running` (the build
 * resumes from its checkpoint) or `switched` (it only drops). The push notifier has
 * its own checkpoint and the rebuild publishes nothing, so nothing is pushed or sent again.
 */
import { Logger } from '@nestjs/common';
import type { EventStore, Position, StoredEvent } from '../ports/event-store.js';
import type { DocWrite, ReadModelStore } from '../ports/read-models.js';
import { type Projection, physicalCollection } from '../projections/projection.js';
import {
  type ProjectionRegistry,
  REBUILD_IN_PROGRESS,
  type RebuildDoc,
  collectionsOf,
} from '../projections/projection-registry.js';
import { sleepUnlessAborted } from '../sleep.js';
import type { LogProcessor } from './log-consumer.js';
import { DocCache, type Member, type PendingDocs, memberCheckpoint, pendingWrites, projectBatch } from './projection-batch.js';

/** Builds one projection at one version; publishes nothing. */
export class RebuildProcessor implements LogProcessor {
  readonly checkpoint: string;
  readonly startFrom = 'start' as const;
  private readonly member: Member;
  private readonly cache: DocCache;
  private lastWrites: DocWrite[] = [];

  constructor(
    projection: Projection,
    readonly version: number,
    private readonly store: ReadModelStore,
    /** Its collections were just dropped: a document it has not written does not exist. */
    private fresh = false,
  ) {
    this.member = { projection, version, after: null };
    this.checkpoint = memberCheckpoint(this.member);
    this.cache = new DocCache(store);
  }

  get after(): Position | null {
    return this.member.after;
  }

  /**
   * A fresh build creates its indexes only once it is near the head (`ensureIndexes`, before
   * the hand-over): building them once over the filled collections is much cheaper than
   * maintaining them through every write. A resumed build creates them at once.
   */
  async prepare(): Promise<void> {
    const { projection, version } = this.member;
    this.member.after = await this.store.checkpoint(this.checkpoint);
    if (this.fresh && this.member.after === null) for (const c of collectionsOf(projection, version)) this.cache.markEmpty(c);
    else await this.ensureIndexes();
    this.fresh = false;
  }

  async ensureIndexes(): Promise<void> {
    const { projection, version } = this.member;
    await this.store.ensureIndexes(projection.indexes.map((i) => ({ ...i, collection: physicalCollection(i.collection, version) })));
  }

  async handle(batch: StoredEvent[]): Promise<DocWrite[]> {
    const { writes } = await projectBatch(batch, [this.member], this.cache, 'never');
    this.lastWrites = writes;
    return writes;
  }

  committed(last: Position): void {
    if (this.member.after === null || last > this.member.after) this.member.after = last;
    this.cache.committed(this.lastWrites);
    this.lastWrites = [];
  }

  /**
   * Applies the log up to `to` (inclusive), reading `readBatch` events at a time and committing
   * (documents and checkpoint) every `commitEvery`: while far behind, large commits write a
   * document touched by many events once, and touch each index page once.
   */
  async catchUp(events: EventStore, to: Position, options: { readBatch?: number; commitEvery?: number; signal?: AbortSignal } = {}): Promise<void> {
    const readBatch = options.readBatch ?? 500;
    const commitEvery = options.commitEvery ?? readBatch;
    let pending: PendingDocs = new Map();
    let read = this.member.after;
    let uncommitted = 0;
    const commit = async () => {
      const writes = pendingWrites(pending);
      await this.store.commit(this.checkpoint, writes, read!);
      this.lastWrites = writes;
      this.committed(read!);
      pending = new Map();
      uncommitted = 0;
    };
    while ((read === null || read < to) && !options.signal?.aborted) {
      const batch = (await events.readAll(read, readBatch)).filter((e) => e.position <= to);
      if (batch.length === 0) break;
      await projectBatch(batch, [this.member], this.cache, 'never', pending);
      read = batch[batch.length - 1]!.position;
      uncommitted += batch.length;
      if (uncommitted >= commitEvery) await commit();
      // Let the process serve requests between batches (the rebuild may share it with the API).
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (uncommitted > 0) await commit();
  }
}

/** What the rebuilder needs from the live group (ProjectionsService). */
export interface RebuildHost {
  /** The live member's version and position in this process; undefined when the group does not run here. */
  liveMember(name: string): { version: number; after: Position | null } | undefined;
  /**
   * Lets the group pass `after`, stops it, runs `work(p)` with the member's position p, and
   * starts the group again. Answers `work`'s answer, or false when the group is not running
   * here or did not pass `after` in time.
   */
  handOver(name: string, after: Position | null, work: (position: Position | null) => Promise<boolean>): Promise<boolean>;
  /** The registry changed the live versions: this process's reads follow at once. */
  versionsChanged(versions: Map<string, number>): void;
}

export interface RebuildOptions {
  pollMs: number;
  /** How long an old version stays after the switch (other processes' registry cache). */
  graceMs: number;
  /** Hand over once the rebuild and the live member are this close to the head. */
  handOverWithinEvents: number;
  /** Failures (store errors, a projection throwing) before a rebuild is given up. */
  maxAttempts: number;
}

export const DEFAULT_REBUILD_OPTIONS: RebuildOptions = { pollMs: 250, graceMs: 5000, handOverWithinEvents: 500, maxAttempts: 5 };

const minus = (p: Position | null) => p ?? -1n;
/** Events per read, and per commit, while a rebuild catches up. */
export const CATCH_UP = { readBatch: 5000, commitEvery: 20_000 };

export class ProjectionRebuilder {
  private readonly logger = new Logger('ProjectionRebuilder');
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;
  /** The rebuild in progress here, for status: its committed position. */
  private current: { name: string; processor: RebuildProcessor } | null = null;

  constructor(
    private readonly events: EventStore,
    private readonly store: ReadModelStore,
    private readonly registry: ProjectionRegistry,
    private readonly host: RebuildHost,
    readonly options: RebuildOptions = DEFAULT_REBUILD_OPTIONS,
  ) {}

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Asks the loop to end (a hand-over waiting for the group gives up); `stop` awaits it. */
  signalStop(): void {
    this.abort?.abort();
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = null;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.tick(signal);
      } catch (error) {
        if (!signal.aborted) this.logger.warn(`rebuild check failed: ${String(error)}`);
      }
      await sleepUnlessAborted(this.options.pollMs, signal);
    }
  }

  private async tick(signal: AbortSignal): Promise<void> {
    await this.dropRetired();
    for (const doc of (await this.registry.rebuilds()).values()) {
      if (signal.aborted) return;
      if (REBUILD_IN_PROGRESS.has(doc.state)) await this.carryOut(doc, signal);
    }
  }

  private projection(name: string): Projection | undefined {
    return this.registry.projections.find((p) => p.name === name);
  }

  private async save(doc: RebuildDoc, change: Partial<RebuildDoc>): Promise<RebuildDoc> {
    const current = (await this.registry.rebuild(doc._id)) ?? doc;
    const { _pos: _ignored, ...rest } = { ...current, ...change };
    return this.registry.saveRebuild(current, rest);
  }

  private async fail(doc: RebuildDoc, reason: string): Promise<void> {
    this.logger.warn(`rebuild of ${doc._id}@${doc.toVersion} failed: ${reason}`);
    const p = this.projection(doc._id);
    const live = (await this.registry.read()).versions.get(doc._id);
    if (p && live !== doc.toVersion) await this.store.drop(memberCheckpoint({ projection: p, version: doc.toVersion }), collectionsOf(p, doc.toVersion));
    await this.save(doc, { state: 'failed', error: reason, finishedAt: new Date().toISOString() });
  }

  private async carryOut(doc: RebuildDoc, signal: AbortSignal): Promise<void> {
    const p = this.projection(doc._id);
    if (!p) return this.fail(doc, `no projection ${doc._id} in this deployment`);
    const { versions } = await this.registry.read();
    const live = versions.get(p.name);
    if (live === doc.toVersion) return this.finish(doc, signal); // switched before a crash or a hand-over of the lease
    if (doc.codeVersion !== p.version) return this.fail(doc, `requested for code version ${doc.codeVersion}, this deployment runs ${p.version}`);
    if (live !== doc.fromVersion) return this.fail(doc, `the live version is ${live}, not ${doc.fromVersion}`);
    const fresh = doc.state === 'requested';
    let current = doc;
    if (fresh) {
      // Leftovers of an earlier attempt at this version (a failed one, a crash) are not resumed.
      await this.store.drop(memberCheckpoint({ projection: p, version: doc.toVersion }), collectionsOf(p, doc.toVersion));
      current = await this.save(doc, { state: 'running', startedAt: new Date().toISOString(), error: null });
      this.logger.log(`rebuilding ${p.name}@${doc.toVersion} beside ${p.name}@${doc.fromVersion}`);
    }
    let switched: boolean;
    try {
      switched = await this.build(p, current, fresh, signal);
    } catch (error) {
      if (signal.aborted) return;
      const attempts = current.attempts + 1;
      if (attempts >= this.options.maxAttempts) return this.fail(current, String(error));
      await this.save(current, { attempts, error: String(error) });
      return;
    }
    if (!switched) return;
    current = await this.save(current, { state: 'switched', switchedAt: new Date().toISOString() });
    this.logger.log(`reads of ${p.name} switched to version ${doc.toVersion}`);
    await this.finish(current, signal);
  }

  /**
   * Builds the new version until it has been handed to the group; false when stopped first.
   * It reads the log itself, in large batches (CATCH_UP), committing its checkpoint with
   * them: resumable from there (its own checkpoint, `name@version`), and far faster than the
   * live group's batches of 500 while it is far behind.
   */
  private async build(p: Projection, doc: RebuildDoc, fresh: boolean, signal: AbortSignal): Promise<boolean> {
    const processor = new RebuildProcessor(p, doc.toVersion, this.store, fresh);
    this.current = { name: p.name, processor };
    const within = BigInt(this.options.handOverWithinEvents);
    try {
      await processor.prepare();
      let indexed = !fresh;
      while (!signal.aborted) {
        const live = this.host.liveMember(p.name);
        if (live && live.version !== doc.fromVersion) throw new Error(`the live version changed to ${live.version}`);
        const head = await this.events.headPosition();
        const near = (x: Position | null) => head === null || minus(x) + within >= head;
        if (!near(processor.after)) {
          await processor.catchUp(this.events, head!, { ...CATCH_UP, signal });
          continue;
        }
        if (!indexed) {
          await processor.ensureIndexes();
          indexed = true;
          continue; // the log went on meanwhile
        }
        if (live && near(live.after)) {
          const rebuiltTo = processor.after;
          const handedOver = await this.host.handOver(p.name, rebuiltTo, async (position) => {
            if (position !== null) await processor.catchUp(this.events, position);
            const snapshot = await this.registry.read();
            const stored = snapshot.stored.get(p.name);
            const now = new Date().toISOString();
            await this.registry.setVersion(stored, {
              name: p.name,
              version: doc.toVersion,
              codeVersion: p.version,
              retired: [...(stored?.retired ?? []), { version: doc.fromVersion, at: now }],
              since: now,
            });
            this.host.versionsChanged(new Map(snapshot.versions).set(p.name, doc.toVersion));
            return true;
          });
          if (handedOver) return true;
        }
        // Near the head: follow it until the live member is near too (or the group is free).
        if (head !== null && minus(processor.after) < head) await processor.catchUp(this.events, head, { signal });
        await sleepUnlessAborted(20, signal);
      }
      return false;
    } finally {
      this.current = null;
    }
  }

  /** After the switch: the old version goes once every process reads the new one; then `done`. */
  private async finish(doc: RebuildDoc, signal: AbortSignal): Promise<void> {
    const switchedAt = Date.parse(doc.switchedAt ?? new Date().toISOString());
    await sleepUnlessAborted(Math.max(0, switchedAt + this.options.graceMs - Date.now()), signal);
    if (signal.aborted) return;
    await this.dropRetired();
    const state = doc.state === 'switched' ? {} : { switchedAt: new Date(switchedAt).toISOString() };
    await this.save(doc, { ...state, state: 'done', finishedAt: new Date().toISOString(), error: null });
    this.logger.log(`rebuild of ${doc._id}@${doc.toVersion} done`);
  }

  /** Drops replaced versions (by a rebuild or a changed code version) whose grace has passed. */
  private async dropRetired(): Promise<void> {
    const { stored, versions } = await this.registry.read();
    const now = Date.now();
    for (const doc of stored.values()) {
      const p = this.projection(doc._id);
      if (!p || doc.retired.length === 0) continue;
      const due = doc.retired.filter((r) => Date.parse(r.at) + this.options.graceMs <= now && r.version !== versions.get(p.name));
      if (due.length === 0) continue;
      for (const r of due) await this.store.drop(memberCheckpoint({ projection: p, version: r.version }), collectionsOf(p, r.version));
      const { _id, _pos, ...rest } = doc;
      await this.registry.setVersion(doc, { ...rest, name: _id, retired: doc.retired.filter((r) => !due.includes(r)) });
      this.logger.log(`dropped ${p.name} version(s) ${due.map((r) => r.version).join(', ')}`);
    }
  }

  /** The rebuild this process is running: its committed position. */
  progress(name: string): Position | null | undefined {
    return this.current?.name === name ? this.current.processor.after : undefined;
  }
}
