import { Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Audience, CurrentPrincipal, StreamRoute } from '../auth/auth.guard.js';
import type { EmployeePrincipal, Principal } from '../auth/principal.js';
import { TokenService } from '../auth/token.service.js';
import { StreamQuery } from '../dto/queries.js';
import { SecretsInAnswer } from '../idempotency.interceptor.js';
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

  /**
   * EventSource cannot send headers: trade the bearer token for a short-lived one for
   * `?access_token=`. It expires with the bearer token at the latest; `expiresInSeconds` is
   * its real lifetime, so the client knows when to renew.
   */
  @Post('stream-tokens')
  @SecretsInAnswer('token') // a replay (same caller, same key) mints a fresh one; none is ever stored
  async streamToken(@CurrentPrincipal() who: Principal, @Req() req: FastifyRequest) {
    return this.tokens.streamToken(who, req.tokenExpiresAtMs!);
  }
}
