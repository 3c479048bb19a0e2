/**
 * The EventStoreDB mapping, without a server. Where possible the inputs are built with the
 * client's own code (its error classes, its protobuf messages and its gRPC → event
 * conversion), so these tests also pin what @eventstore/db-client 6 hands the adapter.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ANY,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
} from '@eventstore/db-client';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils/convertGrpcEvent.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import { EsdbEventStore } from '../../src/adapters/eventstoredb/esdb-event-store.js';
import {
  fromEsdbActualRevision,
  fromEsdbAppendResult,
  isStreamNotFoundError,
  isSystemEventType,
  mapAppendError,
  positionFrom,
  redactUrl,
  selectAfter,
  toEsdbEvent,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toReadPosition,
  toReadStreamOptions,
  toStoredEvent,
  validateEventStoreUrl,
} from '../../src/adapters/eventstoredb/esdb-mapping.js';
import { type EventMetadata, type EventToAppend, type StoredEvent, WrongExpectedVersionError } from '../../src/application/ports/event-store.js';

const ULONG_MAX = 2n ** 64n - 1n; // what the server sends for "no position"

describe('expected revision', () => {
  it("maps 'any', 'no_stream' and revisions to the client's values", () => {
    expect(toEsdbExpectedRevision('any')).toBe(ANY);
    expect(toEsdbExpectedRevision('no_stream')).toBe(NO_STREAM);
    expect(toEsdbExpectedRevision(0n)).toBe(0n);
    expect(toEsdbExpectedRevision(41n)).toBe(41n);
  });

  it('refuses negative revisions instead of sending them', () => {
    expect(() => toEsdbExpectedRevision(-1n)).toThrow(TypeError);
  });
});

describe('actual revision and WrongExpectedVersionError', () => {
  it("maps the client's actual version, including its no-stream forms", () => {
    expect(fromEsdbActualRevision(7n)).toBe(7n);
    expect(fromEsdbActualRevision(0n)).toBe(0n);
    expect(fromEsdbActualRevision('no_stream')).toBe('no_stream');
    expect(fromEsdbActualRevision(-1n)).toBe('no_stream'); // throwOnAppendFailure=false reports -1
    expect(fromEsdbActualRevision(undefined)).toBe('no_stream');
    expect(fromEsdbActualRevision('12')).toBe(12n);
  });

  it('turns the client error (append path) into ours, with the expected revision we sent', () => {
    const clientError = new EsdbWrongExpectedVersionError(undefined, { streamName: 's-1', expected: NO_STREAM, current: 4n });
    const mapped = mapAppendError('s-1', 'no_stream', clientError);
    expect(mapped).toBeInstanceOf(WrongExpectedVersionError);
    expect(mapped).toMatchObject({ streamId: 's-1', expected: 'no_stream', actual: 4n });

    const noStream = new EsdbWrongExpectedVersionError(undefined, { streamName: 's-2', expected: 3n, current: NO_STREAM });
    expect(mapAppendError('s-2', 3n, noStream)).toMatchObject({ streamId: 's-2', expected: 3n, actual: 'no_stream' });
  });

  it('turns the client error (batch-append path, from the protobuf details) into ours', () => {
    const details = new sharedPb.WrongExpectedVersion();
    details.setExpectedStreamPosition('2');
    details.setCurrentStreamRevision('9');
    const error = EsdbWrongExpectedVersionError.fromWrongExpectedVersion(details, 's-3');
    expect(error.actualVersion).toBe(9n);
    expect(mapAppendError('s-3', 2n, error)).toMatchObject({ streamId: 's-3', expected: 2n, actual: 9n });

    const missing = new sharedPb.WrongExpectedVersion();
    missing.setExpectedStreamPosition('0');
    // current_no_stream is the other case of the oneof: leaving current_stream_revision unset is the same on the wire.
    const noStream = EsdbWrongExpectedVersionError.fromWrongExpectedVersion(missing, 's-4');
    expect(noStream.actualVersion).toBe('no_stream');
    expect(mapAppendError('s-4', 0n, noStream)).toMatchObject({ actual: 'no_stream' });
  });

  it('turns the client error (gRPC status metadata path) into ours', () => {
    const serviceError = (map: Record<string, string>) =>
      ({ code: 9, details: 'Wrong expected version', message: 'Wrong expected version', metadata: { getMap: () => map } }) as never;
    const withActual = new EsdbWrongExpectedVersionError(
      serviceError({ 'stream-name': 's-5', 'expected-version': '1', 'actual-version': '3' }),
    );
    expect(mapAppendError('s-5', 1n, withActual)).toMatchObject({ actual: 3n });
    const without = new EsdbWrongExpectedVersionError(serviceError({ 'stream-name': 's-6', 'expected-version': '1' }));
    expect(mapAppendError('s-6', 1n, without)).toMatchObject({ actual: 'no_stream' });
  });

  it('leaves other errors alone', () => {
    const other = new Error('unavailable');
    expect(mapAppendError('s', 'any', other)).toBe(other);
    const ours = new WrongExpectedVersionError('s', 1n, 2n);
    expect(mapAppendError('s', 1n, ours)).toBe(ours);
  });

  it('recognises StreamNotFoundError (a missing stream reads as [])', () => {
    expect(isStreamNotFoundError(new StreamNotFoundError(undefined, 'gone'))).toBe(true);
    expect(isStreamNotFoundError(new EsdbWrongExpectedVersionError(undefined, { streamName: 'x', expected: ANY, current: 1n }))).toBe(false);
    expect(isStreamNotFoundError(new Error('stream-not-found'))).toBe(false);
    expect(isStreamNotFoundError(undefined)).toBe(false);
  });
});

describe('append result', () => {
  it('uses the commit position of the last event', () => {
    expect(fromEsdbAppendResult('s', 'no_stream', { success: true, nextExpectedRevision: 2n, position: { commit: 900n, prepare: 900n } })).toEqual({
      revision: 2n,
      position: 900n,
    });
  });

  it('reports a missing position as null, so the adapter reads it back (idempotent replays on older servers)', () => {
    expect(fromEsdbAppendResult('s', 1n, { success: true, nextExpectedRevision: 3n })).toEqual({ revision: 3n, position: null });
    expect(
      fromEsdbAppendResult('s', 1n, { success: true, nextExpectedRevision: 3n, position: { commit: ULONG_MAX, prepare: ULONG_MAX } }),
    ).toEqual({ revision: 3n, position: null });
  });

  it('turns an unsuccessful result (throwOnAppendFailure=false) into our error', () => {
    const thrown = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error;
      }
      throw new Error('expected a throw');
    };
    const existing = thrown(() => fromEsdbAppendResult('s', 'no_stream', { success: false, nextExpectedRevision: 5n }));
    expect(existing).toBeInstanceOf(WrongExpectedVersionError);
    expect(existing).toMatchObject({ streamId: 's', expected: 'no_stream', actual: 5n });
    const missing = thrown(() => fromEsdbAppendResult('s', 0n, { success: false, nextExpectedRevision: -1n }));
    expect(missing).toMatchObject({ streamId: 's', expected: 0n, actual: 'no_stream' });
  });
});

describe('events to append', () => {
  const event: EventToAppend = {
    id: '6f1c2b9e-3d4a-4c5b-9e8f-0a1b2c3d4e5f',
    type: 'TicketOpened',
    data: { conversationId: 'c-1', note: 'ünïcødé' },
    // requestFingerprint: the Idempotency-Key request's digest (command-id.ts) travels with the metadata.
    metadata: { propertyId: 'p-1', commandId: 'cmd-1', actor: { kind: 'guest', id: 'g-1' }, requestFingerprint: 'fp-1' },
  };

  it('keeps our id (the server dedupes on it), type, data and metadata (request fingerprint included), as JSON', () => {
    expect(toEsdbEvent(event)).toEqual({
      id: event.id,
      contentType: 'application/json',
      type: 'TicketOpened',
      data: event.data,
      metadata: event.metadata,
    });
  });

  it('rejects what the server or the client would choke on, before sending', () => {
    expect(() => toEsdbEvent({ ...event, id: 'cmd-1:0' })).toThrow(/UUID/);
    expect(() => toEsdbEvent({ ...event, data: { amount: 1n } })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toEsdbEvent({ ...event, data: cyclic })).toThrow(TypeError);
    expect(() => toEsdbEvent({ ...event, type: '$metadata' })).toThrow(/reserved/);
    expect(() => toEsdbEvent({ ...event, type: '' })).toThrow();
  });
});

describe('positions', () => {
  it('uses the commit position as ours and resumes from {commit: p, prepare: p}', () => {
    expect(toEsdbPosition(1234n)).toEqual({ commit: 1234n, prepare: 1234n });
    expect(toReadPosition(null)).toBe(START);
    expect(toReadPosition(77n)).toEqual({ commit: 77n, prepare: 77n });
    expect(positionFrom({ commit: 5n, prepare: 5n })).toBe(5n);
    expect(positionFrom({ commit: 0n, prepare: 0n })).toBe(0n);
  });

  it("treats a missing position and the server's ulong.MaxValue marker as unknown", () => {
    expect(positionFrom(undefined)).toBeNull();
    expect(positionFrom(null)).toBeNull();
    expect(positionFrom({ commit: ULONG_MAX, prepare: ULONG_MAX })).toBeNull();
    expect(positionFrom({ commit: 2n ** 63n, prepare: 0n })).toBeNull();
    expect(positionFrom({ commit: 2n ** 63n - 1n, prepare: 0n })).toBe(2n ** 63n - 1n);
  });
});

describe('stream reads from a revision', () => {
  it("reads from the client's START without a revision, and from the revision (inclusive, as the client's) with one", () => {
    expect(toReadStreamOptions()).toEqual({ fromRevision: START });
    expect(toReadStreamOptions({})).toEqual({ fromRevision: START });
    expect(toReadStreamOptions({ fromRevision: 0n })).toEqual({ fromRevision: 0n });
    expect(toReadStreamOptions({ fromRevision: 41n })).toEqual({ fromRevision: 41n });
  });
});

describe('resolved events', () => {
  const created = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));

  /** A ReadResp.ReadEvent as the server sends it, converted by the client's own code. */
  function fromServer(options: {
    id?: string;
    type?: string;
    stream?: string;
    revision?: bigint;
    commit?: bigint;
    prepare?: bigint;
    readEventCommit?: bigint;
    data?: unknown;
    metadata?: unknown;
  }) {
    const record = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
    const id = new sharedPb.UUID();
    id.setString(options.id ?? '0b8e5f4a-1c2d-4e3f-8a9b-0c1d2e3f4a5b');
    record.setId(id);
    const stream = new sharedPb.StreamIdentifier();
    stream.setStreamName(Buffer.from(options.stream ?? 'conversation-1'));
    record.setStreamIdentifier(stream);
    record.setStreamRevision(String(options.revision ?? 3n));
    record.setCommitPosition(String(options.commit ?? 4242n));
    record.setPreparePosition(String(options.prepare ?? options.commit ?? 4242n));
    const meta = record.getMetadataMap();
    meta.set('type', options.type ?? 'GuestMessagePosted');
    meta.set('content-type', 'application/json');
    meta.set('created', String(BigInt(created.getTime()) * 10_000n + 1234n)); // .NET ticks since the Unix epoch
    record.setData(Buffer.from(JSON.stringify(options.data ?? { text: 'hello' })));
    if (options.metadata !== undefined) record.setCustomMetadata(Buffer.from(JSON.stringify(options.metadata)));
    const readEvent = new streamsPb.ReadResp.ReadEvent();
    readEvent.setEvent(record);
    if (options.readEventCommit !== undefined) readEvent.setCommitPosition(String(options.readEventCommit));
    return convertGrpcEvent(readEvent);
  }

  const metadata: EventMetadata = { propertyId: 'p-9', commandId: 'cmd-9', actor: { kind: 'employee', id: 'e-1' }, requestFingerprint: 'fp-9' };

  it('maps a resolved event to a StoredEvent: ids, revision, position, JSON data and metadata (request fingerprint included), recordedAt', () => {
    const stored = toStoredEvent(fromServer({ revision: 3n, commit: 4242n, data: { text: 'hi', n: 1 }, metadata }));
    expect(stored).toEqual({
      id: '0b8e5f4a-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
      type: 'GuestMessagePosted',
      streamId: 'conversation-1',
      revision: 3n,
      position: 4242n,
      data: { text: 'hi', n: 1 },
      metadata,
      recordedAt: created,
    } satisfies StoredEvent);
  });

  it('falls back to the read event commit position, and refuses to invent one (stream reads before 22.6)', () => {
    expect(toStoredEvent(fromServer({ commit: ULONG_MAX, readEventCommit: 99n, metadata }))!.position).toBe(99n);
    expect(() => toStoredEvent(fromServer({ commit: ULONG_MAX, metadata }))).toThrow(/22\.6/);
  });

  it('returns null when there is no event', () => {
    expect(toStoredEvent({})).toBeNull();
  });

  it('filters system events by their $ type', () => {
    expect(isSystemEventType('$>')).toBe(true);
    expect(isSystemEventType('$metadata')).toBe(true);
    expect(isSystemEventType('$statsCollected')).toBe(true);
    expect(isSystemEventType('TicketOpened')).toBe(false);
    expect(isSystemEventType('Ticket$Opened')).toBe(false);
  });
});

describe('exclusive start over an inclusive server read', () => {
  const at = (position: bigint, type = 'E'): StoredEvent => ({
    id: `id-${position}`,
    type,
    streamId: 's',
    revision: position,
    position,
    data: {},
    metadata: { propertyId: 'p', commandId: 'c', actor: { kind: 'system', id: 'x' } },
    recordedAt: new Date(0),
  });

  it('drops the event at the start position (the server returns it) and system events, then applies the limit', () => {
    const page = [at(10n), at(11n, '$metadata'), at(12n), at(13n), at(14n)];
    expect(selectAfter(page, 10n, 10).map((e) => e.position)).toEqual([12n, 13n, 14n]);
    expect(selectAfter(page, 10n, 2).map((e) => e.position)).toEqual([12n, 13n]);
    expect(selectAfter(page, null, 2).map((e) => e.position)).toEqual([10n, 12n]);
    expect(selectAfter(page, 14n, 5)).toEqual([]);
    expect(selectAfter(page, 10n, 0)).toEqual([]);
  });
});

describe('EVENTSTORE_URL', () => {
  it('accepts esdb:// and esdb+discover:// connection strings', () => {
    expect(validateEventStoreUrl(' esdb://localhost:2113?tls=false ')).toBe('esdb://localhost:2113?tls=false');
    expect(validateEventStoreUrl('esdb+discover://admin:changeit@cluster.example:2113')).toBe(
      'esdb+discover://admin:changeit@cluster.example:2113',
    );
  });

  it('rejects a missing or malformed URL with an error naming EVENTSTORE_URL', () => {
    expect(() => validateEventStoreUrl(undefined)).toThrow(/EVENTSTORE_URL is not set/);
    expect(() => validateEventStoreUrl('  ')).toThrow(/EVENTSTORE_URL is not set/);
    expect(() => validateEventStoreUrl('http://localhost:2113')).toThrow(/EVENTSTORE_URL/);
    expect(() => validateEventStoreUrl('esdb://')).toThrow(/EVENTSTORE_URL/);
    expect(() => validateEventStoreUrl('localhost:2113')).toThrow(/EVENTSTORE_URL/);
  });

  it('never echoes a password', () => {
    expect(redactUrl('esdb://admin:s3cret@host:2113?tls=false')).toBe('esdb://admin:***@host:2113?tls=false');
    expect(redactUrl('esdb://host:2113')).toBe('esdb://host:2113');
    expect(() => validateEventStoreUrl('http://admin:s3cret@host')).toThrow(/admin:\*\*\*@host/);
  });
});

describe('EsdbEventStore.connect without a server', () => {
  let silent: Server;
  let silentPort = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts TCP connections and never answers: an unresponsive server.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('fails fast on a malformed URL, naming EVENTSTORE_URL', async () => {
    await expect(EsdbEventStore.connect(undefined)).rejects.toThrow(/EVENTSTORE_URL is not set/);
    await expect(EsdbEventStore.connect('mongodb://localhost')).rejects.toThrow(/EVENTSTORE_URL/);
    await expect(EsdbEventStore.connect('esdb://localhost:notaport')).rejects.toThrow(
      /EVENTSTORE_URL is not a valid EventStoreDB connection string.*port number/,
    );
  });

  it('fails fast when nothing listens, naming EVENTSTORE_URL and hiding the password', async () => {
    const error = await EsdbEventStore.connect('esdb://admin:s3cret@127.0.0.1:1?tls=false', { connectTimeoutMs: 5000 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/^Cannot use EventStoreDB at EVENTSTORE_URL=esdb:\/\/admin:\*\*\*@127\.0\.0\.1:1/);
    expect(error!.message).not.toContain('s3cret');
  });

  it('gives up after connectTimeoutMs when the server does not answer', async () => {
    const started = Date.now();
    await expect(EsdbEventStore.connect(`esdb://127.0.0.1:${silentPort}?tls=false`, { connectTimeoutMs: 300 })).rejects.toThrow(
      /EVENTSTORE_URL=.*no answer within 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
