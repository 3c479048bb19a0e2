/**
 * The one processor model for every consumer of the log (projector, AVA, push notifier, …):
 * a checkpoint of its own, catch-up then live, sequential batches, start/stop. What a batch
 * returns as document writes commits together with the checkpoint (one SQLite transaction
 * embedded; documents first, checkpoint last on MongoDB), so a crash anywhere only causes
 * redelivery from the last checkpoint, and every processor must tolerate that.
 *
 * A batch that writes nothing and carries no further checkpoints (AVA, the push notifier on the
 * events they do not act on: most batches) does not commit at once: its checkpoint is written
 * with the next batch that commits, or CHECKPOINT_DEFER_MS after it, or at stop. A checkpoint-only
 * transaction per batch and consumer was ~20% of `npm start`'s child process at moderate load;
 * the price is at most that long of redelivery after a crash, which every processor tolerates.
 *
 * Run it under a LeasedRunner: one consumer per checkpoint at a time, across processes.
 */
import { Logger } from '@nestjs/common';
import type { EventStore, Position, StoredEvent } from '../ports/event-store.js';
import type { DocWrite, ReadModelStore } from '../ports/read-models.js';

export interface LogProcessor {
  /** Checkpoint key, with a version (`name@1`): a new version starts over from `startFrom`. */
  readonly checkpoint: string;
  /**
   * Where a processor without a checkpoint begins: `start` replays the whole log (read
   * models); `end` acts only on what happens from now on (side effects: a new deployment
   * or a rebuild never answers or pushes the past).
   */
  readonly startFrom: 'start' | 'end';
  /** Runs before the first batch of every start (indexes, caches). */
  prepare?(): Promise<void>;
  /**
   * Where to resume, for a processor that keeps positions of its own (a projector group resumes
   * from its least advanced member); `undefined`: from the stored `checkpoint` (or `startFrom`).
   */
  resumeAfter?(): Promise<Position | null | undefined>;
  /** Further checkpoints to commit with the batch that ends at `last` (a group's members). */
  checkpointsAt?(last: Position): ReadonlyArray<readonly [string, Position]>;
  /** The batch that ends at `last` is committed (with its writes and checkpoints). */
  committed?(last: Position): void;
  /**
   * Handles one batch, in log order. Writes it returns commit with the checkpoint. `signal`
   * aborts when the consumer stops (e.g. its lease is being lost): long work should end early.
   */
  handle(batch: StoredEvent[], signal: AbortSignal): Promise<DocWrite[] | void>;
}

/** How long a batch that wrote nothing may leave the stored checkpoint behind. */
export const CHECKPOINT_DEFER_MS = 1000;

export class LogConsumer {
  private readonly logger: Logger;
  private abort = new AbortController();
  private running: Promise<void> | null = null;
  private lastApplied: Position | null = null;
  /** Applied, its checkpoint not written yet (see the header), and the timer that writes it. */
  private deferred: Position | null = null;
  private deferTimer: NodeJS.Timeout | null = null;
  /** Checkpoint writes, one after the other (a deferred one never lands after a newer one). */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly processor: LogProcessor,
    private readonly events: EventStore,
    private readonly store: ReadModelStore,
  ) {
    this.logger = new Logger(`Consumer:${processor.checkpoint}`);
  }

  get name(): string {
    return this.processor.checkpoint;
  }

  /** Last position this process committed (the stored checkpoint may be ahead, from another process). */
  get position(): Position | null {
    return this.lastApplied;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.processor.prepare?.();
    const resume = await this.processor.resumeAfter?.();
    let after = resume !== undefined ? resume : await this.store.checkpoint(this.processor.checkpoint);
    if (after === null && resume === undefined && this.processor.startFrom === 'end') {
      after = await this.events.headPosition();
      if (after !== null) await this.store.commit(this.processor.checkpoint, [], after);
    }
    this.lastApplied = after;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.running = this.events.subscribeToAll(after, (batch) => this.apply(batch, signal), signal);
    this.logger.log(`started after position ${after ?? 'start'}`);
  }

  /**
   * Stops at a checkpoint: the batch in flight ends at its next bulk write (or when it is
   * computed), and its checkpoint is not written unless every write of it was.
   */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.running = null;
    await this.writeDeferred();
  }

  private async apply(batch: StoredEvent[], signal: AbortSignal): Promise<void> {
    const writes = (await this.processor.handle(batch, signal)) ?? [];
    // Stopped meanwhile: commit nothing more; the next holder gets this batch again.
    if (signal.aborted) throw new Error(`${this.processor.checkpoint} stopped`);
    const last = batch[batch.length - 1]!.position;
    const more = this.processor.checkpointsAt?.(last);
    if (writes.length === 0 && !more?.length) {
      this.deferred = last;
      this.deferTimer ??= setTimeout(() => void this.writeDeferred(), CHECKPOINT_DEFER_MS);
    } else {
      // A stop cuts a long commit short between bulk writes (SIGTERM must exit within 5 s, and a
      // big batch on FerretDB takes longer): no checkpoint moves, the next holder redelivers.
      this.deferred = null; // this commit's checkpoint is newer
      await this.serially(() => this.store.commit(this.processor.checkpoint, writes, last, more, signal));
    }
    this.processor.committed?.(last);
    this.lastApplied = last;
  }

  private writeDeferred(): Promise<void> {
    if (this.deferTimer) clearTimeout(this.deferTimer);
    this.deferTimer = null;
    const position = this.deferred;
    this.deferred = null;
    if (position === null) return this.writes;
    return this.serially(() => this.store.commit(this.processor.checkpoint, [], position)).catch((error: unknown) => {
      this.logger.warn(`could not write checkpoint ${position} (redelivered from the last one written): ${String(error)}`);
    });
  }

  private serially(write: () => Promise<void>): Promise<void> {
    const done = this.writes.then(write);
    this.writes = done.catch(() => undefined);
    return done;
  }
}
