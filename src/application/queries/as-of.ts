/**
 * "As of a moment" for the operations histories (a conversation, a property's settings).
 *
 * A moment is compared with each event's own time, `data.at`: the time its command was
 * stamped with by the service's clock — the time every view shows (`updatedAt`, `openedAt`,
 * a message's `at`), and the one a test clock (`LCT_TEST_CLOCK_FILE`) moves. (`recordedAt`,
 * when the store wrote the event, comes from the store's own clock — EventStoreDB's server,
 * the SQLite writer's — a few milliseconds later; an `at` copied from a view would otherwise
 * miss its own event.) Events without `at` fall back to `recordedAt`.
 *
 * The state as of T folds the longest PREFIX of the stream whose events are all at or before
 * T: a command stamped a moment earlier but appended after a later one (a retried
 * concurrency conflict) counts from the later one on, so the answer is always a state the
 * stream really went through, never a mix.
 */
import type { StoredEvent } from '../ports/event-store.js';

export function eventTime(e: StoredEvent): number {
  const at = typeof e.data?.at === 'string' ? Date.parse(e.data.at) : Number.NaN;
  return Number.isFinite(at) ? at : e.recordedAt.getTime();
}

/** The events in effect at `at`, in stream order. */
export function eventsAsOf(events: readonly StoredEvent[], at: Date): StoredEvent[] {
  const end = events.findIndex((e) => eventTime(e) > at.getTime());
  return end === -1 ? [...events] : events.slice(0, end);
}
