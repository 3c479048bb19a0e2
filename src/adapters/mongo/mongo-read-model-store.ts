/**
 * Read models on MongoDB (production) and FerretDB 1.24 (tests). Only what both servers do
 * is used: no transactions, no change streams, no aggregation beyond countDocuments.
 *
 * Layout: one collection per logical collection name, documents stored as
 * `{ _id, _pos, ...body }` with `_pos` an int64 (the client runs with `useBigInt64`, so it
 * reads back as bigint); checkpoints in `checkpoints` as `{ _id: projector, position }`.
 *
 * `commit` writes a batch in a few bulk writes, not one per document: documents the batch read
 * as absent (`DocWrite.absent`) go in one unordered `insertMany` per chunk; the others, and any
 * of those that exist after all, with `replaceOne({ _id, _pos: { $lt: pos } }, doc, upsert)`:
 * where the stored document is as new or newer the filter misses, the upsert collides on
 * `_id`, and that duplicate-key error means "already applied". The checkpoint is written
 * after the documents, so a crash in between only causes redelivery. `getMany` is one `$in`
 * query per chunk of ids.
 *
 * FerretDB 1.24 (measured, test/bench/ferretdb-alone.mjs): it pushes only a filter that is
 * exactly `{ _id: <string> }` down to its SQLite index; anything else, `$in` on `_id` and the
 * guarded replace included, scans the whole collection in Go (a `$in` of 200 ids: 90 ms at
 * 1,000 documents, 900 ms at 20,000; `findOne({ _id })`: 2-3 ms at any size). So on FerretDB
 * `getMany` asks for each id with its own (concurrent) `{ _id }` query instead, and the guarded
 * replace becomes a read of `_pos` by `_id` and a replace by `_id` (writeNewerByIdOnly). Inserts
 * are cheap there (200 in ~12 ms); every update costs ~10 ms even on the index.
 *
 * FerretDB 1.24 ignores `ordered: false` on `update` (FerretDB issue #2612): the command stops
 * at the first error, reports it with index 0 whatever its real position, and reports no
 * counts for the writes that did land before it. So after a duplicate-key error this adapter
 * re-reads the stored `_pos` of the batch and retries only the documents still newer, which is
 * correct on both servers whichever writes ran.
 */
import { type Collection, type CommandFailedEvent, type CommandStartedEvent, type CommandSucceededEvent, type Db, MongoBulkWriteError, type MongoClient, MongoServerError } from 'mongodb';
import type { Position } from '../../application/ports/event-store.js';
import { type MongoConnectOptions, connectMongo } from './mongo-connection.js';
import type {
  Doc,
  DocWrite,
  FieldCondition,
  Filter,
  FindOptions,
  IndexSpec,
  ReadModelStore,
} from '../../application/ports/read-models.js';

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const CHECKPOINTS = 'checkpoints';
const DUPLICATE_KEY = 11000;
/** Each retry drops at least the document that collided, unless another writer races us. */
const MAX_COMMIT_ATTEMPTS = 10;

interface StoredDoc {
  _id: string;
  _pos: bigint;
  [field: string]: unknown;
}

interface CheckpointDoc {
  _id: string;
  position: bigint;
}

export interface MongoReadModelStoreOptions extends MongoConnectOptions {
  /** Called as each command the store sends starts and ends (driver command monitoring): observability, round-trip tests. */
  onCommand?: (event: CommandStartedEvent | CommandSucceededEvent | CommandFailedEvent) => void;
}

function collectionName(collection: string): string {
  if (!NAME.test(collection)) throw new Error(`Invalid collection name: ${collection}`);
  if (collection === CHECKPOINTS) throw new Error(`Collection name "${CHECKPOINTS}" is reserved for checkpoints`);
  return collection;
}

function fieldName(name: string): string {
  if (name !== '_id' && !NAME.test(name)) throw new Error(`Invalid field name: ${name}`);
  return name;
}

const toBigInt = (value: Position | number): bigint => (typeof value === 'bigint' ? value : BigInt(value));


/**
 * Updates go out in bulk writes of at most this many operations: FerretDB 1.24 keeps every
 * update's cursor (and SQLite connection, of a pool of 100) open until the command ends, so an
 * update bulk write of 100 or more never returns. Measured per operation: the same ~10 ms at
 * chunks of 5, 10, 25 and 50, so the largest safe size, which also bounds how long a stop waits
 * for the chunk in flight.
 */
const BULK_CHUNK = 50;
/** Inserts per `insertMany` (FerretDB: 1,000 in ~70 ms, one transaction). */
const INSERT_CHUNK = 1000;
/** Ids per `$in` query (MongoDB), or concurrent `{ _id }` queries (FerretDB). */
const GET_MANY_CHUNK = 1000;

export class MongoReadModelStore implements ReadModelStore {
  readonly prefetchesBatches = true;
  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    /** FerretDB: look documents up by exact `_id` only (see above). */
    private readonly idLookupsOnly: boolean,
  ) {}

  /**
   * Connects and waits for a usable server, failing within `serverSelectionTimeoutMS` with an
   * error naming MONGODB_URL when the URL is malformed or nothing answers there.
   */
  static async connect(url: string, options: MongoReadModelStoreOptions = {}): Promise<MongoReadModelStore> {
    const { client, db } = await connectMongo(url, options, {
      useBigInt64: true,
      // JSON semantics, as in the SQLite store: an undefined field is absent, not null.
      ignoreUndefined: true,
      // A server that stops answering fails the operation (the projector logs and retries)
      // instead of stalling it silently forever.
      socketTimeoutMS: 30_000,
      monitorCommands: options.onCommand !== undefined,
    });
    if (options.onCommand) for (const name of ['commandStarted', 'commandSucceeded', 'commandFailed'] as const) client.on(name, options.onCommand);
    const info = await db.admin().command({ buildInfo: 1 });
    return new MongoReadModelStore(client, db, typeof info.ferretdbVersion === 'string');
  }

  private collection(name: string): Collection<StoredDoc> {
    return this.db.collection<StoredDoc>(collectionName(name));
  }

  private get checkpoints(): Collection<CheckpointDoc> {
    return this.db.collection<CheckpointDoc>(CHECKPOINTS);
  }

  async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    return (await this.collection(collection).findOne({ _id: id })) as unknown as T | null;
  }

  async getMany<T extends Doc>(collection: string, ids: readonly string[]): Promise<T[]> {
    const col = this.collection(collection);
    const unique = [...new Set(ids)];
    const out: StoredDoc[] = [];
    for (let i = 0; i < unique.length; i += GET_MANY_CHUNK) {
      const chunk = unique.slice(i, i + GET_MANY_CHUNK);
      if (this.idLookupsOnly) {
        for (const doc of await Promise.all(chunk.map((_id) => col.findOne({ _id })))) if (doc) out.push(doc);
      } else {
        out.push(...(await col.find({ _id: { $in: chunk } }).toArray()));
      }
    }
    return out as unknown as T[];
  }

  async find<T extends Doc>(collection: string, filter: Filter, options: FindOptions = {}): Promise<T[]> {
    const col = this.collection(collection);
    const query = toMongoFilter(filter);
    const sort = Object.entries(options.sort ?? {}).map(([f, dir]) => [fieldName(f), dir === 1 ? 1 : -1] as [string, 1 | -1]);
    let limit: number | undefined;
    if (options.limit !== undefined) {
      limit = Math.max(0, Math.floor(options.limit));
      // Mongo reads limit(0) as "no limit"; the port means "at most 0".
      if (limit === 0) return [];
    }
    let cursor = col.find(query);
    if (sort.length > 0) cursor = cursor.sort(sort);
    if (limit !== undefined) cursor = cursor.limit(limit);
    return (await cursor.toArray()) as unknown as T[];
  }

  async count(collection: string, filter: Filter): Promise<number> {
    return Number(await this.collection(collection).countDocuments(toMongoFilter(filter)));
  }

  async ensureIndexes(indexes: IndexSpec[]): Promise<void> {
    for (const index of indexes) {
      const keys = Object.entries(index.fields).map(([f, dir]) => [fieldName(f), dir === 1 ? 1 : -1] as [string, 1 | -1]);
      if (keys.length === 0) continue;
      await this.collection(index.collection).createIndex(keys);
    }
  }

  async checkpoint(projector: string): Promise<Position | null> {
    const row = await this.checkpoints.findOne({ _id: projector });
    return row ? toBigInt(row.position) : null;
  }

  async commit(
    projector: string,
    writes: DocWrite[],
    checkpoint: Position,
    more: ReadonlyArray<readonly [string, Position]> = [],
    signal?: AbortSignal,
  ): Promise<void> {
    await this.writeDocs(writes, signal);
    // The last point a stop may cut: the checkpoints go together, in order, the group's own
    // last. Cut between them, a restart would resume from the members' checkpoints and find
    // nothing to do, leaving the group's checkpoint behind until the next event (seen in CI).
    signal?.throwIfAborted();
    const all = [...more, [projector, checkpoint] as const];
    for (let i = 0; i < all.length; i += BULK_CHUNK) {
      await this.checkpoints.bulkWrite(
        all.slice(i, i + BULK_CHUNK).map(([name, position]) => ({
          updateOne: { filter: { _id: name }, update: { $set: { position: toBigInt(position) } }, upsert: true },
        })),
        { ordered: true },
      );
    }
  }

  async write(writes: DocWrite[]): Promise<void> {
    await this.writeDocs(writes);
  }

  /** Per collection: inserts of the documents read as absent, then guarded replaces of the rest. */
  private async writeDocs(writes: DocWrite[], signal?: AbortSignal): Promise<void> {
    // Per collection, the newest version of each document (the first one on equal `_pos`,
    // as sequential conditional writes would leave it).
    const batches = new Map<string, Map<string, { stored: StoredDoc; absent: boolean }>>();
    for (const { collection, doc, absent } of writes) {
      const name = collectionName(collection);
      let docs = batches.get(name);
      if (!docs) batches.set(name, (docs = new Map()));
      const { _id, _pos, ...body } = doc;
      const stored: StoredDoc = { _id, _pos: toBigInt(_pos), ...body };
      const previous = docs.get(_id);
      if (!previous || stored._pos > previous.stored._pos) docs.set(_id, { stored, absent: (previous?.absent ?? true) && absent === true });
    }
    for (const [name, docs] of batches) {
      const col = this.db.collection<StoredDoc>(name);
      const all = [...docs.values()];
      const replace = all.filter((d) => !d.absent).map((d) => d.stored);
      const insert = all.filter((d) => d.absent).map((d) => d.stored);
      for (let i = 0; i < insert.length; i += INSERT_CHUNK) {
        signal?.throwIfAborted();
        replace.push(...(await this.insertAbsent(col, insert.slice(i, i + INSERT_CHUNK))));
      }
      for (let i = 0; i < replace.length; i += BULK_CHUNK) {
        signal?.throwIfAborted();
        await this.writeNewer(col, replace.slice(i, i + BULK_CHUNK));
      }
    }
  }

  /**
   * Inserts documents expected to be absent; returns those that may not have landed (a
   * duplicate key: the document exists after all), for the guarded replace. FerretDB may stop
   * at the first error whatever `ordered` says, so on any duplicate all of them go back.
   */
  private async insertAbsent(col: Collection<StoredDoc>, docs: StoredDoc[]): Promise<StoredDoc[]> {
    try {
      await col.insertMany(docs, { ordered: false });
      return [];
    } catch (error) {
      if (!isDuplicateKeyOnly(error)) throw error;
      return docs;
    }
  }

  private async writeNewer(col: Collection<StoredDoc>, docs: StoredDoc[]): Promise<void> {
    if (this.idLookupsOnly) return this.writeNewerByIdOnly(col, docs);
    let pending = docs;
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        // Unordered: each document appears once, so order does not matter, and on MongoDB a
        // collision ("already applied") does not stop the others.
        await col.bulkWrite(
          pending.map((doc) => ({
            replaceOne: { filter: { _id: doc._id, _pos: { $lt: doc._pos } }, replacement: doc, upsert: true },
          })),
          { ordered: false },
        );
        return;
      } catch (error) {
        if (!isDuplicateKeyOnly(error) || attempt >= MAX_COMMIT_ATTEMPTS) throw error;
      }
      // Some writes may have landed (those before the collision; all others on a server that
      // ran the batch unordered). Keep what is still newer than the stored documents.
      const storedPos = new Map((await this.getMany<Doc>(col.collectionName, pending.map((d) => d._id))).map((d) => [d._id, d._pos]));
      pending = pending.filter((doc) => {
        const current = storedPos.get(doc._id);
        return current === undefined || current === null || current < doc._pos;
      });
    }
  }

  /**
   * FerretDB: the `_pos` guard as a read of the stored `_pos` by `_id`, then a replace by `_id`,
   * both on its index. Its own conditional replace is no atomic compare-and-set either (it
   * reads, compares in Go and writes; several winners measured), only a scan of the whole
   * collection per document, so this keeps what FerretDB offers at a fraction of the cost.
   */
  private async writeNewerByIdOnly(col: Collection<StoredDoc>, docs: StoredDoc[]): Promise<void> {
    const storedPos = new Map((await this.getMany<Doc>(col.collectionName, docs.map((d) => d._id))).map((d) => [d._id, d._pos]));
    const newer = docs.filter((doc) => {
      const current = storedPos.get(doc._id);
      return current === undefined || current === null || current < doc._pos;
    });
    if (newer.length === 0) return;
    await col.bulkWrite(
      newer.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
      { ordered: true },
    );
  }

  async drop(projector: string, collections: string[]): Promise<void> {
    for (const name of collections) {
      try {
        await this.collection(name).drop();
      } catch (error) {
        // Older servers answer NamespaceNotFound (26) for a missing collection.
        if (!(error instanceof MongoServerError && error.code === 26)) throw error;
      }
    }
    await this.checkpoints.deleteOne({ _id: projector });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** A duplicate-key error (and nothing worse) from a single write or a bulk write. */
function isDuplicateKeyOnly(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) {
    if (error.result?.getWriteConcernError()) return false;
    const raw = error.writeErrors;
    const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
    return list.length > 0 && list.every((w) => w.code === DUPLICATE_KEY);
  }
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

function toMongoFilter(filter: Filter): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [name, condition] of Object.entries(filter)) query[fieldName(name)] = toMongoCondition(name, condition);
  return query;
}

function toMongoCondition(name: string, condition: FieldCondition): unknown {
  // Equality on a scalar; `null` matches null and missing fields, as SQLite's IS NULL does.
  if (condition === null || typeof condition !== 'object') return condition;
  const operators = Object.keys(condition);
  if (operators.length !== 1) throw new Error(`Unsupported condition on ${name}: exactly one of $in, $lt, $gt expected`);
  if ('$in' in condition) return { $in: [...condition.$in] };
  if ('$lt' in condition) return { $lt: condition.$lt };
  if ('$gt' in condition) return { $gt: condition.$gt };
  throw new Error(`Unsupported condition on ${name}: ${operators[0]}`);
}
