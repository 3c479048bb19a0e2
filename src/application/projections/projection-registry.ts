/**
 * Which version of each projection is live, for every process, and the rebuilds asked for.
 *
 * - `projectionVersions`: one document per projection (`_id` = its name) with the live
 *   `version` (the group writes `${collection}_v${version}`, reads resolve to it) and the
 *   `codeVersion` (`Projection.version` of the code that built it). No document: the code's
 *   version, as before versions were stored. Plus one document `@applied`: the position every
 *   member of the live group has applied, written with each of the group's batches, so one
 *   read tells a process both which collections to read and how far they are (read-your-writes
 *   and the version switch in one answer).
 * - `projectionRebuilds`: one document per projection, its latest rebuild (requested by an API
 *   process, carried out by the process holding the projector lease).
 *
 * `version` is a generation number: a rebuild takes `version + 1`; a deployment that changes a
 * projection's code version takes a new generation above everything used so far, so a rebuilt
 * generation is never mistaken for one built by other code. `_pos` of these documents is a
 * revision (each write takes the stored one + 1), so the `_pos` guard makes concurrent
 * requests race cleanly: exactly one write of a revision lands.
 */
import { randomUUID } from 'node:crypto';
import type { Position } from '../ports/event-store.js';
import type { Doc, ReadModelStore } from '../ports/read-models.js';
import { type Projection, checkpointName, physicalCollection } from './projection.js';

export const PROJECTION_VERSIONS = 'projectionVersions';
export const PROJECTION_REBUILDS = 'projectionRebuilds';
/** `_id` of the document with the live group's applied position (not a projection name: those are identifiers). */
export const APPLIED_ID = '@applied';

export interface ProjectionVersionDoc extends Doc {
  version: number;
  codeVersion: number;
  /** Generations this one replaced, whose collections are dropped once every process has switched. */
  retired: Array<{ version: number; at: string }>;
  since: string;
}

interface AppliedDoc extends Doc {
  /** Decimal string (documents are JSON); null before the group's first batch. */
  position: string | null;
}

export type RebuildState = 'requested' | 'running' | 'switched' | 'done' | 'failed';
export const REBUILD_IN_PROGRESS: ReadonlySet<RebuildState> = new Set(['requested', 'running', 'switched']);

export interface RebuildDoc extends Doc {
  rebuildId: string;
  state: RebuildState;
  fromVersion: number;
  toVersion: number;
  codeVersion: number;
  requestedAt: string;
  requestedBy: { employeeId: string; propertyId: string };
  startedAt: string | null;
  switchedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  error: string | null;
}

export interface RegistrySnapshot {
  /** The live version of every projection (stored, or the code's). */
  versions: Map<string, number>;
  stored: Map<string, ProjectionVersionDoc>;
  /** Every member of the live group has applied the log up to here. */
  applied: Position | null;
  appliedRevision: bigint;
}

export class ProjectionRegistry {
  constructor(
    private readonly store: ReadModelStore,
    readonly projections: readonly Projection[],
  ) {}

  /** One query: the live versions and the group's applied position. */
  async read(): Promise<RegistrySnapshot> {
    const docs = await this.store.find<ProjectionVersionDoc | AppliedDoc>(PROJECTION_VERSIONS, {});
    const stored = new Map<string, ProjectionVersionDoc>();
    let applied: Position | null = null;
    let appliedRevision = 0n;
    for (const doc of docs) {
      if (doc._id === APPLIED_ID) {
        const position = (doc as AppliedDoc).position;
        applied = position === null ? null : BigInt(position);
        appliedRevision = doc._pos;
      } else {
        stored.set(doc._id, doc as ProjectionVersionDoc);
      }
    }
    const versions = new Map(this.projections.map((p) => [p.name, stored.get(p.name)?.version ?? p.version]));
    return { versions, stored, applied, appliedRevision };
  }

  /** The document write that records the group's applied position (committed with its batch). */
  appliedWrite(revision: bigint, position: Position | null) {
    return { collection: PROJECTION_VERSIONS, doc: { _id: APPLIED_ID, _pos: revision, position: position?.toString() ?? null } as AppliedDoc };
  }

  async setVersion(current: ProjectionVersionDoc | undefined, next: Omit<ProjectionVersionDoc, '_id' | '_pos'> & { name: string }): Promise<ProjectionVersionDoc> {
    const { name, ...body } = next;
    const doc: ProjectionVersionDoc = { ...body, _id: name, _pos: (current?._pos ?? 0n) + 1n };
    await this.store.write([{ collection: PROJECTION_VERSIONS, doc }]);
    return doc;
  }

  /**
   * For the live group's start (lease holder only): the version each member runs. Records the
   * code's version for projections never recorded, and gives a projection whose code version
   * changed a new generation (its leftovers dropped first): it replays from the start, alone.
   */
  async adopt(now: string): Promise<Map<string, number>> {
    const { stored, versions } = await this.read();
    const rebuilds = await this.rebuilds();
    for (const p of this.projections) {
      const doc = stored.get(p.name);
      if (!doc) {
        await this.setVersion(undefined, { name: p.name, version: p.version, codeVersion: p.version, retired: [], since: now });
        continue;
      }
      if (doc.codeVersion === p.version) continue;
      const next = Math.max(doc.version + 1, p.version, (rebuilds.get(p.name)?.toVersion ?? 0) + 1);
      await this.store.drop(checkpointName({ name: p.name, version: next }), collectionsOf(p, next));
      await this.setVersion(doc, {
        name: p.name,
        version: next,
        codeVersion: p.version,
        retired: [...doc.retired, { version: doc.version, at: now }],
        since: now,
      });
      versions.set(p.name, next);
    }
    return versions;
  }

  async rebuilds(): Promise<Map<string, RebuildDoc>> {
    const docs = await this.store.find<RebuildDoc>(PROJECTION_REBUILDS, {});
    return new Map(docs.map((d) => [d._id, d]));
  }

  async rebuild(name: string): Promise<RebuildDoc | null> {
    return this.store.get<RebuildDoc>(PROJECTION_REBUILDS, name);
  }

  /** Writes the next revision of a rebuild; answers the stored document afterwards (another writer's, if it won). */
  async saveRebuild(current: RebuildDoc | null, next: Omit<RebuildDoc, '_pos'>): Promise<RebuildDoc> {
    const doc: RebuildDoc = { ...next, _pos: (current?._pos ?? 0n) + 1n };
    await this.store.write([{ collection: PROJECTION_REBUILDS, doc }]);
    return (await this.rebuild(doc._id)) ?? doc;
  }

  /**
   * A new rebuild request, unless one is in progress: `null` then (the caller answers 409).
   * Two requests racing write the same revision; the `_pos` guard lets one land.
   */
  async request(p: Projection, fromVersion: number, by: RebuildDoc['requestedBy'], now: string): Promise<{ doc: RebuildDoc; accepted: boolean }> {
    const current = await this.rebuild(p.name);
    if (current && REBUILD_IN_PROGRESS.has(current.state)) return { doc: current, accepted: false };
    const rebuildId = randomUUID();
    const saved = await this.saveRebuild(current, {
      _id: p.name,
      rebuildId,
      state: 'requested',
      fromVersion,
      toVersion: fromVersion + 1,
      codeVersion: p.version,
      requestedAt: now,
      requestedBy: by,
      startedAt: null,
      switchedAt: null,
      finishedAt: null,
      attempts: 0,
      error: null,
    });
    return { doc: saved, accepted: saved.rebuildId === rebuildId };
  }
}

export const collectionsOf = (p: Projection, version: number) => p.collections.map((c) => physicalCollection(c, version));
