/**
 * The catch-up loop shared by adapters whose log can be polled: read what is there in
 * batches, hand each batch over sequentially, then wait for more. A failing handler or read
 * is retried from the last handled position with backoff, so nothing is skipped.
 */
import type { Position, StoredEvent } from './event-store.js';

export interface CatchUpOptions {
  after: Position | null;
  handle: (events: StoredEvent[]) => Promise<void>;
  signal: AbortSignal;
  readAll: (after: Position | null, limit: number) => Promise<StoredEvent[]>;
  waitForAppend: () => Promise<void>;
  batchSize?: number;
  onError?: (error: unknown) => void;
}

export async function catchUpSubscription(o: CatchUpOptions): Promise<void> {
  let position = o.after;
  let backoffMs = 50;
  const batchSize = o.batchSize ?? 500;
  while (!o.signal.aborted) {
    try {
      const events = await o.readAll(position, batchSize);
      if (o.signal.aborted) return;
      if (events.length === 0) {
        await o.waitForAppend();
        continue;
      }
      await o.handle(events);
      position = events[events.length - 1]!.position;
      backoffMs = 50;
    } catch (error) {
      if (o.signal.aborted) return;
      (o.onError ?? ((e) => console.error('subscription error, retrying', e)))(error);
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 5000);
    }
  }
}
