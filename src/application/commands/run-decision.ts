/**
 * The one way commands change state: load the stream's folded state (a cached prefix plus the
 * tail read now: stream-state-cache.ts; a brand-new command skips the read, see `isNewCommand`),
 * decide, append with the exact expected revision. A concurrency conflict means someone else
 * appended in between: re-read the tail and decide again (bounded), so only a real rule
 * violation reaches the client.
 *
 * Event ids derive from the command id, and a command whose events are already in the stream
 * is answered from them: a retried command is a no-op.
 */
import AsyncLock from 'async-lock';
import { uuidV5 } from '../../domain/name-based-id.js';
import { DomainError } from '../../domain/errors.js';
import { splitCommandId } from './command-id.js';
import {
  type EventMetadata,
  type EventStore,
  type Position,
  type Revision,
  WrongExpectedVersionError,
} from '../ports/event-store.js';
import { type FoldedStream, cachedFold, forgetFolded, loadFolded, rememberAppended } from './stream-state-cache.js';

const EVENT_ID_NAMESPACE = 'b8a4c1d2-3e5f-4a6b-8c7d-9e0f1a2b3c4d';
const MAX_ATTEMPTS = 20;

export interface DomainEvent {
  type: string;
  data: object;
}

export interface Decision<S, E extends DomainEvent> {
  streamId: string;
  initial: S;
  /**
   * Pure, and stable: a module-level function that always folds from the same `initial`
   * (the folded-state cache is keyed by it; a closure made per call works but never hits).
   */
  evolve: (state: S, event: E) => S;
  /** Throws DomainError on a rule violation; [] means nothing to record. */
  decide: (state: S) => E[];
  metadata: EventMetadata;
}

export interface DecisionResult<S, E> {
  state: S;
  /** Events this command produced (also when answered from a previous identical attempt). */
  events: E[];
  /** Position of the command's last event, or of the stream's last event when nothing was appended. */
  position: Position | null;
  /** Revision of that same event (null: the stream does not exist). */
  revision: Revision | null;
  replayed: boolean;
}

export const eventId = (commandId: string, index: number) => uuidV5(`${splitCommandId(commandId).commandId}:${index}`, EVENT_ID_NAMESPACE);

/** A stable id derived from a command id, e.g. for the message a reply creates. */
export const derivedId = (commandId: string, purpose: string) => uuidV5(`${splitCommandId(commandId).commandId}:${purpose}`, EVENT_ID_NAMESPACE);

/**
 * Commands on one stream run one at a time in this process (HTTP and workers alike: a guest's
 * messages and AVA's replies to them): without it, concurrent commands on a hot conversation
 * re-read and re-decide against each other until they run out of attempts. Only writers in
 * other processes can still conflict; a conflict that outlasts MAX_ATTEMPTS is thrown as it is
 * (HTTP: 503 `stream_busy` with Retry-After). Waiters are not bounded here: request rates are.
 */
const streamLocks = new AsyncLock({ maxPending: Infinity });

export function runDecision<S, E extends DomainEvent>(store: EventStore, d: Decision<S, E>): Promise<DecisionResult<S, E>> {
  return streamLocks.acquire(d.streamId, () => decideWithRetries(store, d));
}

async function decideWithRetries<S, E extends DomainEvent>(
  store: EventStore,
  d: Decision<S, E>,
): Promise<DecisionResult<S, E>> {
  // The request's fingerprint, if the command id carries one, goes into the metadata (command-id.ts).
  const { commandId, requestFingerprint } = splitCommandId(d.metadata.commandId);
  const metadata: EventMetadata = { ...d.metadata, commandId, ...(requestFingerprint ? { requestFingerprint } : {}) };
  for (let attempt = 1; ; attempt++) {
    // A brand-new command decides on the cached fold without reading the tail: if the stream
    // moved on meanwhile, the append's expected revision fails and the next attempt reads it.
    // What the append cannot check, a refusal or "nothing to do", is decided again on a read fold.
    const trusted = attempt === 1 && isNewCommand(commandId) ? cachedFold(store, d.streamId, d) : undefined;
    const folded = trusted ?? (await loadFolded(store, d.streamId, d));
    const { state } = folded;

    const firstRevision = folded.commands.get(commandId);
    if (firstRevision !== undefined) {
      const replay = await replayed(store, d, folded, commandId, firstRevision, requestFingerprint);
      if (replay) return replay;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`${d.streamId}: the events of command ${commandId} cannot be read back`);
      continue; // the store does not have what the cache recorded: read it whole again
    }

    let events: E[];
    try {
      events = d.decide(state);
    } catch (error) {
      if (trusted && error instanceof DomainError) continue;
      throw error;
    }
    if (events.length === 0) {
      if (trusted) continue;
      return { state, events, position: folded.lastPosition, revision: folded.revision, replayed: false };
    }

    try {
      const ids = events.map((_, i) => eventId(commandId, i));
      const result = await store.append(
        d.streamId,
        events.map((e, i) => ({ id: ids[i]!, type: e.type, data: e.data, metadata })),
        folded.revision ?? 'no_stream',
      );
      rememberAppended(store, d.streamId, d, folded, { commandId, events, ids, revision: result.revision, position: result.position });
      return { state: events.reduce(d.evolve, state), events, position: result.position, revision: result.revision, replayed: false };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError) || attempt >= MAX_ATTEMPTS) throw error;
      // Lost a race: someone appended in between; the next attempt reads the longer tail. A
      // stream shorter than the cached fold contradicts the cache: drop it, read it whole.
      if (folded.revision !== null && (error.actual === 'no_stream' || error.actual < folded.revision)) forgetFolded(store, d.streamId, d);
      await new Promise((r) => setTimeout(r, Math.random() * attempt * 2));
    }
  }
}

/**
 * A random (version 4) id is made per request for a command sent without an Idempotency-Key
 * (command-context.ts): it cannot be a retry, so its events cannot be in the stream already.
 * Every other id (derived from a key, or by a worker from what it reacts to) may come again.
 */
const RANDOM_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const isNewCommand = (commandId: string) => RANDOM_UUID.test(commandId);

/**
 * The answer to a command already in the stream: its events, read again from its first
 * revision (the cache keeps only where they are), after checking it is the same request.
 * Null when they are not there (the cache contradicted by the store; dropped).
 */
async function replayed<S, E extends DomainEvent>(
  store: EventStore,
  d: Decision<S, E>,
  folded: FoldedStream<S>,
  commandId: string,
  firstRevision: Revision,
  requestFingerprint: string | undefined,
): Promise<DecisionResult<S, E> | null> {
  const earlier = (await store.readStream(d.streamId, { fromRevision: firstRevision })).filter((e) => e.metadata.commandId === commandId);
  if (earlier[0]?.revision !== firstRevision) {
    forgetFolded(store, d.streamId, d);
    return null;
  }
  ensureSameRequest(earlier[0].metadata, requestFingerprint);
  return {
    state: folded.state,
    events: earlier.map((e) => ({ type: e.type, data: e.data }) as E),
    position: earlier[earlier.length - 1]!.position,
    revision: earlier[earlier.length - 1]!.revision,
    replayed: true,
  };
}

/**
 * A command id found in the log again is a retry only if it comes from the same request: the
 * same Idempotency-Key with another request (another body, after the store of first answers was
 * lost) must not be answered with the first request's events. Events without a fingerprint
 * (from commands not sent over HTTP, or recorded before fingerprints were) cannot be compared.
 */
function ensureSameRequest(first: EventMetadata, requestFingerprint: string | undefined): void {
  if (requestFingerprint === undefined || first.requestFingerprint === undefined || first.requestFingerprint === requestFingerprint) return;
  throw new DomainError('unprocessable', 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request');
}
