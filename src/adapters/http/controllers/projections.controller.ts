/**
 * Operations on the projections (read models): their versions, checkpoints and lag, and a
 * rebuild of one beside its live version. The projections hold every property's data, so
 * these are for the service's operators (@OpsOnly: token claim `ops: true`, any role), not
 * for a property's admin (SPEC §3: "a separate `ops` role, documented"). A rebuild is carried out by the
 * process holding the projector lease, maybe another one: this answers 202 once the request
 * is recorded, and GET /v1/ops/projections shows its progress.
 */
import { Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProjectionsService, rebuildView } from '../../../application/projections/projections.service.js';
import { Audience, CurrentPrincipal, OpsOnly } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';

export const PROJECTIONS_STATUS_PATH = '/v1/ops/projections';

@Controller('v1/ops/projections')
@Audience('employee')
@OpsOnly()
export class ProjectionsController {
  constructor(private readonly projections: ProjectionsService) {}

  @Get()
  list() {
    return this.projections.status();
  }

  @Post(':name/rebuild')
  @HttpCode(202)
  async rebuild(@CurrentPrincipal() me: EmployeePrincipal, @Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const doc = await this.projections.requestRebuild(name, { employeeId: me.id, propertyId: me.propertyId });
    void reply.header('location', PROJECTIONS_STATUS_PATH);
    return { rebuild: rebuildView(doc), statusUrl: PROJECTIONS_STATUS_PATH };
  }
}
