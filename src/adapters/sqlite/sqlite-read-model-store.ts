/**
 * Read models on SQLite: one table per collection (`_id`, `_pos`, JSON document), queried
 * through json_extract with expression indexes. Read models can always be rebuilt from the
 * log, so this file runs at `synchronous=NORMAL`; documents and checkpoint still commit in
 * one transaction.
 *
 * Storage faults (disk full, read-only, I/O error, locked past busy_timeout) are thrown as
 * StorageUnavailableError, the transaction rolled back whole; a failed write is remembered in
 * `writeHealth` until one succeeds, and `checkWritable()` (the readiness probe) retries a
 * one-row write while it is.
 */
import Database from 'better-sqlite3';
import type {
  Doc,
  DocWrite,
  Filter,
  FindOptions,
  IndexSpec,
  ReadModelStore,
  Scalar,
} from '../../application/ports/read-models.js';
import type { Position } from '../../application/ports/event-store.js';
import { WriteHealth, asStorageFault } from '../storage-faults.js';

const STORE = 'readModels';

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function safeName(name: string): string {
  if (!NAME.test(name)) throw new Error(`Invalid collection or field name: ${name}`);
  return name;
}

const table = (collection: string) => `rm_${safeName(collection)}`;
const field = (name: string) => `json_extract(doc, '$.${safeName(name)}')`;

/** SQLite JSON has no booleans: json_extract yields 1/0, so compare against those. */
const sqlValue = (v: Scalar | number | string) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

export class SqliteReadModelStore implements ReadModelStore {
  readonly prefetchesBatches = false;
  private readonly db: Database.Database;
  private readonly tables = new Set<string>();
  /** Prepared once per SQL text: preparing costs more than running these small statements. */
  private readonly statements = new Map<string, Database.Statement>();
  /** The last storage fault of a write, until one succeeds (for /health/ready). */
  readonly writeHealth = new WriteHealth(STORE);

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  constructor(file: string) {
    this.db = new Database(file);
    this.db.defaultSafeIntegers(true);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Checkpoint (and fsync) the WAL every ~40 MB rather than every 4 MB: a projector or a
    // rebuild writing many documents spends most of its time in those fsyncs otherwise.
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec('CREATE TABLE IF NOT EXISTS checkpoints (projector TEXT PRIMARY KEY, position INTEGER NOT NULL)');
    this.db.exec('CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL)');
  }

  /** A write: a storage fault becomes StorageUnavailableError and is remembered; success forgets it. */
  private writing<T>(write: () => T): T {
    let result: T;
    try {
      result = write();
    } catch (error) {
      const fault = asStorageFault(error, STORE);
      if (!fault) throw error;
      this.writeHealth.failed(fault);
      throw fault;
    }
    this.writeHealth.succeeded();
    return result;
  }

  /** For the readiness probe: while a write fault is remembered, a one-row write tells whether it passed. */
  async checkWritable(): Promise<void> {
    if (this.writeHealth.lastFault === null) return;
    this.writing(() =>
      this.sql('INSERT INTO write_probe (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at').run(new Date().toISOString()),
    );
  }

  private ensureTable(collection: string): string {
    const name = table(collection);
    if (!this.tables.has(name)) {
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${name} (_id TEXT PRIMARY KEY, _pos INTEGER NOT NULL, doc TEXT NOT NULL)`);
      this.tables.add(name);
    }
    return name;
  }

  async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    const row = this.sql(`SELECT _pos, doc FROM ${this.ensureTable(collection)} WHERE _id = ?`).get(id) as
      | { _pos: bigint; doc: string }
      | undefined;
    return row ? ({ ...JSON.parse(row.doc), _id: id, _pos: row._pos } as T) : null;
  }

  async getMany<T extends Doc>(collection: string, ids: readonly string[]): Promise<T[]> {
    if (ids.length === 0) return [];
    // One statement whatever the number of ids (the list travels as one JSON parameter).
    const rows = this.sql(`SELECT _id, _pos, doc FROM ${this.ensureTable(collection)} WHERE _id IN (SELECT value FROM json_each(?))`).all(
      JSON.stringify([...new Set(ids)]),
    ) as Array<{ _id: string; _pos: bigint; doc: string }>;
    return rows.map((r) => ({ ...JSON.parse(r.doc), _id: r._id, _pos: r._pos }) as T);
  }

  async find<T extends Doc>(collection: string, filter: Filter, options: FindOptions = {}): Promise<T[]> {
    const { where, params } = compileFilter(filter);
    const order = Object.entries(options.sort ?? {})
      .map(([f, dir]) => `${f === '_id' ? '_id' : field(f)} ${dir === 1 ? 'ASC' : 'DESC'}`)
      .join(', ');
    let sql = `SELECT _id, _pos, doc FROM ${this.ensureTable(collection)} WHERE ${where}`;
    if (order) sql += ` ORDER BY ${order}`;
    if (options.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(options.limit))}`;
    const rows = this.sql(sql).all(...params) as Array<{ _id: string; _pos: bigint; doc: string }>;
    return rows.map((r) => ({ ...JSON.parse(r.doc), _id: r._id, _pos: r._pos }) as T);
  }

  async count(collection: string, filter: Filter): Promise<number> {
    const { where, params } = compileFilter(filter);
    const row = this.sql(`SELECT count(*) AS n FROM ${this.ensureTable(collection)} WHERE ${where}`).get(...params) as {
      n: bigint;
    };
    return Number(row.n);
  }

  async ensureIndexes(indexes: IndexSpec[]): Promise<void> {
    for (const index of indexes) {
      const name = this.ensureTable(index.collection);
      const fields = Object.entries(index.fields);
      const indexName = `${name}__${fields.map(([f]) => safeName(f)).join('_')}`;
      const columns = fields.map(([f, dir]) => `${field(f)} ${dir === 1 ? 'ASC' : 'DESC'}`).join(', ');
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${indexName} ON ${name} (${columns})`);
    }
  }

  async checkpoint(projector: string): Promise<Position | null> {
    const row = this.sql('SELECT position FROM checkpoints WHERE projector = ?').get(projector) as
      | { position: bigint }
      | undefined;
    return row ? row.position : null;
  }

  async commit(
    projector: string,
    writes: DocWrite[],
    checkpoint: Position,
    more: ReadonlyArray<readonly [string, Position]> = [],
    signal?: AbortSignal,
  ): Promise<void> {
    // One transaction: all or nothing, so only a stop before it starts has anything to cut.
    signal?.throwIfAborted();
    const saveCheckpoint = this.sql(
      'INSERT INTO checkpoints (projector, position) VALUES (?, ?) ON CONFLICT(projector) DO UPDATE SET position = excluded.position',
    );
    this.writing(() =>
      this.writeDocs(writes, () => {
        for (const [name, position] of more) saveCheckpoint.run(name, position);
        saveCheckpoint.run(projector, checkpoint);
      }),
    );
  }

  async write(writes: DocWrite[]): Promise<void> {
    this.writing(() => this.writeDocs(writes, () => undefined));
  }

  /** Guarded upserts (`_pos` must grow), then `then`, in one transaction. */
  private writeDocs(writes: DocWrite[], then: () => void): void {
    const tables = new Set(writes.map((w) => this.ensureTable(w.collection)));
    const upserts = new Map(
      [...tables].map((t) => [
        t,
        this.sql(
          `INSERT INTO ${t} (_id, _pos, doc) VALUES (?, ?, ?)
           ON CONFLICT(_id) DO UPDATE SET _pos = excluded._pos, doc = excluded.doc WHERE excluded._pos > ${t}._pos`,
        ),
      ]),
    );
    this.db.transaction(() => {
      for (const { collection, doc } of writes) {
        const { _id, _pos, ...body } = doc;
        upserts.get(table(collection))!.run(_id, _pos, JSON.stringify(body));
      }
      then();
    })();
  }

  async drop(projector: string, collections: string[]): Promise<void> {
    this.statements.clear(); // statements on dropped tables must not be reused
    this.writing(() => this.db.transaction(() => {
      for (const c of collections) {
        this.db.exec(`DROP TABLE IF EXISTS ${table(c)}`);
        this.tables.delete(table(c));
      }
      this.db.prepare('DELETE FROM checkpoints WHERE projector = ?').run(projector);
    })());
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function compileFilter(filter: Filter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (const [name, condition] of Object.entries(filter)) {
    const column = name === '_id' ? '_id' : field(name);
    if (condition === null) {
      clauses.push(`${column} IS NULL`);
    } else if (typeof condition !== 'object') {
      clauses.push(`${column} = ?`);
      params.push(sqlValue(condition));
    } else if ('$in' in condition) {
      // `x IN (NULL)` is never true in SQL: null (= missing, as with equality) is matched apart.
      const values = condition.$in.filter((v) => v !== null);
      const alternatives: string[] = [];
      if (values.length > 0) {
        alternatives.push(`${column} IN (${values.map(() => '?').join(', ')})`);
        params.push(...values.map(sqlValue));
      }
      if (values.length < condition.$in.length) alternatives.push(`${column} IS NULL`);
      clauses.push(alternatives.length === 0 ? '0' : `(${alternatives.join(' OR ')})`);
    } else if ('$lt' in condition) {
      clauses.push(`${column} < ?`);
      params.push(condition.$lt);
    } else {
      clauses.push(`${column} > ?`);
      params.push(condition.$gt);
    }
  }
  return { where: clauses.length ? clauses.join(' AND ') : '1', params };
}
