/**
 * Document storage for read models (SQLite embedded, MongoDB in production).
 * Documents are plain JSON objects keyed by `_id`; `_pos` is the global position of the
 * last event applied to the document, which is what makes redelivery harmless: a write
 * lands only where the stored `_pos` is lower.
 */
import type { Position } from './event-store.js';

export type Scalar = string | number | boolean | null;
export type FieldCondition = Scalar | { $in: Scalar[] } | { $lt: number | string } | { $gt: number | string };
/** Top-level fields only, all conditions ANDed: the subset both SQLite and FerretDB do well. */
export type Filter = Record<string, FieldCondition>;

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  limit?: number;
}

export interface Doc {
  _id: string;
  _pos: Position;
}

export interface DocWrite {
  collection: string;
  doc: Doc;
  /**
   * The writer read the document as absent, so a store may insert it instead of a guarded
   * replace (cheaper on MongoDB, far cheaper on FerretDB); where it exists after all, the
   * guarded write applies as usual. A hint only: the result is the same either way.
   */
  absent?: boolean;
}

export interface IndexSpec {
  collection: string;
  fields: Record<string, 1 | -1>;
}

export interface ReadModelStore {
  get<T extends Doc>(collection: string, id: string): Promise<T | null>;
  /**
   * Whether a projector should read each batch's documents ahead, with one `getMany` per
   * collection (projection-batch.ts): true where every read is a server round-trip (MongoDB);
   * false where a local read costs less than the extra pass over the batch that finds them (SQLite).
   */
  readonly prefetchesBatches: boolean;
  /** The documents of `ids` that exist, in any order: one read for a whole batch, however many ids. */
  getMany<T extends Doc>(collection: string, ids: readonly string[]): Promise<T[]>;
  find<T extends Doc>(collection: string, filter: Filter, options?: FindOptions): Promise<T[]>;
  count(collection: string, filter: Filter): Promise<number>;
  ensureIndexes(indexes: IndexSpec[]): Promise<void>;

  /** The checkpoint of a projector (name includes its version), null before its first batch. */
  checkpoint(projector: string): Promise<Position | null>;
  /**
   * Writes documents, each only if its `_pos` is newer than the stored one, then the
   * checkpoint. Embedded: one transaction. Elsewhere the checkpoint is written last, so a
   * crash in between only causes redelivery. `more` are further checkpoints set with it (a
   * projector group's members: `name@version`), written before `projector`'s own.
   */
  commit(
    projector: string,
    writes: DocWrite[],
    checkpoint: Position,
    more?: ReadonlyArray<readonly [string, Position]>,
    /** Aborted: stop between writes and throw, leaving the checkpoints as they were (what was written is redelivered harmlessly). */
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * Writes documents with the same `_pos` guard, outside any checkpoint: for a processor that
   * journals side effects as they happen (the push notifier's delivery attempts).
   */
  write(writes: DocWrite[]): Promise<void>;
  /** Removes collections and the checkpoint of a projector (used when an old version is dropped). */
  drop(projector: string, collections: string[]): Promise<void>;
  close(): Promise<void>;
}
