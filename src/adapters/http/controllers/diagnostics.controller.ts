/**
 * Troubleshooting made executable (SPEC §2): the help page's three questions answered for the
 * calling employee (`GET /v1/diagnostics`), and the support bundle an admin sends on
 * (`GET /v1/ops/conversations/{id}/support-bundle`). Another property's conversation is a 404.
 */
import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ProjectionsService } from '../../../application/projections/projections.service.js';
import { DiagnosticsQueries } from '../../../application/queries/diagnostics.queries.js';
import { AdminOnly, Audience, CurrentPrincipal } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';
import { DiagnosticsQuery, ReadQuery, toPosition } from '../dto/queries.js';

const employee = (me: EmployeePrincipal) => ({ id: me.id, name: me.name, role: me.role });

@Controller('v1/diagnostics')
@Audience('employee')
export class DiagnosticsController {
  constructor(
    private readonly diagnostics: DiagnosticsQueries,
    private readonly projections: ProjectionsService,
  ) {}

  @Get()
  async diagnose(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: DiagnosticsQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    return this.diagnostics.diagnostics(me.propertyId, employee(me), q.conversationId ?? null);
  }
}

@Controller('v1/ops/conversations')
@Audience('employee')
@AdminOnly()
export class SupportBundleController {
  constructor(
    private readonly diagnostics: DiagnosticsQueries,
    private readonly projections: ProjectionsService,
  ) {}

  @Get(':id/support-bundle')
  async supportBundle(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', new ParseUUIDPipe()) id: string, @Query() q: ReadQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    return this.diagnostics.supportBundle(me.propertyId, employee(me), id);
  }
}
