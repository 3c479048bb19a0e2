/**
 * TEST ONLY (`LCT_TEST_CLOCK_FILE`): the time is the ISO instant written in a file, so a test
 * can set and advance it — also for a real child process across a SIGKILL and restart, which
 * an in-memory fake cannot follow. The clock stands still between writes.
 *
 * The file is re-read at most every `rereadMs` (50 ms). A file that is missing, being
 * replaced or unparsable keeps the last good time (write it atomically: temp file + rename);
 * with no good time ever read, `now()` throws, naming the file, rather than guessing.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../application/ports/clock.js';

/** How stale a file clock may be: a test that sets the time waits this long before relying on it. */
export const FILE_CLOCK_REREAD_MS = 50;

export class FileClock implements Clock {
  private last: Date | null = null;
  private readAt = -Infinity;

  constructor(
    readonly file: string,
    private readonly rereadMs = FILE_CLOCK_REREAD_MS,
  ) {
    this.read();
  }

  now(): Date {
    if (performance.now() - this.readAt >= this.rereadMs) this.read();
    if (this.last === null) throw new Error(`test clock file ${this.file} holds no ISO time`);
    return new Date(this.last.getTime());
  }

  private read(): void {
    this.readAt = performance.now();
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8').trim();
    } catch {
      return;
    }
    const ms = Date.parse(text);
    if (/^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(ms)) this.last = new Date(ms);
  }
}

/** Sets a test clock file to `at`, atomically (temp file + rename), so a reader never sees half a write. */
export function writeClockFile(file: string, at: Date): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, at.toISOString());
  renameSync(tmp, file);
}
