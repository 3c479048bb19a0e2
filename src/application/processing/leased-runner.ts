/**
 * Runs a piece of work (a projector, a reactor) only while this process holds a lease, so at
 * most one process runs it at a time; when the holder dies, another takes over once the lease
 * expires (ttl, default 5 s), and resumes from the work's own checkpoint.
 *
 * - `start()` tries at once and, when the lease is free, resolves only after the work has
 *   started: a lone process starts exactly as fast as without a lease. Otherwise it keeps
 *   trying in the background every `retryEveryMs`.
 * - While holding, it renews every `renewEveryMs` (ttl/3).
 * - The holder must have stopped before anyone else can acquire. Each successful acquire/renew
 *   makes the lease ours until `t0 + ttl`, t0 taken (monotonic clock) just before the call; a
 *   contender can only take it after the stored expiry, which is later. The runner stops the
 *   work when a renewal answers `false`, and also — without waiting for a hanging store call —
 *   when no renewal succeeded by `t0 + ttl - safetyMarginMs` (ttl/3), leaving the margin for the
 *   work's `stop()` (which for a projector awaits the batch in flight).
 * - `stop()` stops the work, then releases the lease so a successor starts at once.
 *   `stop({ release: false })` leaves it to expire (what a crash looks like to the others).
 *
 * Start/stop of the work are serialised and idempotent; a failing start is retried on the next
 * successful renewal.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { LeaseStore } from '../ports/lease.js';
import { sleepUnlessAborted } from '../sleep.js';

export interface LeasedRunnerOptions {
  /** The lease's name, e.g. `projector`. */
  name: string;
  /** Default: `hostname:pid:random`, unique per runner. */
  owner?: string;
  /** Lease time to live; default 5000 ms. */
  ttlMs?: number;
  /** How often the holder renews; default ttl/3. */
  renewEveryMs?: number;
  /** How often a non-holder tries to acquire; default ttl/3. */
  retryEveryMs?: number;
  /** The holder stops the work when its lease has less than this left unrenewed; default ttl/3. */
  safetyMarginMs?: number;
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

export const DEFAULT_LEASE_TTL_MS = 5000;

export function leaseOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class LeasedRunner {
  readonly name: string;
  readonly owner: string;
  private readonly logger: Logger;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly retryEveryMs: number;
  private readonly safetyMarginMs: number;

  /** The lease is ours (as far as we can prove) until `validUntil` (performance.now() ms). */
  private held = false;
  private validUntil = 0;
  /** The work is started (its start() resolved and no stop() was called since). */
  private working = false;
  private work: Promise<void> = Promise.resolve();
  private closed = true;
  private loop: Promise<void> | null = null;
  private attempt: Promise<void> | null = null;
  private abort = new AbortController();
  private watchdog: NodeJS.Timeout | null = null;
  private lastError = false;

  constructor(
    private readonly leases: LeaseStore,
    private readonly options: LeasedRunnerOptions,
  ) {
    this.name = options.name;
    this.owner = options.owner ?? leaseOwnerId();
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.renewEveryMs = options.renewEveryMs ?? this.ttlMs / 3;
    this.retryEveryMs = options.retryEveryMs ?? this.ttlMs / 3;
    this.safetyMarginMs = options.safetyMarginMs ?? this.ttlMs / 3;
    if (this.renewEveryMs >= this.ttlMs - this.safetyMarginMs) {
      throw new Error(`Lease ${this.name}: renewEveryMs (${this.renewEveryMs}) must be below ttlMs - safetyMarginMs`);
    }
    this.logger = new Logger(`Lease:${this.name}`);
  }

  /** Whether this runner holds the lease and the work is running. */
  get running(): boolean {
    return this.working;
  }

  /** Tries once (starting the work when it gets the lease), then keeps trying/renewing in the background. */
  async start(): Promise<void> {
    if (!this.closed) return;
    this.closed = false;
    this.abort = new AbortController();
    await this.tryOnce(true);
    if (!this.closed) this.loop = this.runLoop();
  }

  /** Stops the work (awaiting it), ends the loop and, unless `release: false`, frees the lease. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.disarm();
    this.held = false;
    await this.setWork(false);
    await this.loop;
    await this.attempt; // a store call still in flight must not land after the release
    this.loop = null;
    if (options.release ?? true) {
      await this.leases.release(this.name, this.owner).catch((error: unknown) => {
        this.logger.warn(`could not release: ${String(error)}`);
      });
    }
  }

  private async runLoop(): Promise<void> {
    while (!this.closed) {
      const delay = this.held ? (this.lastError ? this.renewEveryMs / 2 : this.renewEveryMs) : this.retryEveryMs;
      await sleepUnlessAborted(delay, this.abort.signal);
      if (this.closed) return;
      await this.tryOnce(false);
    }
  }

  private tryOnce(awaitStart: boolean): Promise<void> {
    const attempt = this.acquireOrRenew(awaitStart);
    this.attempt = attempt;
    return attempt;
  }

  private async acquireOrRenew(awaitStart: boolean): Promise<void> {
    const t0 = performance.now();
    let acquired: boolean;
    try {
      acquired = await this.leases.tryAcquire(this.name, this.owner, this.ttlMs);
      this.lastError = false;
    } catch (error) {
      // Keep the work while the lease is still provably ours; the watchdog stops it otherwise.
      if (!this.lastError) this.logger.warn(`lease store error: ${String(error)}`);
      this.lastError = true;
      return;
    }
    if (this.closed) return;
    if (!acquired) {
      if (this.held) this.lose('the lease was taken over');
      return;
    }
    const validUntil = t0 + this.ttlMs;
    if (performance.now() >= validUntil - this.safetyMarginMs) {
      // Answered too late to leave time for a clean stop: do not rely on it.
      this.lose('the lease store answered too late');
      return;
    }
    if (!this.held) this.logger.log(`acquired by ${this.owner}`);
    this.held = true;
    this.validUntil = validUntil;
    this.arm();
    const started = this.setWork(true);
    if (awaitStart) await started;
  }

  /** Stops the work at once; the loop keeps trying to reacquire. */
  private lose(reason: string): void {
    if (!this.held) return;
    this.held = false;
    this.disarm();
    this.logger.warn(`lost (${reason}): stopping`);
    void this.setWork(false);
  }

  private arm(): void {
    this.disarm();
    const ms = this.validUntil - this.safetyMarginMs - performance.now();
    this.watchdog = setTimeout(() => this.lose('no renewal succeeded in time'), Math.max(0, ms));
  }

  private disarm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  /** Serialised, idempotent start/stop of the work; a start only happens while the lease is held. */
  private setWork(run: boolean): Promise<void> {
    this.work = this.work.then(async () => {
      if (run === this.working) return;
      if (run && (!this.held || this.closed)) return;
      try {
        if (run) {
          await this.options.start();
          this.working = true; // lost or stopped meanwhile: that stop is queued right behind
        } else {
          this.working = false;
          await this.options.stop();
        }
      } catch (error) {
        this.logger.error(`could not ${run ? 'start' : 'stop'}: ${String(error)}`);
      }
    });
    return this.work;
  }
}

