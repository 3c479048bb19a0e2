/**
 * An employee's browsers subscribing to and unsubscribing from push, and the push worker
 * removing subscriptions the push service calls gone. All on the employee's own stream.
 */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  type PushSubscription,
  type PushSubscriptionEvent,
  type PushSubscriptionJson,
  type PushSubscriptionState,
  decideSubscribe,
  decideSubscriptionGone,
  decideUnsubscribe,
  evolvePushSubscriptions,
  initialPushSubscriptionState,
} from '../../domain/push-subscriptions.js';
import { employeeStream } from '../../domain/settings.js';
import type { Config } from '../../config.js';
import type { EventMetadata, EventStore, Position } from '../ports/event-store.js';
import { CONFIG, EVENT_STORE } from '../ports/tokens.js';
import { runDecision } from './run-decision.js';

export interface SubscribePushResult {
  subscription: PushSubscription;
  /** False when the same subscription was already there (nothing appended). */
  changed: boolean;
  position: Position | null;
}

export class SubscribePush extends Command<SubscribePushResult> {
  constructor(
    readonly propertyId: string,
    readonly employeeId: string,
    readonly subscription: PushSubscriptionJson,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

export class UnsubscribePush extends Command<{ position: Position | null }> {
  constructor(
    readonly propertyId: string,
    readonly employeeId: string,
    readonly endpoint: string,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

/** For the push worker after a 404/410 from the push service; a no-op when already gone. */
export class RemoveGoneSubscription extends Command<{ removed: boolean; position: Position | null }> {
  constructor(
    readonly propertyId: string,
    readonly employeeId: string,
    readonly subscriptionId: string,
    readonly status: number,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

export const PUSH_WORKER_ACTOR = { kind: 'system' as const, id: 'push-worker' };

const pushDecision = (propertyId: string, employeeId: string, metadata: EventMetadata) => ({
  streamId: employeeStream(propertyId, employeeId),
  initial: initialPushSubscriptionState(),
  evolve: evolvePushSubscriptions,
  metadata,
});

@CommandHandler(SubscribePush)
export class SubscribePushHandler implements ICommandHandler<SubscribePush> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async execute(cmd: SubscribePush): Promise<SubscribePushResult> {
    const actor = { kind: 'employee' as const, id: cmd.employeeId };
    const result = await runDecision<PushSubscriptionState, PushSubscriptionEvent>(this.store, {
      ...pushDecision(cmd.propertyId, cmd.employeeId, { propertyId: cmd.propertyId, commandId: cmd.commandId, actor }),
      decide: (state) =>
        decideSubscribe(
          state,
          { propertyId: cmd.propertyId, subscription: cmd.subscription, allowHttpEndpoints: this.config.pushAllowHttpEndpoints },
          cmd.employeeId,
          cmd.at,
        ),
    });
    // A replayed command may find its subscription removed since: answer with what it added.
    const added = result.events.find((e) => e.type === 'PushSubscriptionAdded');
    const subscription =
      result.state.subscriptions.find((s) => s.endpoint === cmd.subscription.endpoint) ??
      (added?.type === 'PushSubscriptionAdded' ? subscriptionOf(added.data) : undefined);
    if (!subscription) throw new Error(`SubscribePush ${cmd.commandId}: no subscription after the decision`);
    return { subscription, changed: result.events.length > 0, position: result.position };
  }
}

const subscriptionOf = ({ at, ...rest }: Extract<PushSubscriptionEvent, { type: 'PushSubscriptionAdded' }>['data']): PushSubscription => ({
  ...rest,
  createdAt: at,
});

@CommandHandler(UnsubscribePush)
export class UnsubscribePushHandler implements ICommandHandler<UnsubscribePush> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(cmd: UnsubscribePush): Promise<{ position: Position | null }> {
    const actor = { kind: 'employee' as const, id: cmd.employeeId };
    const result = await runDecision<PushSubscriptionState, PushSubscriptionEvent>(this.store, {
      ...pushDecision(cmd.propertyId, cmd.employeeId, { propertyId: cmd.propertyId, commandId: cmd.commandId, actor }),
      decide: (state) => decideUnsubscribe(state, cmd.endpoint, cmd.employeeId, cmd.at),
    });
    return { position: result.position };
  }
}

@CommandHandler(RemoveGoneSubscription)
export class RemoveGoneSubscriptionHandler implements ICommandHandler<RemoveGoneSubscription> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(cmd: RemoveGoneSubscription): Promise<{ removed: boolean; position: Position | null }> {
    const result = await runDecision<PushSubscriptionState, PushSubscriptionEvent>(this.store, {
      ...pushDecision(cmd.propertyId, cmd.employeeId, { propertyId: cmd.propertyId, commandId: cmd.commandId, actor: PUSH_WORKER_ACTOR }),
      decide: (state) => decideSubscriptionGone(state, cmd.subscriptionId, cmd.status, cmd.at),
    });
    return { removed: result.events.length > 0, position: result.position };
  }
}
