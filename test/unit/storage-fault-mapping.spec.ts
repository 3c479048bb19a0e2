/**
 * Which store errors are "unavailable for now" (503 `storage_unavailable` with Retry-After, and
 * AVA retries) rather than a bug (500), and the 503 `stream_busy` of a conflict that outlasted
 * its retries. The errors are the stores' own: a real SQLite read-only write, the MongoDB
 * driver's and EventStoreDB client's error classes. (A real full disk: storage-faults.spec.ts.)
 */
import { describe, expect, it } from '@jest/globals';
import { UnavailableError } from '@eventstore/db-client';
import Database from 'better-sqlite3';
import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { join } from 'node:path';
import { mapAppendError } from '../../src/adapters/eventstoredb/esdb-mapping.js';
import { retryAfterSeconds, toErrorBody } from '../../src/adapters/http/errors.js';
import { asStorageFault, isSqliteFaultCode } from '../../src/adapters/storage-faults.js';
import { WrongExpectedVersionError } from '../../src/application/ports/event-store.js';
import { StorageUnavailableError } from '../../src/application/ports/storage-unavailable.js';
import { tempDir } from '../support/temp-dir.js';

describe('storage faults', () => {
  it('takes SQLite codes of a full, read-only, failing or locked file as faults, and no others', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_IOERR', 'SQLITE_IOERR_FSYNC', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']) {
      expect({ code, fault: isSqliteFaultCode(code) }).toEqual({ code, fault: true });
    }
    for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CORRUPT', 'SQLITE_ERROR', 'SQLITE_FULLISH', 'ENOSPC', undefined, 13]) {
      expect({ code, fault: isSqliteFaultCode(code) }).toEqual({ code, fault: false });
    }
  });

  it('maps a real SQLITE_READONLY to 503 storage_unavailable with Retry-After', () => {
    const tmp = tempDir('lct-ro-');
    const file = join(tmp.dir, 'x.db');
    new Database(file).exec('CREATE TABLE t (v TEXT)');
    const readOnly = new Database(file, { readonly: true });
    let error: unknown;
    try {
      readOnly.prepare('INSERT INTO t VALUES (?)').run('x');
    } catch (e) {
      error = e;
    }
    readOnly.close();
    tmp.cleanup();
    expect((error as { code: string }).code).toBe('SQLITE_READONLY');
    expect(asStorageFault(error, 'readModels')).toMatchObject({ store: 'readModels', reason: 'SQLITE_READONLY', code: 'storage_unavailable' });
    expect(toErrorBody(error)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Storage is unavailable right now; nothing was written, try again later',
      code: 'storage_unavailable',
      details: { store: 'storage' },
    });
    expect(retryAfterSeconds(error)).toBe(5);
  });

  it('maps unreachable MongoDB and EventStoreDB servers, and leaves other errors alone', () => {
    expect(asStorageFault(new MongoNetworkError('connection reset'))).toMatchObject({ store: 'readModels', reason: 'MongoNetworkError' });
    expect(asStorageFault(new MongoServerSelectionError('no server', { servers: new Map() } as never))).toMatchObject({ reason: 'MongoServerSelectionError' });
    const esdb = mapAppendError('conversation-x', 3n, new UnavailableError({ code: 14, message: 'no connection' } as never));
    expect(esdb).toBeInstanceOf(StorageUnavailableError);
    expect(esdb).toMatchObject({ store: 'eventStore', reason: 'unavailable' });
    expect(asStorageFault(new Error('SQLITE_FULL in a message is not a code'))).toBeNull();
    expect(toErrorBody(new Error('boom'))).toMatchObject({ statusCode: 500 });
    expect(retryAfterSeconds(new Error('boom'))).toBeUndefined();
  });

  it('answers a conflict that outlasted its retries with 503 stream_busy and Retry-After: 1', () => {
    const conflict = new WrongExpectedVersionError('conversation-x', 3n, 4n);
    expect(toErrorBody(conflict)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Too many concurrent changes to this conversation; nothing was written, try again',
      code: 'stream_busy',
    });
    expect(retryAfterSeconds(conflict)).toBe(1);
  });
});
