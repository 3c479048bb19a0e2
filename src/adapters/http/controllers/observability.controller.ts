/**
 * Probes and metrics, public and served by every process (whatever its ROLES):
 * - `GET /health/live`: the process answers (no store is asked: a store outage must not get
 *   the process restarted).
 * - `GET /health/ready`: every configured store answers a cheap real request within
 *   READY_TIMEOUT_MS (@nestjs/terminus): the event store its head, the read models and the
 *   leases a lookup each (MongoDB: two clients), Redis a PING per connection (change feed,
 *   idempotency keys). 503 naming what is down, also while shutting down.
 * - `GET /metrics`: Prometheus text format (prom-client), this process's registry.
 * (`GET /health`, the log head and projection lag, is HealthController's.)
 */
import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { Res } from '@nestjs/common';
import { type HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { METRICS } from '../../../application/ports/tokens.js';
import type { StoreProbe } from '../../adapters.js';
import type { Metrics } from '../../observability/metrics.js';
import { Public } from '../auth/auth.guard.js';

export const STORE_PROBES = Symbol('StoreProbes');
/** A store that has not answered by then counts as down. */
export const READY_TIMEOUT_MS = 1500;

@Controller()
export class ObservabilityController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(STORE_PROBES) private readonly probes: StoreProbe[],
    @Inject(METRICS) private readonly metrics: Metrics,
  ) {}

  @Get('health/live')
  @Public()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('health/ready')
  @Public()
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check(
        this.probes.map((probe) => () => this.indicators.check(probe.name).attempt(() => probe.check()).withTimeout(READY_TIMEOUT_MS)),
      );
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const down = Object.keys(result.error ?? {});
      throw new ServiceUnavailableException({
        message: result.status === 'shutting_down' ? 'Not ready: shutting down' : `Not ready: ${down.join(', ')} down`,
        code: 'not_ready',
        details: result,
      });
    }
  }

  @Get('metrics')
  @Public()
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const text = await this.metrics.scrape();
    void reply.header('content-type', this.metrics.contentType);
    return text;
  }
}
