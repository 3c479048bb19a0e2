/**
 * Named, expiring, exclusive leases: "at most one process runs X at a time". A process that
 * holds a lease renews it well before it expires; when it dies, the lease runs out and another
 * process takes over.
 *
 * Time: expiry is wall-clock milliseconds (`Date.now()`) of the calling process, stored with
 * the lease. A contender treats the lease as free once `expiresAt <= its own Date.now()`. So the
 * processes sharing a lease must have clocks that agree to well within the safety margin the
 * holder keeps (LeasedRunner: ttl/3). On one machine this holds trivially; across machines it
 * needs NTP-synchronised clocks (skew of a few ms against a margin of seconds).
 *
 * Safety contract of `tryAcquire`: take `t0 = Date.now()` just before calling; when it answers
 * `true`, no other owner can acquire the lease before `t0 + ttlMs` (the stored expiry is at
 * least that). The holder must stop using the lease before then unless a later renewal
 * succeeds — LeasedRunner does exactly that.
 */
export interface LeaseHolder {
  owner: string;
  /** Wall-clock ms (Date.now() of the process that wrote it). */
  expiresAt: number;
}

export interface LeaseStore {
  /**
   * Acquires `name` for `owner` until `now + ttlMs` when the lease is free, expired, or already
   * `owner`'s (which renews it). Answers whether `owner` holds it now; `false` when another
   * owner holds an unexpired lease (or this call cannot prove it was not overtaken, e.g. a
   * renewal that landed after the lease it extends had run out).
   */
  tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Frees `name` if `owner` holds it; does nothing otherwise (never frees another's lease). */
  release(name: string, owner: string): Promise<void>;
  /** The current, unexpired holder, or null when the lease is free (for health and tests). */
  holder(name: string): Promise<LeaseHolder | null>;
  close(): Promise<void>;
}
