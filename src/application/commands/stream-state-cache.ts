/**
 * The folded state of recently used streams, so a command reads only the tail of its stream
 * instead of the whole history (a hot conversation has thousands of events).
 *
 * Correct with writers in other processes (the projector's and workers' process, other API
 * instances): the cache is never trusted alone. A load reads the stream from the cached
 * revision on, checks that the event there is the one the entry ended with (the same history),
 * and folds the tail in. An entry holds only what the store returned — events read, or a
 * command's own events once their append succeeded (`rememberAppended`) — so it is a verified
 * prefix of the stream; an append that loses a race simply re-reads the (longer) tail. The one
 * caller that skips the tail read (`cachedFold`, a brand-new command: run-decision.ts) lets the
 * append's expected revision do that check instead.
 *
 * Keyed by event store instance (two stores in one process, e.g. tests, never share entries),
 * by fold (the `evolve` function: decisions on one stream with different evolve/initial never
 * see each other's state) and by stream. An `evolve` must be a stable function (module level)
 * that always folds from the same `initial`: a closure made per call still works but never hits.
 *
 * Cost per entry (measured with conversations): ~1.5 KB for one of 5 events; ~190 bytes per event
 * for long ones (~95 per command id kept for idempotent retries, ~95 per message the state
 * tracks), ~565 KiB for 3,000 guest messages. Bounded per store by MAX_STREAMS entries and
 * MAX_FOLDED_EVENTS events folded in all (~100 MB at worst), least recently used evicted first.
 */
import { LRUCache } from 'lru-cache';
import type { EventStore, Position, Revision, StoredEvent } from '../ports/event-store.js';

const MAX_STREAMS = 10_000;
const MAX_FOLDED_EVENTS = 500_000;

export interface Fold<S, E> {
  initial: S;
  evolve: (state: S, event: E) => S;
}

/** A stream folded up to `revision`, from events read from the store only. */
export interface FoldedStream<S> {
  state: S;
  /** Revision of the last event folded; null: the stream did not exist. */
  revision: Revision | null;
  lastEventId: string | null;
  lastPosition: Position | null;
  /**
   * Each command id found in the stream, with the revision of its first event: a retried
   * command is answered from its events, read again from there (retries are rare; keeping
   * every event's data for them would cost as much memory as the history). Shared by the
   * successive entries of one stream and only ever added to, with facts read from the store.
   */
  commands: Map<string, Revision>;
}

type Cache = LRUCache<string, FoldedStream<unknown>>;
const caches = new WeakMap<EventStore, Cache>();
const foldIds = new WeakMap<Function, number>();
let nextFoldId = 0;

function entryKey(evolve: Function, streamId: string): string {
  let id = foldIds.get(evolve);
  if (id === undefined) foldIds.set(evolve, (id = ++nextFoldId));
  return `${id}:${streamId}`;
}

const eventsFolded = (folded: FoldedStream<unknown>) => (folded.revision === null ? 1 : Number(folded.revision) + 1);

function cacheOf(store: EventStore): Cache {
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new LRUCache({ max: MAX_STREAMS, maxSize: MAX_FOLDED_EVENTS, sizeCalculation: eventsFolded })));
  return cache;
}

/** The stream folded to its current end: the cached prefix plus the tail read now, or the whole stream. */
export async function loadFolded<S, E>(store: EventStore, streamId: string, fold: Fold<S, E>): Promise<FoldedStream<S>> {
  const cache = cacheOf(store);
  const key = entryKey(fold.evolve, streamId);
  const cached = cache.get(key) as FoldedStream<S> | undefined;
  if (cached && cached.revision !== null) {
    const tail = await store.readStream(streamId, { fromRevision: cached.revision });
    const first = tail[0];
    if (first !== undefined && first.id === cached.lastEventId && first.revision === cached.revision) {
      if (tail.length === 1) return cached;
      return remember(cache, key, foldIn(cached, tail, 1, fold.evolve));
    }
    cache.delete(key); // not the history the entry folded: start over
  }
  const history = await store.readStream(streamId);
  const folded = foldIn<S, E>({ state: fold.initial, revision: null, lastEventId: null, lastPosition: null, commands: new Map() }, history, 0, fold.evolve);
  return folded.revision === null ? folded : remember(cache, key, folded);
}

/**
 * The cached fold as it is, unchecked (undefined: none, or the stream did not exist): possibly
 * behind the store. Only for a decision whose append states the fold's revision as expected,
 * which the store refuses if anything was appended since (run-decision.ts).
 */
export function cachedFold<S, E>(store: EventStore, streamId: string, fold: Fold<S, E>): FoldedStream<S> | undefined {
  const cached = cacheOf(store).get(entryKey(fold.evolve, streamId)) as FoldedStream<S> | undefined;
  return cached && cached.revision !== null ? cached : undefined;
}

/**
 * After `base` and then a command's own events were confirmed by the store (an append with
 * `base.revision` expected succeeded): the entry moves on to them, so the next command on the
 * stream finds it current. `ids` are the appended events' ids; `appended` what the store said.
 */
export function rememberAppended<S, E extends { type: string; data: object }>(
  store: EventStore,
  streamId: string,
  fold: Fold<S, E>,
  base: FoldedStream<S>,
  command: { commandId: string; events: E[]; ids: string[]; revision: Revision; position: Position },
): void {
  const cache = cacheOf(store);
  const key = entryKey(fold.evolve, streamId);
  const current = cache.get(key);
  if (current && current !== base && current.revision !== null && current.revision >= command.revision) return; // a longer one is there
  const firstRevision = command.revision - BigInt(command.events.length - 1);
  if (!base.commands.has(command.commandId)) base.commands.set(command.commandId, firstRevision);
  const state = command.events.reduce(fold.evolve, base.state);
  cache.set(key, { state, revision: command.revision, lastEventId: command.ids[command.ids.length - 1]!, lastPosition: command.position, commands: base.commands });
}

/** The folded state only (for commands that read a stream they do not decide on). */
export async function readFolded<S, E>(store: EventStore, streamId: string, fold: Fold<S, E>): Promise<S> {
  return (await loadFolded(store, streamId, fold)).state;
}

/** Drops an entry the store contradicts (it says the stream is shorter than the entry). */
export function forgetFolded<S, E>(store: EventStore, streamId: string, fold: Fold<S, E>): void {
  cacheOf(store).delete(entryKey(fold.evolve, streamId));
}

function remember<S>(cache: Cache, key: string, folded: FoldedStream<S>): FoldedStream<S> {
  // A concurrent load (reads do not take the stream's lock) may have stored a longer one already.
  const current = cache.get(key);
  if (!current || current.revision === null || (folded.revision !== null && folded.revision >= current.revision)) cache.set(key, folded);
  return folded;
}

function foldIn<S, E>(base: FoldedStream<S>, events: StoredEvent[], from: number, evolve: (state: S, event: E) => S): FoldedStream<S> {
  if (from >= events.length) return base;
  let state = base.state;
  for (let i = from; i < events.length; i++) {
    const event = events[i]!;
    // A stored event has the domain event's type and data (plus more): no copy per event.
    state = evolve(state, event as unknown as E);
    const commandId = event.metadata.commandId;
    if (!base.commands.has(commandId)) base.commands.set(commandId, event.revision);
  }
  const last = events[events.length - 1]!;
  return { state, revision: last.revision, lastEventId: last.id, lastPosition: last.position, commands: base.commands };
}
