/**
 * The newest stretch of the log this process has read, parsed: every log consumer of a process
 * (projector, AVA, push notifier, escalation watcher) reads every event, and turning a row into
 * a StoredEvent (two JSON.parse) cost more than the query; with this, each event is parsed once
 * per process while the consumers keep up with each other.
 *
 * The stretch is exactly what the log holds in (`after`, last held]: it only ever grows by a
 * read that starts where it ends, and it stays true because positions are handed out in commit
 * order (SQLite serializes writers, a new row's id is the largest plus one, events are never
 * deleted) — once a read has seen the log up to p, nothing can appear at or below p. A read
 * that starts before the stretch (a rebuild, a consumer far behind) goes to the store and
 * leaves the stretch alone. Bounded: it holds at most twice `capacity` events, the oldest go first.
 */
import type { Position, StoredEvent } from '../../application/ports/event-store.js';

export class RecentEvents {
  /** Positions of `events` follow `after`, in order, with nothing of the log left out. */
  private after: Position = -1n;
  private events: StoredEvent[] = [];

  constructor(private readonly capacity = 5000) {}

  /** `readAll(after, limit)`, served from the stretch where it can be; `query` reads the store. */
  read(after: Position, limit: number, query: (after: Position, limit: number) => StoredEvent[]): StoredEvent[] {
    const last = this.events.length > 0 ? this.events[this.events.length - 1]!.position : this.after;
    if (after < this.after || after > last) {
      const found = query(after, limit);
      if (after > last && found.length > 0) this.restart(after, found); // ahead of the stretch: a new one starts there
      return found;
    }
    const held = this.events.slice(this.indexAfter(after), undefined);
    if (held.length >= limit) return held.slice(0, limit);
    const fresh = query(last, limit - held.length);
    this.extend(fresh);
    return held.length === 0 ? fresh : held.concat(fresh);
  }

  /** Index of the first held event after `position` (binary search: positions grow). */
  private indexAfter(position: Position): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.position <= position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private restart(after: Position, events: StoredEvent[]): void {
    this.after = after;
    this.events = [];
    this.extend(events);
  }

  /** Beyond twice the capacity, back to the newest `capacity` (amortized: no copy per read). */
  private extend(events: StoredEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) this.events.push(e);
    if (this.events.length <= 2 * this.capacity) return;
    const excess = this.events.length - this.capacity;
    this.after = this.events[excess - 1]!.position;
    this.events = this.events.slice(excess);
  }
}
