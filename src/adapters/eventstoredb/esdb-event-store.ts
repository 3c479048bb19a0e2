/**
 * The event log on EventStoreDB (`@eventstore/db-client` 6.x, gRPC). A thin mapping: the port
 * was shaped after ESDB's semantics. Every use of the client is in this file and in
 * `esdb-mapping.ts` (pure functions).
 *
 * What the mapping relies on, and where it was checked:
 * - Expected revisions: 'any' → ANY, 'no_stream' → NO_STREAM, bigint → bigint. A mismatch
 *   rejects with the client's WrongExpectedVersionError, whose `actualVersion` is a bigint or
 *   'no_stream' (client dist/utils/CommandError.js, dist/streams/appendToStream/*.js).
 * - Idempotence: the same event ids right after the same expected revision answer success with
 *   the original revision and no new events (server IndexWriter.CheckCommit: `Idempotent`);
 *   a partial match is `CorruptedIdempotency` → WrongExpectedVersion. Older servers answer a
 *   replay with `NoPosition` (server Streams.Append.cs: CommitPosition == -1), so the position
 *   is then read back from the stream.
 * - `readAll({fromPosition})` is INCLUSIVE (server AllReader: keeps records with TFPos >= pos;
 *   client test readAll.test.ts "from position" reads back the very event it started at), so
 *   the event at `after` is skipped here. `subscribeToAll({fromPosition})` is exclusive.
 *   Backward reads from a position are exclusive.
 * - Positions: events written without explicit (legacy TCP) transactions, i.e. every gRPC
 *   write, are committed prepares whose `$all` position has commit == prepare (server AllReader:
 *   `new CommitEventRecord(eventRecord, eventRecord.LogPosition)`; KurrentDB#2522, #2192), so the
 *   commit position alone orders events and `{commit: p, prepare: p}` resumes exactly after p.
 * - Stream reads carry `$all` positions only from server 22.6 (EventStore#3459; the client's
 *   RecordedEvent.position doc says so); older servers send ulong.MaxValue and readStream throws.
 * - A missing stream surfaces as StreamNotFoundError *during iteration* (client ReadStream.js).
 * - The client never resubscribes and its readAll/subscribeToAll ignore `deadline` (they force
 *   `deadline: Infinity`): the resubscribe loop and the connect timeout are ours.
 * - `$all` reads and filtered subscriptions need credentials with access to `$all` (admin or
 *   ops) in the connection string.
 */
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  type AllStreamResolvedEvent,
  type ReadPosition,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  Position,
  ReadStreamOptions,
  Revision,
  StoredEvent,
} from '../../application/ports/event-store.js';
import {
  EVENTSTORE_URL,
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
} from './esdb-mapping.js';
import { sleepUnlessAborted } from '../../application/sleep.js';
import { asStorageFault } from '../storage-faults.js';

export interface EsdbEventStoreOptions {
  /** How long `connect` waits for the server to answer a one-event `$all` read. Default 5000. */
  connectTimeoutMs?: number;
  /** Told about subscription failures before each resubscribe. Default: console.error. */
  onError?: (error: unknown) => void;
  /** First and maximum resubscribe delays. Defaults 100 ms and 5000 ms. */
  backoffMs?: { initial: number; max: number };
  /** How long close() waits for the client to dispose of its calls. Default 2000. */
  disposeTimeoutMs?: number;
}

const BACKWARD_PAGE = 32;
const MIN_FORWARD_PAGE = 32;
const MAX_FORWARD_PAGE = 10_000;
const ABANDON_FALLBACK_MS = 5000;

export class EsdbEventStore implements EventStore {
  private closed = false;
  /** Aborted by close(): stops every subscription loop this instance runs. */
  private readonly closing = new AbortController();
  private readonly onError: (error: unknown) => void;
  private readonly backoff: { initial: number; max: number };
  private readonly disposeTimeoutMs: number;

  private constructor(
    private readonly client: EventStoreDBClient,
    options: EsdbEventStoreOptions,
  ) {
    this.onError = options.onError ?? ((e) => console.error('EventStoreDB subscription error, resubscribing', e));
    this.backoff = options.backoffMs ?? { initial: 100, max: 5000 };
    this.disposeTimeoutMs = options.disposeTimeoutMs ?? 2000;
  }

  /**
   * Parses the connection string and checks the server answers (a one-event `$all` read), so a
   * wrong or unreachable EVENTSTORE_URL fails at startup with an error naming it.
   */
  static async connect(url: string | undefined, options: EsdbEventStoreOptions = {}): Promise<EsdbEventStore> {
    const checked = validateEventStoreUrl(url);
    let client: EventStoreDBClient;
    try {
      client = EventStoreDBClient.connectionString(checked);
    } catch (error) {
      // No `cause`: the client's ParseError carries the whole connection string, password included.
      throw new Error(`${EVENTSTORE_URL} is not a valid EventStoreDB connection string (${redactUrl(checked)}): ${messageOf(error)}`);
    }
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    try {
      await probe(client, timeoutMs);
    } catch (error) {
      await disposeWithin(client, options.disposeTimeoutMs ?? 2000);
      const hint =
        (error as { type?: string } | null)?.type === 'access-denied'
          ? ' (reading $all needs credentials in the URL, e.g. esdb://admin:changeit@host:2113)'
          : '';
      throw new Error(`Cannot use EventStoreDB at ${EVENTSTORE_URL}=${redactUrl(checked)}: ${messageOf(error)}${hint}`, {
        cause: error,
      });
    }
    return new EsdbEventStore(client, options);
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new Error('Nothing to append');
    const expectedRevision = toEsdbExpectedRevision(expected);
    const esdbEvents = events.map(toEsdbEvent);
    let outcome: { revision: Revision; position: Position | null };
    try {
      const result = await this.client.appendToStream(streamId, esdbEvents, { expectedRevision });
      outcome = fromEsdbAppendResult(streamId, expected, result);
    } catch (error) {
      throw mapAppendError(streamId, expected, error);
    }
    const position = outcome.position ?? (await this.positionOf(streamId, outcome.revision));
    return { revision: outcome.revision, position };
  }

  /** The `$all` position of one stream event (for replies that came without one). */
  private async positionOf(streamId: string, revision: Revision): Promise<Position> {
    let found: Position | null = null;
    // Consumed to the end (one event): an abandoned read would hold up dispose().
    for await (const resolved of this.client.readStream(streamId, { fromRevision: revision, maxCount: 1 })) {
      const stored = toStoredEvent(resolved);
      if (stored && stored.revision === revision) found = stored.position;
    }
    if (found !== null) return found;
    throw new Error(`EventStoreDB acknowledged ${streamId}@${revision} but the event cannot be read back`);
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    const raw: ResolvedEvent[] = [];
    try {
      // The loop body never throws: a read left half-way would hold up dispose().
      for await (const resolved of this.client.readStream(streamId, toReadStreamOptions(options))) raw.push(resolved);
    } catch (error) {
      if (isStreamNotFoundError(error)) return [];
      throw asStorageFault(error, 'eventStore') ?? error;
    }
    return raw.flatMap((resolved) => toStoredEvent(resolved) ?? []);
  }

  async readAll(after: Position | null, limit: number): Promise<StoredEvent[]> {
    this.assertOpen();
    const out: StoredEvent[] = [];
    if (!(limit > 0)) return out;
    let from = after;
    for (;;) {
      const want = limit - out.length;
      // +1: the server's start is inclusive, the event at `from` comes back and is dropped.
      const maxCount = Math.min(Math.max(want + 1, MIN_FORWARD_PAGE), MAX_FORWARD_PAGE);
      const raw: AllStreamResolvedEvent[] = [];
      // Whole pages, mapped afterwards: a read left half-way would hold up dispose().
      for await (const resolved of this.client.readAll({ fromPosition: toReadPosition(from), maxCount }) as AsyncIterable<AllStreamResolvedEvent>) {
        raw.push(resolved);
      }
      let lastRaw: Position | null = null;
      const page: StoredEvent[] = [];
      for (const resolved of raw) {
        const e = resolved.event;
        if (!e) continue;
        lastRaw = positionFrom(e.position) ?? lastRaw;
        if (isSystemEventType(e.type)) continue;
        const stored = toStoredEvent(resolved);
        if (stored) page.push(stored);
      }
      out.push(...selectAfter(page, from, want));
      if (out.length >= limit || raw.length < maxCount || lastRaw === null) return out;
      if (from !== null && lastRaw <= from) return out; // no progress: never loop forever
      from = lastRaw;
    }
  }

  async headPosition(): Promise<Position | null> {
    this.assertOpen();
    let from: ReadPosition = END;
    for (;;) {
      // Read whole (small) pages: a read abandoned half-way is never finished by the client and
      // would make dispose() wait for it forever.
      const page: AllStreamResolvedEvent[] = [];
      const read = this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: BACKWARD_PAGE });
      for await (const resolved of read as AsyncIterable<AllStreamResolvedEvent>) page.push(resolved);
      let lastRaw: Position | null = null;
      for (const resolved of page) {
        const e = resolved.event;
        const position = positionFrom(e?.position);
        if (!e || position === null) continue;
        if (!isSystemEventType(e.type)) return position;
        lastRaw = position;
      }
      if (page.length < BACKWARD_PAGE || lastRaw === null) return null;
      from = toEsdbPosition(lastRaw); // backward reads from a position are exclusive
    }
  }

  /**
   * Catch-up then live, one event per batch, strictly sequential (`for await`). The client does
   * not resubscribe: on an error, a thrown handler or the server ending the call, this loop
   * resubscribes from the last handled position (exclusive) with backoff, so nothing is skipped
   * and a failed event is delivered again.
   */
  async subscribeToAll(
    after: Position | null,
    handle: (events: StoredEvent[]) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    this.assertOpen();
    const stop = new AbortController();
    const onStop = () => stop.abort();
    signal.addEventListener('abort', onStop, { once: true });
    this.closing.signal.addEventListener('abort', onStop, { once: true });
    if (signal.aborted || this.closing.signal.aborted) stop.abort();

    let position = after;
    let delay = this.backoff.initial;
    try {
      while (!stop.signal.aborted) {
        const subscription = this.client.subscribeToAll({
          fromPosition: toReadPosition(position),
          filter: excludeSystemEvents(),
        });
        // To leave a subscription, cancel the call and keep iterating (without handling) until
        // it ends: cancelling pushes the end of the stream, whereas breaking out of the loop
        // would destroy the client's stream and strand a call the server had already completed,
        // which dispose() then waits for forever. The destroy() fallback should never fire.
        let failure: unknown = null;
        let fallback: NodeJS.Timeout | undefined;
        const abandon = () => {
          void subscription.unsubscribe().catch(() => undefined);
          fallback ??= setTimeout(() => subscription.destroy(), ABANDON_FALLBACK_MS).unref();
        };
        stop.signal.addEventListener('abort', abandon, { once: true });
        try {
          for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
            if (failure !== null || stop.signal.aborted) continue; // draining
            try {
              const e = resolved.event;
              if (!e || isSystemEventType(e.type)) continue;
              const stored = toStoredEvent(resolved);
              if (!stored || (position !== null && stored.position <= position)) continue;
              await handle([stored]);
              position = stored.position;
              delay = this.backoff.initial;
            } catch (error) {
              failure = error;
              abandon();
            }
          }
          failure ??= new Error('EventStoreDB ended the $all subscription');
        } catch (error) {
          failure ??= error; // the call failed (server unavailable, access denied, dropped, …)
        } finally {
          clearTimeout(fallback);
          stop.signal.removeEventListener('abort', abandon);
        }
        if (stop.signal.aborted) break;
        this.onError(failure);
        await sleepUnlessAborted(delay, stop.signal);
        delay = Math.min(delay * 2, this.backoff.max);
      }
    } finally {
      signal.removeEventListener('abort', onStop);
      this.closing.signal.removeEventListener('abort', onStop);
    }
  }

  /**
   * Stops this instance's subscriptions and disposes of the client. The client's dispose() waits
   * for every call it tracks to finish, and a call the server had already completed while its
   * last messages were unread (a subscription ended by the server just as it was abandoned)
   * never does: the wait is bounded.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await disposeWithin(this.client, this.disposeTimeoutMs);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('Event store is closed');
  }
}

/** One event read backwards from the end of `$all`, bounded by our own timer (the client's read has none). */
async function probe(client: EventStoreDBClient, timeoutMs: number): Promise<void> {
  const read = client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
  const drained = (async () => {
    for await (const _ of read) {
      // one event at most
    }
  })();
  drained.catch(() => undefined); // the timer may win; never leave a rejection unhandled
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([drained, timedOut]);
  } finally {
    clearTimeout(timer);
    void cancelQuietly(read); // not awaited: it waits for the call to exist, which may never happen
  }
}

async function disposeWithin(client: EventStoreDBClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.dispose().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

async function cancelQuietly(read: StreamingRead<unknown>): Promise<void> {
  try {
    await read.cancel();
  } catch {
    // already finished
  }
}


function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
