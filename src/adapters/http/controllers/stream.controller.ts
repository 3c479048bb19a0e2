import { Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Audience, CurrentPrincipal, StreamRoute } from '../auth/auth.guard.js';
import type { EmployeePrincipal, Principal } from '../auth/principal.js';
import { STREAM_TOKEN_TTL_SECONDS, TokenService } from '../auth/token.service.js';
import { StreamQuery } from '../dto/queries.js';
import { SseService } from '../sse/sse.service.js';

@Controller('v1')
export class StreamController {
  constructor(
    private readonly sse: SseService,
    private readonly tokens: TokenService,
  ) {}

  @Get('stream')
  @StreamRoute()
  @Audience('employee')
  async stream(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: StreamQuery, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.sse.open(req, reply, { kind: 'employee', propertyId: me.propertyId, employeeId: me.id, role: me.role }, q.lastEventId);
  }

  /** EventSource cannot send headers: trade the bearer token for a short-lived one for `?access_token=`. */
  @Post('stream-tokens')
  async streamToken(@CurrentPrincipal() who: Principal) {
    return { token: await this.tokens.streamToken(who), expiresInSeconds: STREAM_TOKEN_TTL_SECONDS };
  }
}
