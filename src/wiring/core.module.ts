/**
 * What every process needs, whatever its roles: the ports (from the connected adapters), the
 * configuration, the command bus with every command handler, and the queries. Global, so the
 * api and workers modules (and the CLI, which mounts this module alone) inject from it.
 */
import type { DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Adapters } from '../adapters/adapters.js';
import { AnswerGuestMessageHandler } from '../application/commands/answer-guest-message.js';
import { ChangeLiveChatSettingsHandler, SwitchPushNotificationsHandler } from '../application/commands/change-property-settings.js';
import { ChangeEscalationSettingsHandler } from '../application/commands/change-escalation-settings.js';
import { CloseTicketHandler } from '../application/commands/close-ticket.js';
import { EscalateTicketHandler } from '../application/commands/escalate-ticket.js';
import { ChangePersonalSettingsHandler, MarkAlertReadHandler } from '../application/commands/employee-commands.js';
import { ReassignTicketHandler, ReleaseTicketHandler } from '../application/commands/handoff.js';
import { PostGuestMessageHandler } from '../application/commands/post-guest-message.js';
import { RemoveGoneSubscriptionHandler, SubscribePushHandler, UnsubscribePushHandler } from '../application/commands/push-subscriptions.js';
import { RegisterPropertyHandler } from '../application/commands/register-property.js';
import { ReplyHandler } from '../application/commands/reply.js';
import { RequestSupportHandler } from '../application/commands/request-support.js';
import { StartConversationHandler } from '../application/commands/start-conversation.js';
import { SendTestPushHandler } from '../application/commands/send-test-push.js';
import { TakeOverHandler } from '../application/commands/take-over.js';
import { AI_RESPONDER, CHANGE_FEED, CLOCK, CONFIG, EVENT_STORE, IDEMPOTENCY, LEASES, METRICS, PUSH_SENDER, READ_MODELS } from '../application/ports/tokens.js';
import { ProjectionsService } from '../application/projections/projections.service.js';
import { AlertQueries } from '../application/queries/alert.queries.js';
import { DiagnosticsQueries } from '../application/queries/diagnostics.queries.js';
import { HandoffMetricsQueries } from '../application/queries/handoff-metrics.queries.js';
import { HistoryQueries } from '../application/queries/history.queries.js';
import { SettingsHistoryQueries } from '../application/queries/settings-history.queries.js';
import { InboxQueries } from '../application/queries/inbox.queries.js';
import { KnownProperties } from '../application/queries/known-properties.js';
import { GuestMessageQueries } from '../application/queries/guest-message.queries.js';
import { PushSubscriptionQueries } from '../application/queries/push-subscription.queries.js';
import { SettingsQueries } from '../application/queries/settings.queries.js';
import type { Config } from '../config.js';

const ports = (config: Config, adapters: Adapters) => [
  { provide: CONFIG, useValue: config },
  { provide: EVENT_STORE, useValue: adapters.eventStore },
  { provide: READ_MODELS, useValue: adapters.readModels },
  { provide: CHANGE_FEED, useValue: adapters.changeFeed },
  { provide: AI_RESPONDER, useValue: adapters.aiResponder },
  { provide: IDEMPOTENCY, useValue: adapters.idempotency },
  { provide: LEASES, useValue: adapters.leases },
  { provide: PUSH_SENDER, useValue: adapters.pushSender },
  { provide: CLOCK, useValue: adapters.clock },
  { provide: METRICS, useValue: adapters.metrics },
];

const commandHandlers = [
  StartConversationHandler,
  PostGuestMessageHandler,
  RequestSupportHandler,
  AnswerGuestMessageHandler,
  TakeOverHandler,
  ReplyHandler,
  CloseTicketHandler,
  ReleaseTicketHandler,
  ReassignTicketHandler,
  ChangeLiveChatSettingsHandler,
  SwitchPushNotificationsHandler,
  ChangePersonalSettingsHandler,
  MarkAlertReadHandler,
  SubscribePushHandler,
  UnsubscribePushHandler,
  RemoveGoneSubscriptionHandler,
  SendTestPushHandler,
  ChangeEscalationSettingsHandler,
  EscalateTicketHandler,
  RegisterPropertyHandler,
];

const queries = [ProjectionsService, InboxQueries, GuestMessageQueries, SettingsQueries, AlertQueries, HistoryQueries, PushSubscriptionQueries, HandoffMetricsQueries, SettingsHistoryQueries, DiagnosticsQueries, KnownProperties];

export class CoreModule {
  static forRoot(config: Config, adapters: Adapters): DynamicModule {
    const providers = [...ports(config, adapters), ...commandHandlers, ...queries];
    return {
      module: CoreModule,
      global: true,
      imports: [CqrsModule.forRoot()],
      providers,
      exports: [...providers.map((p) => ('provide' in p ? p.provide : p)), CqrsModule],
    };
  }
}
