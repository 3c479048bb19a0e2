/**
 * Which store errors mean "unavailable for now" (StorageUnavailableError → 503
 * `storage_unavailable`, see application/ports/storage-unavailable.ts), as opposed to a bug
 * (500). Also what /health/ready remembers about the last failed write of each SQLite file
 * until a write succeeds again (WriteHealth).
 */
import { StorageUnavailableError } from '../application/ports/storage-unavailable.js';

/**
 * SQLite result codes (primary; extended ones like SQLITE_IOERR_FSYNC or SQLITE_READONLY_DBMOVED
 * start with them) of a disk that is full, read-only, failing or locked past busy_timeout.
 */
const SQLITE_FAULTS = ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PROTOCOL', 'SQLITE_NOLFS'];

export const isSqliteFaultCode = (code: unknown): code is string =>
  typeof code === 'string' && SQLITE_FAULTS.some((fault) => code === fault || code.startsWith(`${fault}_`));

/** MongoDB driver errors of a server that cannot be reached (by class name: no import of the driver here). */
const MONGO_FAULTS = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);
/** EventStoreDB client error types of a server that cannot be reached or has no leader. */
const ESDB_FAULTS = new Set(['unavailable', 'deadline-exceeded', 'not-leader']);

/**
 * The error as a StorageUnavailableError when it is one of the above, else null. `store` names
 * the store for /health/ready and the answer's details; without it, the kind of store the error
 * comes from (SQLite: `storage`, MongoDB: `readModels`, EventStoreDB: `eventStore`).
 */
export function asStorageFault(error: unknown, store?: string): StorageUnavailableError | null {
  if (error instanceof StorageUnavailableError) return error;
  if (error === null || typeof error !== 'object') return null;
  const { code, name, type } = error as { code?: unknown; name?: unknown; type?: unknown };
  if (isSqliteFaultCode(code)) return new StorageUnavailableError(store ?? 'storage', code, { cause: error });
  if (typeof name === 'string' && MONGO_FAULTS.has(name)) return new StorageUnavailableError(store ?? 'readModels', name, { cause: error });
  if (typeof type === 'string' && ESDB_FAULTS.has(type)) return new StorageUnavailableError(store ?? 'eventStore', type, { cause: error });
  return null;
}

/**
 * The last write fault of one store, kept until a write succeeds: reads keep working on a full
 * disk, so a probe that only reads would call the store ready while every command fails.
 */
export class WriteHealth {
  private fault: { reason: string; at: string } | null = null;

  constructor(readonly store: string) {}

  get lastFault(): { reason: string; at: string } | null {
    return this.fault;
  }

  failed(error: StorageUnavailableError): void {
    this.fault = { reason: error.reason, at: new Date().toISOString() };
  }

  succeeded(): void {
    this.fault = null;
  }

  /** For a probe: throws while a fault is remembered. */
  assertWritable(): void {
    if (this.fault) throw new StorageUnavailableError(this.store, `${this.fault.reason} since ${this.fault.at}`);
  }
}
