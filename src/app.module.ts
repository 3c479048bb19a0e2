import { type DynamicModule, Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { AnswerGuestMessageHandler } from './application/commands/answer-guest-message.js';
import { ChangeLiveChatSettingsHandler, SwitchPushNotificationsHandler } from './application/commands/change-property-settings.js';
import { CloseTicketHandler } from './application/commands/close-ticket.js';
import { ChangePersonalSettingsHandler, MarkAlertReadHandler } from './application/commands/employee-commands.js';
import { PostGuestMessageHandler } from './application/commands/post-guest-message.js';
import { ReplyHandler } from './application/commands/reply.js';
import { RequestSupportHandler } from './application/commands/request-support.js';
import { StartConversationHandler } from './application/commands/start-conversation.js';
import { TakeOverHandler } from './application/commands/take-over.js';
import { AI_RESPONDER, CHANGE_FEED, EVENT_STORE, IDEMPOTENCY, READ_MODELS } from './application/ports/tokens.js';
import { ProjectionsService } from './application/projections/projections.service.js';
import { AlertQueries } from './application/queries/alert.queries.js';
import { HistoryQueries } from './application/queries/history.queries.js';
import { InboxQueries } from './application/queries/inbox.queries.js';
import { SettingsQueries } from './application/queries/settings.queries.js';
import { AiResponderReactor } from './application/reactors/ai-responder.reactor.js';
import type { Adapters } from './adapters/adapters.js';
import { AuthGuard } from './adapters/http/auth/auth.guard.js';
import { TokenService } from './adapters/http/auth/token.service.js';
import { AlertsController } from './adapters/http/controllers/alerts.controller.js';
import { ConversationsController } from './adapters/http/controllers/conversations.controller.js';
import { GuestController } from './adapters/http/controllers/guest.controller.js';
import { HealthController } from './adapters/http/controllers/health.controller.js';
import { OpsController } from './adapters/http/controllers/ops.controller.js';
import { SettingsController } from './adapters/http/controllers/settings.controller.js';
import { StreamController } from './adapters/http/controllers/stream.controller.js';
import { ErrorFilter } from './adapters/http/errors.js';
import { IdempotencyInterceptor } from './adapters/http/idempotency.interceptor.js';
import { SSE_OPTIONS, SseService } from './adapters/http/sse/sse.service.js';
import type { Config } from './config.js';

const CONFIG = Symbol('Config');

/** Starts what this process's roles run (projector, worker) and stops it on shutdown. */
@Injectable()
class Roles implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly projections: ProjectionsService,
    private readonly ai: AiResponderReactor,
  ) {}

  async onApplicationBootstrap() {
    if (this.config.roles.includes('projector')) await this.projections.startAll();
    if (this.config.roles.includes('worker')) await this.ai.start();
  }

  async onApplicationShutdown() {
    await this.ai.stop();
    await this.projections.stopAll();
  }
}

export class AppModule {
  static forRoot(config: Config, adapters: Adapters): DynamicModule {
    return {
      module: AppModule,
      imports: [CqrsModule.forRoot()],
      controllers: [
        ConversationsController,
        GuestController,
        SettingsController,
        AlertsController,
        OpsController,
        StreamController,
        HealthController,
      ],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: EVENT_STORE, useValue: adapters.eventStore },
        { provide: READ_MODELS, useValue: adapters.readModels },
        { provide: CHANGE_FEED, useValue: adapters.changeFeed },
        { provide: AI_RESPONDER, useValue: adapters.aiResponder },
        { provide: IDEMPOTENCY, useValue: adapters.idempotency },
        { provide: TokenService, useValue: new TokenService(config.jwtSecret) },
        { provide: SSE_OPTIONS, useValue: { heartbeatMs: config.heartbeatMs, maxBufferedBytes: 1024 * 1024 } },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        StartConversationHandler,
        PostGuestMessageHandler,
        RequestSupportHandler,
        AnswerGuestMessageHandler,
        TakeOverHandler,
        ReplyHandler,
        CloseTicketHandler,
        ChangeLiveChatSettingsHandler,
        SwitchPushNotificationsHandler,
        ChangePersonalSettingsHandler,
        MarkAlertReadHandler,
        ProjectionsService,
        InboxQueries,
        SettingsQueries,
        AlertQueries,
        HistoryQueries,
        AiResponderReactor,
        SseService,
        Roles,
      ],
    };
  }
}
