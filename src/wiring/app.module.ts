/**
 * One process = the core plus what its ROLES ask for. Every process serves the health routes
 * (probes for the orchestrator) and `/metrics`, so a worker-only process listens too, but
 * only an `api` process serves `/v1`.
 */
import type { DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { Adapters } from '../adapters/adapters.js';
import { HealthController } from '../adapters/http/controllers/health.controller.js';
import { ObservabilityController, STORE_PROBES } from '../adapters/http/controllers/observability.controller.js';
import { CommandMetrics } from '../adapters/observability/command-metrics.js';
import { ProjectionLagMetrics } from '../adapters/observability/projection-lag.js';
import { ErrorFilter } from '../adapters/http/errors.js';
import type { Config } from '../config.js';
import { ApiModule } from './api.module.js';
import { CoreModule } from './core.module.js';
import { WorkersModule } from './workers.module.js';

export class AppModule {
  static forRoot(config: Config, adapters: Adapters): DynamicModule {
    const hasWorkers = config.roles.some((r) => r !== 'api');
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, adapters),
        ...(config.roles.includes('api') ? [ApiModule.forRoot(config)] : []),
        ...(hasWorkers ? [WorkersModule.forRoot()] : []),
        // A failed readiness check is answered (503) and logged as a request; terminus logs nothing itself.
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController, ObservabilityController],
      providers: [
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: STORE_PROBES, useValue: adapters.probes },
        CommandMetrics,
        ProjectionLagMetrics,
      ],
    };
  }
}
