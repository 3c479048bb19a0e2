/**
 * The event store as the service uses it: whichever adapter (SQLite, EventStoreDB), with
 * every append timed into `lct_event_store_append_duration_seconds` (until durable: the
 * SQLite writer's group commit and EventStoreDB's acknowledgement are inside the measurement).
 */
import {
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type ReadStreamOptions,
  type StoredEvent,
  WrongExpectedVersionError,
} from '../../application/ports/event-store.js';
import type { Metrics } from './metrics.js';

export class MeteredEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly metrics: Metrics,
  ) {}

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const end = this.metrics.appendSeconds.startTimer();
    try {
      const result = await this.inner.append(streamId, events, expected);
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: error instanceof WrongExpectedVersionError ? 'conflict' : 'error' });
      throw error;
    }
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    return this.inner.readStream(streamId, options);
  }

  readAll(after: Position | null, limit: number): Promise<StoredEvent[]> {
    return this.inner.readAll(after, limit);
  }

  headPosition(): Promise<Position | null> {
    return this.inner.headPosition();
  }

  subscribeToAll(after: Position | null, handle: (events: StoredEvent[]) => Promise<void>, signal: AbortSignal): Promise<void> {
    return this.inner.subscribeToAll(after, handle, signal);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
