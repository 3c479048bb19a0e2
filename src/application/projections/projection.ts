/**
 * What a projection is, and the context it writes through. Projections are deterministic
 * functions of the log (clock values come from event data), so a rebuild equals the original.
 */
import type { ChangeEntry } from '../ports/change-feed.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc, IndexSpec } from '../ports/read-models.js';

export interface ProjectionContext {
  /** The document as this batch left it, or as stored. */
  get<T extends Doc>(collection: string, id: string): Promise<T | null>;
  /**
   * Applies `change` to one document unless the current event was already applied to it
   * (`_pos` guard). Returning null leaves the document as it is.
   */
  update<T extends Doc>(collection: string, id: string, change: (doc: T | null) => Omit<T, '_pos'> | null): Promise<T | null>;
  /** A change for SSE clients; its id is derived from the event position. */
  publish(entry: Omit<ChangeEntry, 'id'>): void;
}

export interface Projection {
  name: string;
  version: number;
  /** Logical collection names; stored as `${name}_v${version}` so a rebuild can fill new ones. */
  collections: string[];
  indexes: IndexSpec[];
  handles: ReadonlySet<string>;
  apply(event: StoredEvent, ctx: ProjectionContext): Promise<void>;
}

export const physicalCollection = (collection: string, version: number) => `${collection}_v${version}`;
export const checkpointName = (p: Pick<Projection, 'name' | 'version'>) => `${p.name}@${p.version}`;
