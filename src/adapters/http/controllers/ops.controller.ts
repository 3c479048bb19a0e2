import { Controller, Get, Param, ParseUUIDPipe, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HistoryQueries, historyEntry } from '../../../application/queries/history.queries.js';
import { AdminOnly, Audience, CurrentPrincipal } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';
import { HistoryQuery } from '../dto/queries.js';

/** Operations endpoints: role `admin`, always within the caller's property. */
@Controller('v1/ops')
@Audience('employee')
@AdminOnly()
export class OpsController {
  constructor(private readonly history: HistoryQueries) {}

  @Get('conversations/:id/history')
  async conversationHistory(
    @CurrentPrincipal() me: EmployeePrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() q: HistoryQuery,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (q.at !== undefined) return this.history.stateAt(me.propertyId, id, new Date(q.at));
    const events = (await this.history.events(me.propertyId, id)).map(historyEntry);
    if ((req.headers.accept ?? '').includes('application/x-ndjson')) {
      void reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    }
    return { conversationId: id, events };
  }
}
