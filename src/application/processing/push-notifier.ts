/**
 * The notification worker: turns the alerts the alerts projection raised into Web Push
 * messages (SPEC §2 "Alerts"). A log processor with its own checkpoint that starts at the end
 * of the log, so a new deployment or a rebuild never pushes old alerts.
 *
 * Per batch, for the events that raise alerts:
 * 1. wait until the projector has applied the batch (the alerts, settings and subscriptions
 *    it reads are then at least as new as the batch);
 * 2. read the batch's alerts, each property's push switch and its recipients' subscriptions
 *    (one query each per batch, not per event);
 * 3. decide per alert, by SPEC's names: `push_switch_off`, `push_unavailable`,
 *    `no_subscription` or `alerted` — journaled before anything is sent;
 * 4. deliver to every subscription (PushDelivery journals each attempt and retries), skipping
 *    what an earlier run already finished, so a redelivered batch resumes, never repeats;
 * 5. remove subscriptions the push service reported gone (an event, so history shows it).
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ALERTING_EVENT_TYPES, ALERTS, type AlertDoc } from '../projections/alerts.projection.js';
import { RemoveGoneSubscription } from '../commands/push-subscriptions.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { PushMessage, PushSender } from '../ports/push-sender.js';
import type { Doc, ReadModelStore } from '../ports/read-models.js';
import type { AppMetrics } from '../ports/metrics.js';
import { METRICS, PUSH_SENDER, READ_MODELS } from '../ports/tokens.js';
import { ProjectionsService } from '../projections/projections.service.js';
import { PushSubscriptionQueries } from '../queries/push-subscription.queries.js';
import { SettingsQueries } from '../queries/settings.queries.js';
import type { LogProcessor } from './log-consumer.js';
import { DEFAULT_PUSH_POLICY, PUSH_ATTEMPTS, type PushAttemptDoc, PushDelivery, type PushJob, isFinal } from './push-delivery.js';
import { findByIn } from './find-by-in.js';

export const PUSH_DECISIONS = 'pushDecisions';
export type PushDecisionReason = 'alerted' | 'push_switch_off' | 'push_unavailable' | 'no_subscription';

export interface PushDecisionDoc extends Doc {
  alertId: string;
  propertyId: string;
  employeeId: string;
  conversationId: string;
  reason: PushDecisionReason;
  subscriptionIds: string[];
  at: string;
}

/** Kinds that should wake a device (RFC 8030 Urgency: high). */
const URGENT: ReadonlySet<string> = new Set(['incoming_support_request', 'escalation', 'ticket_assigned']);

export const PUSH_NOTIFIER_CHECKPOINT = 'push-notifier@1';

@Injectable()
export class PushNotifier implements LogProcessor {
  readonly checkpoint = PUSH_NOTIFIER_CHECKPOINT;
  readonly startFrom = 'end' as const;
  private readonly logger = new Logger('PushNotifier');
  private readonly delivery: PushDelivery;

  constructor(
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    @Inject(PUSH_SENDER) private readonly sender: PushSender,
    private readonly projections: ProjectionsService,
    private readonly settings: SettingsQueries,
    private readonly subscriptions: PushSubscriptionQueries,
    private readonly commands: CommandBus,
    @Inject(METRICS) metrics: AppMetrics,
  ) {
    this.delivery = new PushDelivery(sender, store, DEFAULT_PUSH_POLICY, undefined, metrics);
  }

  async prepare(): Promise<void> {
    await this.store.ensureIndexes([
      { collection: PUSH_ATTEMPTS, fields: { alertId: 1 } },
      { collection: PUSH_ATTEMPTS, fields: { propertyId: 1, employeeId: 1, at: -1 } },
      { collection: PUSH_DECISIONS, fields: { alertId: 1 } },
    ]);
  }

  async handle(batch: StoredEvent[], signal: AbortSignal): Promise<void> {
    const eventIds = batch.filter((e) => ALERTING_EVENT_TYPES.has(e.type)).map((e) => e.id);
    if (eventIds.length === 0) return;
    await this.untilProjected(batch[batch.length - 1]!.position, signal);
    const alerts = await findByIn<AlertDoc>(this.store, this.projections.collection('alerts', ALERTS), 'eventId', eventIds);
    if (alerts.length === 0) return;

    const { decisions, jobs } = await this.decide(alerts);
    await this.store.write(decisions.map((doc) => ({ collection: PUSH_DECISIONS, doc })));
    const results = await this.delivery.deliverAll(jobs, signal);
    if (signal.aborted) throw new Error('push notifier stopped');

    const gone = new Map(results.filter((r) => r.final.status === 'subscription_gone').map((r) => [r.job.subscriptionId, r]));
    for (const { job, final } of gone.values()) {
      await this.commands.execute(
        new RemoveGoneSubscription(job.propertyId, job.employeeId, job.subscriptionId, final.httpStatus ?? 410, `push-gone:${final._id}`, final.at),
      );
    }
  }

  private async decide(alerts: AlertDoc[]): Promise<{ decisions: PushDecisionDoc[]; jobs: PushJob[] }> {
    const previous = await this.previousAttempts(alerts.map((a) => a._id));
    const decisions: PushDecisionDoc[] = [];
    const jobs: PushJob[] = [];
    for (const [propertyId, ofProperty] of groupBy(alerts, (a) => a.propertyId)) {
      const { pushNotificationsEnabled } = await this.settings.property(propertyId);
      const subscriptions = await this.subscriptions.activeFor(propertyId, [...new Set(ofProperty.map((a) => a.employeeId))]);
      for (const alert of ofProperty) {
        const mine = subscriptions.filter((s) => s.employeeId === alert.employeeId);
        const reason: PushDecisionReason = !pushNotificationsEnabled
          ? 'push_switch_off'
          : !this.sender.available
            ? 'push_unavailable'
            : mine.length === 0
              ? 'no_subscription'
              : 'alerted';
        decisions.push({
          _id: alert._id,
          _pos: alert._pos,
          alertId: alert._id,
          propertyId,
          employeeId: alert.employeeId,
          conversationId: alert.conversationId,
          reason,
          subscriptionIds: reason === 'alerted' ? mine.map((s) => s._id) : [],
          at: alert.at,
        });
        if (reason !== 'alerted') continue;
        const message = pushMessage(alert);
        for (const subscription of mine) {
          const done = previous.get(`${alert._id}:${subscription._id}`);
          if (done?.final) continue;
          jobs.push({
            alertId: alert._id,
            propertyId,
            employeeId: alert.employeeId,
            conversationId: alert.conversationId,
            subscriptionId: subscription._id,
            target: { endpoint: subscription.endpoint, keys: subscription.keys },
            message,
            position: alert._pos,
            previousAttempts: done?.attempts ?? 0,
          });
        }
      }
    }
    return { decisions, jobs };
  }

  /** What an earlier run of this batch already did, per alert and subscription. */
  private async previousAttempts(alertIds: string[]): Promise<Map<string, { attempts: number; final: boolean }>> {
    const attempts = await findByIn<PushAttemptDoc>(this.store, PUSH_ATTEMPTS, 'alertId', alertIds);
    const out = new Map<string, { attempts: number; final: boolean }>();
    for (const a of attempts) {
      const key = `${a.alertId}:${a.subscriptionId}`;
      const seen = out.get(key) ?? { attempts: 0, final: false };
      out.set(key, { attempts: Math.max(seen.attempts, a.attempt), final: seen.final || isFinal(a.status) });
    }
    return out;
  }

  /** The projector may run in another process: wait (as long as it takes) until it has applied `position`. */
  private async untilProjected(position: bigint, signal: AbortSignal): Promise<void> {
    while (!(await this.projections.waitFor(position, 1000))) {
      if (signal.aborted) throw new Error('push notifier stopped');
    }
  }
}

/** What the service worker gets (README: an example service worker). */
export function pushMessage(alert: AlertDoc): PushMessage {
  return {
    payload: JSON.stringify({
      alertId: alert._id,
      kind: alert.kind,
      conversationId: alert.conversationId,
      ticketId: alert.ticketId,
      guestName: alert.guestName,
      title: alert.title,
      body: alert.body,
      url: `/conversations/${alert.conversationId}`,
      at: alert.at,
    }),
    ttlSeconds: 3600,
    urgency: URGENT.has(alert.kind) ? 'high' : 'normal',
    // One topic per ticket (a UUID without dashes: 32 URL-safe characters, RFC 8030's limit).
    topic: alert.ticketId.replace(/-/g, ''),
  };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
