/**
 * Every /v1 route needs a token except those marked @Public(). @Audience() says who may call
 * (employees, guests), @AdminOnly() restricts to admins (of the token's property), @OpsOnly()
 * to the service's operators (employee token claim `ops: true`, any role: the service-wide
 * operations touch every property, which no property's admin role covers), @StreamRoute() accepts a stream token
 * (also from `?access_token=`, since EventSource cannot send headers). Only stream tokens may
 * travel in a query string (URLs end up in logs and histories): an API token there is a 401.
 * Sets `req.principal` and `req.tokenExpiresAtMs` (principal.ts).
 */
import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  ServiceUnavailableException,
  SetMetadata,
  UnauthorizedException,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { type Principal, bearerTokenOf } from './principal.js';
import { InvalidTokenError, SigningKeysUnavailableError, TokenService } from './token.service.js';

const PUBLIC = 'auth:public';
const AUDIENCE = 'auth:audience';
const ADMIN_ONLY = 'auth:admin';
const OPS_ONLY = 'auth:ops';
const STREAM = 'auth:stream';

export const Public = () => SetMetadata(PUBLIC, true);
export const Audience = (audience: Principal['kind']) => SetMetadata(AUDIENCE, audience);
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);
export const OpsOnly = () => SetMetadata(OPS_ONLY, true);
export const StreamRoute = () => SetMetadata(STREAM, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  return ctx.switchToHttp().getRequest<FastifyRequest>().principal;
});

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const meta = <T>(key: string) => this.reflector.getAllAndOverride<T>(key, [context.getHandler(), context.getClass()]);
    if (meta<boolean>(PUBLIC)) return true;
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const isStream = meta<boolean>(STREAM) ?? false;

    const borne = bearerTokenOf(req, isStream);
    if (!borne) throw new UnauthorizedException('Missing bearer token');
    const { token, fromQuery } = borne;

    let verified;
    try {
      verified = await this.tokens.verify(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw new UnauthorizedException(`Invalid token: ${error.message}`);
      if (error instanceof SigningKeysUnavailableError) throw new ServiceUnavailableException({ message: error.message, code: 'auth_keys_unavailable' });
      throw error;
    }
    if (verified.scope === 'stream' && !isStream) throw new UnauthorizedException('A stream token only opens event streams');
    if (fromQuery && verified.scope !== 'stream') {
      throw new UnauthorizedException('Only a stream token (POST /v1/stream-tokens) may be sent as access_token; send this token in the Authorization header');
    }

    const audience = meta<Principal['kind']>(AUDIENCE);
    const p = verified.principal;
    if (audience && p.kind !== audience) throw new ForbiddenException(`This endpoint is for ${audience}s`);
    if (meta<boolean>(ADMIN_ONLY) && (p.kind !== 'employee' || p.role !== 'admin')) {
      throw new ForbiddenException('Only an admin may do this');
    }
    if (meta<boolean>(OPS_ONLY) && (p.kind !== 'employee' || !p.ops)) {
      throw new ForbiddenException({ message: 'Only a service operator (token claim ops: true) may do this', code: 'ops_only' });
    }
    req.principal = p;
    req.tokenExpiresAtMs = verified.expiresAtMs;
    return true;
  }
}
