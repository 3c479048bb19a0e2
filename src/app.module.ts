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
import { LeasedRunner } from './application/lease/leased-runner.js';
import type { LeaseStore } from './application/ports/lease.js';
import { AI_RESPONDER, CHANGE_FEED, EVENT_STORE, IDEMPOTENCY, LEASES, READ_MODELS } from './application/ports/tokens.js';
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

/**
 * Starts what this process's roles run (projector, worker) and stops it on shutdown. Each is a
 * single consumer of the log, so it runs under a lease: however many processes have the role,
 * one runs it at a time, and another takes over within the lease ttl when it dies. A lone
 * process gets the lease at once and starts exactly as without one.
 */
@Injectable()
class Roles implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runners: LeasedRunner[] = [];

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LEASES) private readonly leases: LeaseStore,
    private readonly projections: ProjectionsService,
    private readonly ai: AiResponderReactor,
  ) {}

  async onApplicationBootstrap() {
    if (this.config.roles.includes('projector')) {
      await this.run('projector', () => this.projections.startAll(), () => this.projections.stopAll());
    }
    if (this.config.roles.includes('worker')) await this.run('ai-responder', () => this.ai.start(), () => this.ai.stop());
  }

  async onApplicationShutdown() {
    for (const runner of this.runners.splice(0).reverse()) await runner.stop();
  }

  private async run(name: string, start: () => Promise<void>, stop: () => Promise<void>) {
    const runner = new LeasedRunner(this.leases, { name, start, stop });
    this.runners.push(runner);
    await runner.start();
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
        { provide: LEASES, useValue: adapters.leases },
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
