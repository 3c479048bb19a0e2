/**
 * "Send me a test push": one attempt to each of the caller's subscriptions, journaled like
 * any alert's (so diagnostics and decisions show it), answered with each outcome. A
 * subscription the push service reports gone is removed, as the notifier does.
 */
import { Inject } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { DomainError } from '../../domain/errors.js';
import { DEFAULT_PUSH_POLICY, PushDelivery, type PushAttemptDoc } from '../processing/push-delivery.js';
import type { PushSender } from '../ports/push-sender.js';
import type { ReadModelStore } from '../ports/read-models.js';
import type { AppMetrics } from '../ports/metrics.js';
import { METRICS, PUSH_SENDER, READ_MODELS } from '../ports/tokens.js';
import { PushSubscriptionQueries } from '../queries/push-subscription.queries.js';
import { RemoveGoneSubscription } from './push-subscriptions.js';

export interface TestPushOutcome {
  subscriptionId: string;
  pushService: string;
  status: PushAttemptDoc['status'];
  httpStatus: number | null;
  error: string | null;
}

export class SendTestPush extends Command<{ alertId: string; items: TestPushOutcome[] }> {
  constructor(
    readonly propertyId: string,
    readonly employeeId: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(SendTestPush)
export class SendTestPushHandler implements ICommandHandler<SendTestPush> {
  private readonly delivery: PushDelivery;

  constructor(
    @Inject(PUSH_SENDER) private readonly sender: PushSender,
    @Inject(READ_MODELS) store: ReadModelStore,
    private readonly subscriptions: PushSubscriptionQueries,
    private readonly commands: CommandBus,
    @Inject(METRICS) metrics: AppMetrics,
  ) {
    // One attempt each: the caller is waiting for the answer.
    this.delivery = new PushDelivery(sender, store, { ...DEFAULT_PUSH_POLICY, maxAttempts: 1 }, undefined, metrics);
  }

  async execute(cmd: SendTestPush) {
    if (!this.sender.available) {
      throw new DomainError('unavailable', 'push_unavailable', 'Web Push is not configured on this service (no VAPID keys)');
    }
    const alertId = `test-${randomUUID()}`;
    const mine = await this.subscriptions.activeFor(cmd.propertyId, [cmd.employeeId]);
    const payload = JSON.stringify({
      alertId,
      kind: 'test',
      conversationId: null,
      title: 'Test notification',
      body: 'Push notifications work on this device.',
      url: '/settings/notifications',
      at: cmd.at,
    });
    const results = await this.delivery.deliverAll(
      mine.map((s) => ({
        alertId,
        propertyId: cmd.propertyId,
        employeeId: cmd.employeeId,
        conversationId: null,
        subscriptionId: s._id,
        target: { endpoint: s.endpoint, keys: s.keys },
        message: { payload, ttlSeconds: 60, urgency: 'normal' as const, topic: 'test' },
        position: 0n,
        previousAttempts: 0,
      })),
      new AbortController().signal,
    );
    for (const { job, final } of results) {
      if (final.status !== 'subscription_gone') continue;
      await this.commands.execute(
        new RemoveGoneSubscription(job.propertyId, job.employeeId, job.subscriptionId, final.httpStatus ?? 410, `push-gone:${final._id}`, final.at),
      );
    }
    return {
      alertId,
      items: results.map(({ final }) => ({
        subscriptionId: final.subscriptionId,
        pushService: final.pushService,
        status: final.status,
        httpStatus: final.httpStatus,
        error: final.error,
      })),
    };
  }
}
