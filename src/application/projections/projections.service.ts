/**
 * Owns the projectors of this process and answers "has projection X reached position P?"
 * for read-your-writes, and "which collection holds projection X now?" for every read. Both
 * come from the registry (projection-registry.ts), so they also hold when the projector runs
 * in another process: one read gives the live versions and the group's applied position; the
 * versions are cached and re-read every VERSIONS_REFRESH_MS (a rebuild drops an old version
 * only well after that), and at every read-your-writes wait.
 *
 * In the process holding the projector lease it runs the live group and the rebuilder
 * (projection-rebuild.ts), whose hand-over pauses the group (serialised with start/stop).
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { DomainError } from '../../domain/errors.js';
import type { ChangeFeed } from '../ports/change-feed.js';
import type { EventStore, Position } from '../ports/event-store.js';
import type { ReadModelStore } from '../ports/read-models.js';
import { CHANGE_FEED, EVENT_STORE, READ_MODELS } from '../ports/tokens.js';
import { alertsProjection } from './alerts.projection.js';
import { employeeNamesProjection } from './employee-names.projection.js';
import { handoffTicketsProjection } from './handoff-tickets.projection.js';
import { inboxProjection } from './inbox.projection.js';
import { LogConsumer } from '../processing/log-consumer.js';
import { DEFAULT_REBUILD_OPTIONS, ProjectionRebuilder, type RebuildHost } from '../processing/projection-rebuild.js';
import { memberCheckpoint } from '../processing/projection-batch.js';
import { Projector } from '../processing/projector.js';
import { type Projection, physicalCollection } from './projection.js';
import { ProjectionRegistry, type RebuildDoc } from './projection-registry.js';
import { pushSubscriptionsProjection } from './push-subscriptions.projection.js';
import { settingsProjection } from './settings.projection.js';

export const PROJECTIONS: readonly Projection[] = [
  inboxProjection,
  settingsProjection,
  alertsProjection,
  pushSubscriptionsProjection,
  employeeNamesProjection,
  handoffTicketsProjection,
];
export type ProjectionName = 'inbox' | 'settings' | 'alerts' | 'pushSubscriptions' | 'employeeNames' | 'handoffTickets';

const byName = (name: ProjectionName) => PROJECTIONS.find((p) => p.name === name)!;

/** How often every process re-reads the live versions (a rebuild's switch reaches reads within this). */
export const VERSIONS_REFRESH_MS = 500;

export interface ProjectionStatus {
  name: string;
  version: number;
  codeVersion: number;
  checkpoint: string | null;
  lag: { events: number; ms: number };
  rebuild: RebuildView | null;
}

export type RebuildView = ReturnType<typeof rebuildView> & { checkpoint: string | null; lag: { events: number; ms: number } };

export function rebuildView(d: RebuildDoc) {
  return {
    id: d.rebuildId,
    state: d.state,
    fromVersion: d.fromVersion,
    toVersion: d.toVersion,
    requestedAt: d.requestedAt,
    requestedBy: d.requestedBy.employeeId,
    startedAt: d.startedAt,
    switchedAt: d.switchedAt,
    finishedAt: d.finishedAt,
    error: d.error,
  };
}

@Injectable()
export class ProjectionsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Projections');
  /** All projections run as one group (see Projector for why), as one consumer of the log. */
  readonly consumer: LogConsumer;
  readonly registry: ProjectionRegistry;
  readonly rebuilder: ProjectionRebuilder;
  private readonly projector: Projector;
  /** The live version of each projection, as last read (or as the group here runs them). */
  private versions = new Map(PROJECTIONS.map((p) => [p.name, p.version]));
  private versionsSeq = 0;
  private appliedSeq = 0;
  private refreshTimer: NodeJS.Timeout | null = null;
  /** The group runs here (startAll without stopAll). */
  private running = false;
  /** Serialises start, stop and a rebuild's hand-over. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    @Inject(CHANGE_FEED) feed: ChangeFeed,
  ) {
    this.registry = new ProjectionRegistry(store, PROJECTIONS);
    this.projector = new Projector(PROJECTIONS, store, feed, this.registry, (versions) => this.useVersions(versions));
    this.consumer = new LogConsumer(this.projector, events, store);
    const host: RebuildHost = {
      liveMember: (name) => (this.running ? this.projector.memberPositions().get(name) : undefined),
      handOver: (name, after, work) => this.handOver(name, after, work),
      versionsChanged: (versions) => this.useVersions(versions),
    };
    this.rebuilder = new ProjectionRebuilder(events, store, this.registry, host, DEFAULT_REBUILD_OPTIONS);
  }

  async onModuleInit(): Promise<void> {
    await this.checkpoint();
    this.refreshTimer = setInterval(() => void this.checkpoint().catch(() => undefined), VERSIONS_REFRESH_MS);
    this.refreshTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
  }

  async startAll(): Promise<void> {
    await this.serial(async () => {
      this.running = true;
      await this.consumer.start();
    });
    this.rebuilder.start();
  }

  async stopAll(): Promise<void> {
    this.rebuilder.signalStop(); // a hand-over queued behind us gives up
    await this.serial(async () => {
      this.running = false;
      await this.consumer.stop();
    });
    await this.rebuilder.stop();
  }

  collection(name: ProjectionName, logical: string): string {
    return physicalCollection(logical, this.versions.get(name) ?? byName(name).version);
  }

  /**
   * The group's applied position: every projection in it has applied the log up to here. The
   * same read refreshes the live versions, so a read that waited for a position reads the
   * collections that hold it.
   */
  async checkpoint(): Promise<Position | null> {
    const seq = ++this.appliedSeq;
    const snapshot = await this.registry.read();
    if (seq > this.versionsSeq) {
      this.versionsSeq = seq;
      if (!this.running) this.versions = snapshot.versions; // where the group runs, it says which versions it writes
    }
    return snapshot.applied;
  }

  /**
   * Waits (briefly) until the projections have applied `position`. Answers whether it did;
   * callers serve what they have either way and say so.
   */
  async waitFor(position: Position | null, timeoutMs = 2000): Promise<boolean> {
    if (position === null) return true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkpoint = await this.checkpoint();
      if (checkpoint !== null && checkpoint >= position) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 3));
    }
  }

  /** Each projection's live version, checkpoint and lag, and its latest rebuild. */
  async status(): Promise<{ head: string | null; projections: ProjectionStatus[] }> {
    const [snapshot, rebuilds, head] = await Promise.all([this.registry.read(), this.registry.rebuilds(), this.events.headPosition()]);
    const lagOf = this.lagCalculator(head);
    const projections = await Promise.all(
      PROJECTIONS.map(async (p): Promise<ProjectionStatus> => {
        const version = snapshot.versions.get(p.name) ?? p.version;
        const checkpoint = await this.store.checkpoint(memberCheckpoint({ projection: p, version }));
        const rebuild = rebuilds.get(p.name);
        let rebuildStatus: RebuildView | null = null;
        if (rebuild) {
          const at =
            rebuild.state === 'running' || rebuild.state === 'requested'
              ? (this.rebuilder.progress(p.name) ?? (await this.store.checkpoint(memberCheckpoint({ projection: p, version: rebuild.toVersion }))))
              : null;
          const done = rebuild.state !== 'running' && rebuild.state !== 'requested';
          rebuildStatus = {
            ...rebuildView(rebuild),
            checkpoint: done ? null : (at?.toString() ?? null),
            lag: done ? { events: 0, ms: 0 } : await lagOf(at),
          };
        }
        return {
          name: p.name,
          version,
          codeVersion: snapshot.stored.get(p.name)?.codeVersion ?? p.version,
          checkpoint: checkpoint?.toString() ?? null,
          lag: await lagOf(checkpoint),
          rebuild: rebuildStatus,
        };
      }),
    );
    return { head: head?.toString() ?? null, projections };
  }

  /** Each projection's live version and checkpoint (cheap: for probes). */
  async checkpoints(): Promise<Array<{ name: string; version: number; checkpoint: Position | null }>> {
    const { versions } = await this.registry.read();
    return Promise.all(
      PROJECTIONS.map(async (p) => {
        const version = versions.get(p.name) ?? p.version;
        return { name: p.name, version, checkpoint: await this.store.checkpoint(memberCheckpoint({ projection: p, version })) };
      }),
    );
  }

  /**
   * Records a rebuild request for the process holding the projector lease (maybe another one).
   * 404 for an unknown projection, 409 while one is in progress.
   */
  async requestRebuild(name: string, by: { employeeId: string; propertyId: string }): Promise<RebuildDoc> {
    const p = PROJECTIONS.find((x) => x.name === name);
    if (!p) throw new DomainError('not_found', 'projection_not_found', `No projection named ${name}`, { known: PROJECTIONS.map((x) => x.name) });
    const { versions } = await this.registry.read();
    const { doc, accepted } = await this.registry.request(p, versions.get(p.name) ?? p.version, by, new Date().toISOString());
    if (!accepted) {
      throw new DomainError('conflict', 'rebuild_in_progress', `A rebuild of ${name} is in progress`, { rebuild: rebuildView(doc) });
    }
    return doc;
  }

  private useVersions(versions: Map<string, number>): void {
    this.versions = new Map(versions);
    this.versionsSeq = ++this.appliedSeq;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** RebuildHost.handOver: pauses the group for `work`, after letting it pass `after`. */
  private handOver(name: string, after: Position | null, work: (position: Position | null) => Promise<boolean>): Promise<boolean> {
    return this.serial(async () => {
      if (!this.running) return false;
      const member = () => this.projector.memberPositions().get(name);
      const deadline = performance.now() + 2000;
      while (after !== null && ((member()?.after ?? -1n) < after)) {
        if (!this.running || performance.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 5));
      }
      await this.consumer.stop();
      try {
        return await work(member()?.after ?? null);
      } catch (error) {
        this.logger.warn(`hand-over of ${name} failed, the live version stays: ${String(error)}`);
        return false;
      } finally {
        await this.consumer.start().catch((error: unknown) => {
          this.logger.error(`could not restart the projections after a hand-over: ${String(error)}`);
          void this.keepStarting();
        });
      }
    });
  }

  /** Retries starting the group (after a failed restart) until it runs or the group is stopped here. */
  private async keepStarting(): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      await new Promise((r) => setTimeout(r, delay));
      const started = await this.serial(async () => {
        if (!this.running) return true;
        return this.consumer.start().then(
          () => true,
          () => false,
        );
      });
      if (started) return;
    }
  }

  /** Lag of a position: events behind the head, and ms since the oldest event it has not applied. */
  private lagCalculator(head: Position | null) {
    const ages = new Map<string, Promise<number>>();
    return async (checkpoint: Position | null) => {
      if (head === null || (checkpoint !== null && checkpoint >= head)) return { events: 0, ms: 0 };
      const key = String(checkpoint);
      let age = ages.get(key);
      if (!age) {
        age = this.events.readAll(checkpoint, 1).then(([next]) => (next ? Math.max(0, Date.now() - next.recordedAt.getTime()) : 0));
        ages.set(key, age);
      }
      return { events: Number(head - (checkpoint ?? 0n)), ms: await age };
    };
  }
}
