/**
 * One timer for the heartbeats of every open stream, not one per stream. Streams are dealt
 * round-robin into SLICES groups and the timer visits one group every `intervalMs / SLICES`,
 * so each stream still gets a heartbeat every `intervalMs`, and ten thousand streams do not
 * all write at the same moment (a broadcast then would wait behind them). The timer runs only
 * while a stream is open, and does not keep the process alive.
 */
import { EncodedFrame } from './sse-stream.js';

const SLICES = 10;

export interface Beating {
  heartbeat(frame: EncodedFrame): void;
}

export class Heartbeat {
  private readonly slices: Set<Beating>[] = Array.from({ length: SLICES }, () => new Set());
  private nextSlice = 0;
  private tick = 0;
  private size = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  /** Starts beating for `stream`; returns what stops it (idempotent). */
  add(stream: Beating): () => void {
    const slice = this.slices[this.nextSlice]!;
    this.nextSlice = (this.nextSlice + 1) % SLICES;
    slice.add(stream);
    this.size++;
    this.timer ??= setInterval(() => this.beat(), this.intervalMs / SLICES).unref();
    return () => {
      if (!slice.delete(stream)) return;
      if (--this.size > 0 || this.timer === null) return;
      clearInterval(this.timer);
      this.timer = null;
    };
  }

  private beat(): void {
    const slice = this.slices[this.tick]!;
    this.tick = (this.tick + 1) % SLICES;
    const frame = new EncodedFrame(`: heartbeat ${Date.now()}\n\n`);
    for (const stream of slice) stream.heartbeat(frame);
  }
}
