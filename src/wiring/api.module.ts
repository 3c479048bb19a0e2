/** The HTTP API (`/v1`, SSE, docs): mounted only in processes whose ROLES include `api`. */
import { type DynamicModule } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AuthGuard } from '../adapters/http/auth/auth.guard.js';
import { TokenService } from '../adapters/http/auth/token.service.js';
import { AlertsController } from '../adapters/http/controllers/alerts.controller.js';
import { ConversationsController } from '../adapters/http/controllers/conversations.controller.js';
import { DiagnosticsController, SupportBundleController } from '../adapters/http/controllers/diagnostics.controller.js';
import { GuestController } from '../adapters/http/controllers/guest.controller.js';
import { OpsController } from '../adapters/http/controllers/ops.controller.js';
import { ProjectionsController } from '../adapters/http/controllers/projections.controller.js';
import { OpsReportsController } from '../adapters/http/controllers/ops-reports.controller.js';
import { PushController } from '../adapters/http/controllers/push.controller.js';
import { PushSubscriptionsController } from '../adapters/http/controllers/push-subscriptions.controller.js';
import { SettingsController } from '../adapters/http/controllers/settings.controller.js';
import { StreamController } from '../adapters/http/controllers/stream.controller.js';
import { IdempotencyInterceptor } from '../adapters/http/idempotency.interceptor.js';
import { SSE_OPTIONS, type SseOptions, SseService } from '../adapters/http/sse/sse.service.js';
import type { Config } from '../config.js';

export class ApiModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: ApiModule,
      controllers: [
        ConversationsController,
        GuestController,
        SettingsController,
        AlertsController,
        OpsController,
        ProjectionsController,
        DiagnosticsController,
        SupportBundleController,
        OpsReportsController,
        StreamController,
        PushController,
        PushSubscriptionsController,
      ],
      providers: [
        {
          provide: TokenService,
          useValue: new TokenService({
            secret: config.jwtSecret,
            jwksUrl: config.auth.jwksUrl,
            issuer: config.auth.issuer,
            audience: config.auth.audience,
            maxLifetimeSeconds: config.auth.maxTokenLifetimeSeconds,
          }),
        },
        {
          provide: SSE_OPTIONS,
          useValue: {
            heartbeatMs: config.heartbeatMs,
            maxBufferedBytes: 1024 * 1024,
            caps: { perPrincipal: config.sseMaxStreamsPerPrincipal, perAddress: config.sseMaxStreamsPerAddress },
          } satisfies SseOptions,
        },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        SseService,
      ],
      exports: [TokenService],
    };
  }
}
