import { Controller, ForbiddenException, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { MarkAlertRead } from '../../../application/commands/employee-commands.js';
import { ProjectionsService } from '../../../application/projections/projections.service.js';
import { AlertQueries } from '../../../application/queries/alert.queries.js';
import { Audience, CurrentPrincipal } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';
import { commandId, now } from '../command-context.js';
import { AlertDecisionsQuery, ListAlertsQuery, toPosition } from '../dto/queries.js';

@Controller('v1/me/alerts')
@Audience('employee')
export class AlertsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly alerts: AlertQueries,
    private readonly projections: ProjectionsService,
  ) {}

  @Get()
  async list(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: ListAlertsQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    return { items: await this.alerts.list(me.propertyId, me.id, q.unread === 'true', q.limit ?? 50) };
  }

  /**
   * Why did (or didn't) I get alerts: every decision about me, newest first, with each push
   * attempt; `conversationId` narrows it to one ticket's; admins may ask about another employee.
   */
  @Get('decisions')
  async decisions(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: AlertDecisionsQuery) {
    const employeeId = q.employeeId ?? me.id;
    if (employeeId !== me.id && me.role !== 'admin') throw new ForbiddenException("Only an admin may see another employee's alert decisions");
    await this.projections.waitFor(toPosition(q.minPosition));
    return { items: await this.alerts.decisions(me.propertyId, { employeeId, conversationId: q.conversationId }, q.limit ?? 50) };
  }

  @Post(':id/read')
  @HttpCode(200)
  async read(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: FastifyRequest) {
    const r = await this.commands.execute(new MarkAlertRead(me.propertyId, me.id, id, commandId(req, me, `alert-read:${id}`), now()));
    return { id, read: true, position: r.position?.toString() ?? null };
  }
}
