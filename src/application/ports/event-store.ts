/**
 * The event log, with EventStoreDB's semantics so its adapter is a thin mapping:
 * named streams with 0-based revisions, optimistic appends, one global order ($all).
 * Revisions and positions are bigint inside the service; decimal strings at HTTP/SSE edges.
 */
export type Position = bigint;
export type Revision = bigint;
/** 'no_stream': the stream must not exist; bigint: the revision of its last event. */
export type ExpectedRevision = 'any' | 'no_stream' | Revision;

export interface EventMetadata {
  propertyId: string;
  /** The command that produced the event; event ids derive from it, so a retried command is a no-op. */
  commandId: string;
  actor: { kind: 'guest' | 'employee' | 'system'; id: string };
  /**
   * sha256 of the HTTP request that issued the command with an Idempotency-Key (method, URL,
   * body): the same command id with another fingerprint is a reused key, not a retry (command-id.ts).
   */
  requestFingerprint?: string;
}

export interface EventToAppend {
  id: string;
  type: string;
  data: object;
  metadata: EventMetadata;
}

export interface StoredEvent {
  id: string;
  type: string;
  streamId: string;
  revision: Revision;
  position: Position;
  data: any;
  metadata: EventMetadata;
  recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  revision: Revision;
  /** Global position of the last appended event. */
  position: Position;
}

export class WrongExpectedVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: Revision | 'no_stream',
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedVersionError';
  }
}

export interface ReadStreamOptions {
  /** The first revision to read (inclusive): a cached fold reads only the tail after what it has. */
  fromRevision?: Revision;
}

export interface EventStore {
  /**
   * Appends atomically. Resolves only once the events are durable. Repeating an append with
   * the same event ids and the same expected revision is a no-op that answers as the first did.
   */
  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /**
   * The events of a stream in revision order, from `fromRevision` (inclusive; default 0) to its
   * end; empty when the stream does not exist or ends before `fromRevision`.
   */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /** Up to `limit` events after `after` (exclusive; null = from the start), in global order. */
  readAll(after: Position | null, limit: number): Promise<StoredEvent[]>;
  /** Position of the last event in the log, null when empty. */
  headPosition(): Promise<Position | null>;
  /**
   * Catch-up then live: calls `handle` sequentially with batches of events after `after`,
   * never concurrently, resubscribing by itself after failures, until `signal` aborts.
   */
  subscribeToAll(after: Position | null, handle: (events: StoredEvent[]) => Promise<void>, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
