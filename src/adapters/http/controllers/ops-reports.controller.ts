/**
 * Operations reports (role `admin`, the caller's property): hand-off metrics from the
 * `handoffTickets` read model, and the history of the property's settings from its stream.
 */
import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProjectionsService } from '../../../application/projections/projections.service.js';
import { HandoffMetricsQueries } from '../../../application/queries/handoff-metrics.queries.js';
import { SettingsHistoryQueries } from '../../../application/queries/settings-history.queries.js';
import { AdminOnly, Audience, CurrentPrincipal } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';
import { HandoffMetricsQuery, HistoryQuery, toPosition } from '../dto/queries.js';

@Controller('v1/ops')
@Audience('employee')
@AdminOnly()
export class OpsReportsController {
  constructor(
    private readonly metrics: HandoffMetricsQueries,
    private readonly settingsHistory: SettingsHistoryQueries,
    private readonly projections: ProjectionsService,
  ) {}

  @Get('handoff-metrics')
  async handoffMetrics(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: HandoffMetricsQuery) {
    const window = this.metrics.window(q.from === undefined ? undefined : new Date(q.from), q.to === undefined ? undefined : new Date(q.to));
    await this.projections.waitFor(toPosition(q.minPosition));
    return this.metrics.metrics(me.propertyId, window, q.employeeId);
  }

  @Get('settings/history')
  async settingsHistoryOf(
    @CurrentPrincipal() me: EmployeePrincipal,
    @Query() q: HistoryQuery,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (q.at !== undefined) return this.settingsHistory.stateAt(me.propertyId, new Date(q.at));
    const events = await this.settingsHistory.entries(me.propertyId);
    if ((req.headers.accept ?? '').includes('application/x-ndjson')) {
      void reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      return events.map((e) => JSON.stringify(e) + '\n').join('');
    }
    return { propertyId: me.propertyId, events };
  }
}
