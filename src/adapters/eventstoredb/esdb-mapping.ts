/**
 * Pure translations between our event-store port and `@eventstore/db-client` 6.x. No I/O here:
 * everything that talks to the server lives in `esdb-event-store.ts`.
 *
 * Facts relied upon (checked against the client's compiled source in node_modules and the
 * server's source; see the adapter's header for the list):
 * - the client reports `WrongExpectedVersionError.actualVersion` as a bigint or the string
 *   'no_stream' (and -1n when `throwOnAppendFailure=false`);
 * - a position the server does not know (stream reads before 22.6) arrives as ulong.MaxValue;
 * - for events written without explicit transactions (all gRPC writes) commit == prepare.
 */
import { START, jsonEvent } from '@eventstore/db-client';
import type { AppendExpectedRevision, CurrentRevision, EventData, ReadPosition } from '@eventstore/db-client';
import {
  type EventMetadata,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type ReadStreamOptions,
  type Revision,
  type StoredEvent,
  WrongExpectedVersionError,
} from '../../application/ports/event-store.js';
import { asStorageFault } from '../storage-faults.js';

/** The environment variable the service reads the connection string from; named in every error. */
export const EVENTSTORE_URL = 'EVENTSTORE_URL';

/** Log positions are signed 64-bit on the server; anything above is its "no position" marker. */
const MAX_LOG_POSITION = 2n ** 63n - 1n;

// ---------------------------------------------------------------- appends

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return 'any';
  if (expected === 'no_stream') return 'no_stream';
  if (typeof expected !== 'bigint' || expected < 0n) {
    throw new TypeError(`Invalid expected revision ${String(expected)}: use 'any', 'no_stream' or a revision >= 0n`);
  }
  return expected;
}

/** The client's view of the stream's current revision → ours ('no_stream', or -1n on the non-throwing path). */
export function fromEsdbActualRevision(actual: CurrentRevision | bigint | string | number | null | undefined): Revision | 'no_stream' {
  if (actual === undefined || actual === null || actual === 'no_stream') return 'no_stream';
  let revision: bigint;
  try {
    revision = BigInt(actual);
  } catch {
    return 'no_stream';
  }
  return revision < 0n ? 'no_stream' : revision;
}

interface EsdbWrongExpectedVersionLike {
  type: 'wrong-expected-version';
  actualVersion?: unknown;
}

function isEsdbWrongExpectedVersion(error: unknown): error is EsdbWrongExpectedVersionLike {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { type?: unknown }).type === 'wrong-expected-version' ||
      (error as { name?: unknown }).name === 'WrongExpectedVersionError')
  );
}

/**
 * The error an append should surface: the client's WrongExpectedVersionError becomes ours (with
 * the actual revision); anything else is returned unchanged.
 */
export function mapAppendError(streamId: string, expected: ExpectedRevision, error: unknown): unknown {
  if (error instanceof WrongExpectedVersionError) return error;
  // An unreachable server or one without a leader: 503 storage_unavailable, and AVA retries.
  if (!isEsdbWrongExpectedVersion(error)) return asStorageFault(error, 'eventStore') ?? error;
  return new WrongExpectedVersionError(
    streamId,
    expected,
    fromEsdbActualRevision(error.actualVersion as CurrentRevision | undefined),
  );
}

export interface EsdbAppendOutcome {
  success: boolean;
  nextExpectedRevision: bigint;
  position?: { commit: bigint; prepare: bigint };
}

/**
 * The client's append result → ours. `position` is null when the server answered without one
 * (older servers answer an idempotent replay with `NoPosition`): the caller must look it up.
 * With `throwOnAppendFailure=false` in the connection string the client resolves instead of
 * throwing; that is turned back into our error here.
 */
export function fromEsdbAppendResult(
  streamId: string,
  expected: ExpectedRevision,
  result: EsdbAppendOutcome,
): { revision: Revision; position: Position | null } {
  if (!result.success) {
    throw new WrongExpectedVersionError(streamId, expected, fromEsdbActualRevision(result.nextExpectedRevision));
  }
  return { revision: result.nextExpectedRevision, position: positionFrom(result.position) };
}

/**
 * One of our events as the client's JSON event, keeping our id (the server's idempotence check
 * compares ids). Serialises eagerly: the client's batch-append path JSON.stringifies inside an
 * async Promise executor, so a throw there would leave the append pending forever.
 */
export function toEsdbEvent(event: EventToAppend): EventData {
  if (!UUID.test(event.id)) {
    throw new TypeError(`Event id ${JSON.stringify(event.id)} is not a UUID (EventStoreDB requires UUID event ids)`);
  }
  if (typeof event.type !== 'string' || event.type.length === 0 || event.type.startsWith('$')) {
    throw new TypeError(`Event type ${JSON.stringify(event.type)} is empty or reserved (types starting with '$' are system events)`);
  }
  assertJsonObject(event.data, `data of event ${event.id}`);
  assertJsonObject(event.metadata, `metadata of event ${event.id}`);
  return jsonEvent({
    id: event.id,
    type: event.type,
    data: event.data as Record<string, unknown>,
    metadata: event.metadata as unknown as Record<string, unknown>,
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function assertJsonObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) throw new TypeError(`The ${what} must be a JSON object`);
  // Throws a TypeError on bigint and on cycles, before anything reaches the client.
  JSON.stringify(value);
}

// ---------------------------------------------------------------- positions

/** Our Position is the `$all` commit position; resume from `{commit: p, prepare: p}`. */
export function toEsdbPosition(position: Position): { commit: bigint; prepare: bigint } {
  return { commit: position, prepare: position };
}

/** Where a read or subscription starts: the beginning, or at our position. */
export function toReadPosition(after: Position | null): ReadPosition {
  return after === null ? 'start' : toEsdbPosition(after);
}

/** The commit position as ours, or null when missing or the server's "unknown" marker. */
export function positionFrom(position: { commit: bigint; prepare?: bigint } | null | undefined): Position | null {
  if (!position) return null;
  const commit = position.commit;
  if (typeof commit !== 'bigint' || commit < 0n || commit > MAX_LOG_POSITION) return null;
  return commit;
}

// ---------------------------------------------------------------- reads

/**
 * A stream read from a revision (inclusive, as the client's `fromRevision` is), or from the
 * start. A stream that does not exist still ends in StreamNotFoundError whatever the start
 * (client ReadStream.js checks `stream_not_found` on every response); one that ends before
 * the revision reads nothing.
 */
export function toReadStreamOptions(options: ReadStreamOptions = {}): { fromRevision: typeof START | bigint } {
  return { fromRevision: options.fromRevision ?? START };
}

/** Reading a stream that does not exist throws this during iteration; our port answers []. */
export function isStreamNotFoundError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'stream-not-found';
}

/** System events (`$`-prefixed types: `$>` links, `$metadata`, `$statsCollected`, …) never reach the app. */
export function isSystemEventType(type: string): boolean {
  return type.startsWith('$');
}

/** The shape of `ResolvedEvent` / `AllStreamResolvedEvent` that we read. */
export interface EsdbResolvedEventLike {
  event?: {
    id: string;
    type: string;
    streamId: string;
    revision: bigint;
    data: unknown;
    metadata?: unknown;
    created: Date;
    position?: { commit: bigint; prepare: bigint };
  };
  commitPosition?: bigint;
}

/**
 * A resolved event → StoredEvent; null when it carries no event. Throws when the server did not
 * report the event's `$all` position (stream reads before EventStoreDB 22.6): positions are part
 * of the contract, and inventing one would break read-your-writes and projections.
 */
export function toStoredEvent(resolved: EsdbResolvedEventLike): StoredEvent | null {
  const e = resolved.event;
  if (!e) return null;
  const position = positionFrom(e.position) ?? positionFrom(resolved.commitPosition === undefined ? null : { commit: resolved.commitPosition });
  if (position === null) {
    throw new Error(
      `EventStoreDB did not report the $all position of ${e.streamId}@${e.revision}: ` +
        'stream reads carry positions from EventStoreDB 22.6 on; upgrade the server',
    );
  }
  return {
    id: e.id,
    type: e.type,
    streamId: e.streamId,
    revision: e.revision,
    position,
    data: e.data,
    metadata: parseMetadata(e.metadata),
    recordedAt: e.created,
  };
}

/** The client parses JSON metadata already; raw bytes (a foreign writer) are parsed if they are JSON. */
function parseMetadata(metadata: unknown): EventMetadata {
  if (metadata instanceof Uint8Array) {
    try {
      return JSON.parse(Buffer.from(metadata).toString('utf8')) as EventMetadata;
    } catch {
      return undefined as unknown as EventMetadata;
    }
  }
  return metadata as EventMetadata;
}

/**
 * `$all` reads from a position are inclusive on the server (its AllReader keeps records with
 * `TFPos >= pos`); our port is exclusive. Keeps what is strictly after `after` and is not a
 * system event, up to `limit`.
 */
export function selectAfter(events: readonly StoredEvent[], after: Position | null, limit: number): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (const e of events) {
    if (out.length >= limit) break;
    if (after !== null && e.position <= after) continue;
    if (isSystemEventType(e.type)) continue;
    out.push(e);
  }
  return out;
}

// ---------------------------------------------------------------- connection string

/**
 * Checks the shape of EVENTSTORE_URL before the client parses it, so the error names the
 * variable (and never echoes the password). Returns the trimmed URL.
 */
export function validateEventStoreUrl(url: string | undefined | null): string {
  const trimmed = (url ?? '').trim();
  if (trimmed === '') {
    throw new Error(`${EVENTSTORE_URL} is not set: expected e.g. esdb://admin:changeit@localhost:2113?tls=false`);
  }
  if (!/^esdb(\+discover)?:\/\/[^/?#\s]/i.test(trimmed)) {
    throw new Error(
      `${EVENTSTORE_URL} must be an EventStoreDB connection string (esdb://host:port or esdb+discover://host), got ${redactUrl(trimmed)}`,
    );
  }
  return trimmed;
}

/** The URL with any password replaced, fit for error messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)([^:@/]*):([^@/]*)@/i, '$1$2:***@');
}
