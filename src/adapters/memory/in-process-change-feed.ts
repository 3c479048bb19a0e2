/**
 * The embedded change feed: a bounded ring of recent entries in this process. A client whose
 * Last-Event-ID fell out of the ring (or predates this process) is told to refetch.
 */
import { EventEmitter } from 'node:events';
import { type ChangeEntry, type ChangeFeed, type FeedRead, compareChangeIds } from '../../application/ports/change-feed.js';

export class InProcessChangeFeed implements ChangeFeed {
  private readonly entries: ChangeEntry[] = [];
  private readonly emitter = new EventEmitter();
  /** Everything after this id is retained; anything at or before it may have been dropped. */
  private floor: string;

  constructor(
    private readonly capacity = 10_000,
    startAfter = '0-0',
  ) {
    this.floor = startAfter;
    this.emitter.setMaxListeners(0);
  }

  async publish(entries: ChangeEntry[]): Promise<void> {
    for (const entry of entries) {
      if (compareChangeIds(entry.id, this.newestId()) <= 0) continue;
      this.entries.push(entry);
      if (this.entries.length > this.capacity) this.floor = this.entries.shift()!.id;
      this.emitter.emit('entry', entry);
    }
  }

  async readAfter(afterId: string, limit: number): Promise<FeedRead> {
    if (compareChangeIds(afterId, this.floor) < 0) return { entries: [], tooOld: true };
    const start = this.entries.findIndex((e) => compareChangeIds(e.id, afterId) > 0);
    return { entries: start < 0 ? [] : this.entries.slice(start, start + limit), tooOld: false };
  }

  async lastId(): Promise<string> {
    return this.newestId();
  }

  subscribe(listener: (entry: ChangeEntry) => void): () => void {
    this.emitter.on('entry', listener);
    return () => this.emitter.off('entry', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }

  private newestId(): string {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.id : this.floor;
  }
}
