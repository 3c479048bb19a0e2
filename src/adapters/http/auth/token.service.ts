/** HS256 JWTs (jose): verifying employee tokens, minting guest and short-lived stream tokens. */
import { Injectable } from '@nestjs/common';
import { type KeyObject, createSecretKey } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { EmployeePrincipal, EmployeeRole, GuestPrincipal, Principal, TokenScope } from './principal.js';

const ROLES: EmployeeRole[] = ['agent', 'admin'];
export const STREAM_TOKEN_TTL_SECONDS = 300;
const GUEST_TOKEN_TTL = '30d';

export class InvalidTokenError extends Error {}

@Injectable()
export class TokenService {
  /** A KeyObject, imported once: jose re-imports a raw Uint8Array secret on every call. */
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  async verify(token: string): Promise<{ principal: Principal; scope: TokenScope }> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] }));
    } catch (error) {
      throw new InvalidTokenError(error instanceof Error ? error.message : 'invalid token');
    }
    const scope: TokenScope = payload.scope === 'stream' ? 'stream' : 'api';
    const str = (k: string) => (typeof payload[k] === 'string' && (payload[k] as string).length > 0 ? (payload[k] as string) : null);
    const sub = str('sub');
    const propertyId = str('propertyId');
    if (!sub || !propertyId) throw new InvalidTokenError('token lacks sub or propertyId');
    if (payload.typ === 'guest') {
      return { scope, principal: { kind: 'guest', conversationId: sub, propertyId, name: str('name') ?? 'Guest' } };
    }
    const role = payload.role as EmployeeRole;
    if (!ROLES.includes(role)) throw new InvalidTokenError('token role must be agent or admin');
    return { scope, principal: { kind: 'employee', id: sub, propertyId, role, name: str('name') ?? sub } };
  }

  employeeToken(e: Omit<EmployeePrincipal, 'kind'>, expiresIn: string | number = '12h'): Promise<string> {
    return new SignJWT({ propertyId: e.propertyId, role: e.role, name: e.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(e.id)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(this.key);
  }

  guestToken(g: Omit<GuestPrincipal, 'kind'>): Promise<string> {
    return new SignJWT({ typ: 'guest', propertyId: g.propertyId, name: g.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(g.conversationId)
      .setIssuedAt()
      .setExpirationTime(GUEST_TOKEN_TTL)
      .sign(this.key);
  }

  streamToken(p: Principal): Promise<string> {
    const claims =
      p.kind === 'guest'
        ? { typ: 'guest', propertyId: p.propertyId, name: p.name, scope: 'stream' }
        : { propertyId: p.propertyId, role: p.role, name: p.name, scope: 'stream' };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(p.kind === 'guest' ? p.conversationId : p.id)
      .setIssuedAt()
      .setExpirationTime(`${STREAM_TOKEN_TTL_SECONDS}s`)
      .sign(this.key);
  }
}
