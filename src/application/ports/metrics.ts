/**
 * What the application reports for monitoring. The adapter (Prometheus, one registry per
 * process) is adapters/observability/metrics.ts; commands and event-store appends are
 * measured around the ports (the command bus, the event store), so only what happens inside
 * the application's own loops is reported through here.
 */
import type { PushOutcome } from '../processing/push-delivery.js';

export interface AppMetrics {
  /** One Web Push attempt ended with this outcome (as journaled). */
  pushAttempted(outcome: PushOutcome): void;
}

export const NO_METRICS: AppMetrics = { pushAttempted() {} };
