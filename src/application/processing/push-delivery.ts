/**
 * Delivers push messages to subscriptions and journals every attempt (SPEC §2 "Alerts": a
 * push attempt's outcome is recorded per subscription: `delivered`, `retrying`, `failed`,
 * `subscription_gone`). Shared by the push notifier and the test push.
 *
 * - Each attempt is its own journal document (`alertId:subscriptionId:n`), written only once:
 *   the journal is append-only, so a redelivered batch can see exactly where it stopped.
 * - Journal entries are written behind, in groups: at most `flushEveryMs` (or `flushAt`
 *   entries) after the push service answered. That interval, plus the write itself, is the
 *   only window in which a crash makes the same alert reach the same subscription twice; the
 *   payload's alert id and the per-ticket Topic let the device collapse such a repeat.
 * - 429, 5xx, timeouts: retried with exponential backoff, never sooner than Retry-After,
 *   at most `maxAttempts` times and never waiting more than `maxWaitMs` once; then `failed`.
 * - 404/410: the subscription is gone; the caller removes it (an event) after this one push.
 */
import { type AppMetrics, NO_METRICS } from '../ports/metrics.js';
import type { PushMessage, PushResult, PushSender, PushTarget } from '../ports/push-sender.js';
import type { Doc, ReadModelStore } from '../ports/read-models.js';
import { sleepUnlessAborted } from '../sleep.js';

export const PUSH_ATTEMPTS = 'pushAttempts';

export type PushOutcome = 'delivered' | 'retrying' | 'failed' | 'subscription_gone';

export interface PushAttemptDoc extends Doc {
  alertId: string;
  subscriptionId: string;
  propertyId: string;
  employeeId: string;
  conversationId: string | null;
  /** Only the origin of the endpoint: the full URL is a capability and stays private. */
  pushService: string;
  attempt: number;
  status: PushOutcome;
  httpStatus: number | null;
  error: string | null;
  retryAfterMs: number | null;
  at: string;
}

export interface PushJob {
  alertId: string;
  propertyId: string;
  employeeId: string;
  conversationId: string | null;
  subscriptionId: string;
  target: PushTarget;
  message: PushMessage;
  /** Journal position (`_pos`) of the attempts: the alert's event position; 0 for a test push. */
  position: bigint;
  /** Attempts already journaled by an earlier run (resume after a crash). */
  previousAttempts: number;
}

export interface PushPolicy {
  maxAttempts: number;
  baseBackoffMs: number;
  maxWaitMs: number;
  concurrency: number;
  flushEveryMs: number;
  flushAt: number;
}

export const DEFAULT_PUSH_POLICY: PushPolicy = {
  maxAttempts: 5,
  baseBackoffMs: 1000,
  maxWaitMs: 60_000,
  concurrency: 32,
  flushEveryMs: 20,
  flushAt: 64,
};

export const attemptId = (alertId: string, subscriptionId: string, attempt: number) => `${alertId}:${subscriptionId}:${attempt}`;
export const isFinal = (status: PushOutcome) => status !== 'retrying';

export interface DeliveryResult {
  job: PushJob;
  final: PushAttemptDoc;
}

export class PushDelivery {
  private pending: PushAttemptDoc[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private flushError: unknown = null;

  constructor(
    private readonly sender: PushSender,
    private readonly store: ReadModelStore,
    private readonly policy: PushPolicy = DEFAULT_PUSH_POLICY,
    private readonly clock: () => Date = () => new Date(),
    private readonly metrics: AppMetrics = NO_METRICS,
  ) {}

  /**
   * Delivers every job (at most `concurrency` at once) and resolves when each has a final
   * outcome and the journal is written. `signal` ends waiting between retries: what is not
   * final then stays `retrying` and is resumed by the next run.
   */
  async deliverAll(jobs: PushJob[], signal: AbortSignal): Promise<DeliveryResult[]> {
    const results: DeliveryResult[] = [];
    let next = 0;
    const lane = async () => {
      while (next < jobs.length && !signal.aborted) {
        const job = jobs[next++]!;
        results.push({ job, final: await this.deliver(job, signal) });
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.policy.concurrency, jobs.length) }, lane));
    } finally {
      await this.flush();
    }
    // A journal write that failed in the background fails the run: the caller retries it,
    // and the attempts it could not record are made again (the bounded repeat above).
    if (this.flushError !== null) {
      const error = this.flushError;
      this.flushError = null;
      throw error;
    }
    return results;
  }

  private async deliver(job: PushJob, signal: AbortSignal): Promise<PushAttemptDoc> {
    for (let attempt = job.previousAttempts + 1; ; attempt++) {
      const result = await this.sender.send(job.target, job.message);
      const wait = this.retryWait(result, attempt);
      const doc = this.record(job, attempt, result, wait === null ? null : wait);
      if (doc.status !== 'retrying') return doc;
      await sleepUnlessAborted(wait!, signal);
      if (signal.aborted) return doc;
    }
  }

  /** Milliseconds to wait before the next attempt, or null when this outcome is final. */
  private retryWait(result: PushResult, attempt: number): number | null {
    if (result.kind !== 'retry' || attempt >= this.policy.maxAttempts) return null;
    const backoff = this.policy.baseBackoffMs * 2 ** (attempt - 1);
    const wait = Math.max(backoff, result.retryAfterMs ?? 0);
    return wait > this.policy.maxWaitMs ? null : wait;
  }

  private record(job: PushJob, attempt: number, result: PushResult, waitMs: number | null): PushAttemptDoc {
    const status: PushOutcome =
      result.kind === 'accepted' ? 'delivered' : result.kind === 'gone' ? 'subscription_gone' : waitMs === null ? 'failed' : 'retrying';
    const doc: PushAttemptDoc = {
      _id: attemptId(job.alertId, job.subscriptionId, attempt),
      _pos: job.position,
      alertId: job.alertId,
      subscriptionId: job.subscriptionId,
      propertyId: job.propertyId,
      employeeId: job.employeeId,
      conversationId: job.conversationId,
      pushService: originOf(job.target.endpoint),
      attempt,
      status,
      httpStatus: result.status,
      error: result.kind === 'retry' || result.kind === 'rejected' ? result.error.slice(0, 300) : null,
      retryAfterMs: result.kind === 'retry' ? result.retryAfterMs : null,
      at: this.clock().toISOString(),
    };
    this.metrics.pushAttempted(status);
    this.pending.push(doc);
    if (this.pending.length >= this.policy.flushAt) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.policy.flushEveryMs);
    return doc;
  }

  /** Writes what is pending; flushes run one after another, so the journal keeps its order. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const docs = this.pending.splice(0);
    this.flushing = this.flushing.then(async () => {
      if (docs.length === 0) return;
      try {
        await this.store.write(docs.map((doc) => ({ collection: PUSH_ATTEMPTS, doc })));
      } catch (error) {
        this.flushError ??= error;
      }
    });
    return this.flushing;
  }
}

function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return 'invalid';
  }
}
