import { Inject, Injectable } from '@nestjs/common';
import { findByIn } from '../processing/find-by-in.js';
import { PUSH_ATTEMPTS, type PushAttemptDoc } from '../processing/push-delivery.js';
import { PUSH_DECISIONS, type PushDecisionDoc } from '../processing/push-notifier.js';
import type { Filter, ReadModelStore } from '../ports/read-models.js';
import { READ_MODELS } from '../ports/tokens.js';
import { ALERT_DECISIONS, ALERTS, type AlertDecisionDoc, type AlertDoc, alertView } from '../projections/alerts.projection.js';
import { ProjectionsService } from '../projections/projections.service.js';

@Injectable()
export class AlertQueries {
  constructor(
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    private readonly projections: ProjectionsService,
  ) {}

  async list(propertyId: string, employeeId: string, unreadOnly: boolean, limit: number) {
    const filter: Filter = { propertyId, employeeId };
    if (unreadOnly) filter.read = false;
    const docs = await this.store.find<AlertDoc>(this.projections.collection('alerts', ALERTS), filter, { sort: { seq: -1 }, limit });
    return docs.map(alertView);
  }

  /**
   * "Why did I (not) get an alert?": every decision about a recipient, newest first. `reason`
   * is the in-app one when no alert was raised (`toggle_off`, `not_owner`), otherwise the push
   * channel's (`push_switch_off`, `push_unavailable`, `no_subscription`, `alerted`), and `push`
   * lists each subscription's attempts. `push.decided` is false while the worker has not
   * reached the alert yet. `order: 'oldest'` reads from the first (the support bundle's problem start).
   */
  async decisions(propertyId: string, by: { employeeId?: string; conversationId?: string }, limit = 50, order: 'newest' | 'oldest' = 'newest') {
    const filter: Filter = { propertyId };
    if (by.employeeId) filter.employeeId = by.employeeId;
    if (by.conversationId) filter.conversationId = by.conversationId;
    const docs = await this.store.find<AlertDecisionDoc>(this.projections.collection('alerts', ALERT_DECISIONS), filter, {
      sort: { seq: order === 'newest' ? -1 : 1 },
      limit,
    });
    const alertIds = docs.flatMap((d) => (d.alertId ? [d.alertId] : []));
    const push = new Map((await findByIn<PushDecisionDoc>(this.store, PUSH_DECISIONS, '_id', alertIds)).map((p) => [p._id, p]));
    const attempts = await findByIn<PushAttemptDoc>(this.store, PUSH_ATTEMPTS, 'alertId', alertIds);
    return docs.map(({ _id, _pos, seq: _seq, ...rest }) => {
      const decided = rest.alertId ? push.get(rest.alertId) : undefined;
      return {
        id: _id,
        ...rest,
        reason: decided?.reason ?? rest.reason,
        position: _pos.toString(),
        push: rest.alertId
          ? {
              decided: decided !== undefined,
              reason: decided?.reason ?? null,
              deliveries: deliveriesOf(attempts.filter((a) => a.alertId === rest.alertId)),
            }
          : null,
      };
    });
  }

  /** The caller's most recent push attempts (test pushes included), newest first. */
  async recentAttempts(propertyId: string, employeeId: string, limit = 20) {
    const docs = await this.store.find<PushAttemptDoc>(PUSH_ATTEMPTS, { propertyId, employeeId }, { sort: { at: -1 }, limit });
    return docs.map(attemptView);
  }
}

/** Per subscription: its final (or latest) status and every attempt, oldest first. */
export function deliveriesOf(attempts: PushAttemptDoc[]) {
  const bySubscription = new Map<string, PushAttemptDoc[]>();
  for (const a of [...attempts].sort((x, y) => x.attempt - y.attempt)) {
    bySubscription.set(a.subscriptionId, [...(bySubscription.get(a.subscriptionId) ?? []), a]);
  }
  return [...bySubscription].map(([subscriptionId, list]) => {
    const last = list[list.length - 1]!;
    return { subscriptionId, pushService: last.pushService, status: last.status, at: last.at, attempts: list.map(attemptView) };
  });
}

export const attemptView = (a: PushAttemptDoc) => ({
  subscriptionId: a.subscriptionId,
  alertId: a.alertId,
  attempt: a.attempt,
  status: a.status,
  httpStatus: a.httpStatus,
  error: a.error,
  retryAfterMs: a.retryAfterMs,
  at: a.at,
});
