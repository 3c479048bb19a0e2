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

  /**
   * Verified tokens by their text, until they expire: a token is immutable, so checking its
   * signature once is enough, and WebCrypto verification was ~10% of a command's CPU.
   */
  private readonly verified = new Map<string, { result: { principal: Principal; scope: TokenScope }; expiresAtMs: number }>();
  private static readonly CACHE_SIZE = 10_000;

  async verify(token: string): Promise<{ principal: Principal; scope: TokenScope }> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAtMs > Date.now()) return cached.result;
      this.verified.delete(token);
    }
    const { result, expiresAtMs } = await this.verifyUncached(token);
    if (this.verified.size >= TokenService.CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { result, expiresAtMs });
    return result;
  }

  private async verifyUncached(token: string): Promise<{ result: { principal: Principal; scope: TokenScope }; expiresAtMs: number }> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] }));
    } catch (error) {
      throw new InvalidTokenError(error instanceof Error ? error.message : 'invalid token');
    }
    const scope: TokenScope = payload.scope === 'stream' ? 'stream' : 'api';
    // Without `exp` a token is cached for a minute at most, so nbf/iat checks stay meaningful.
    const expiresAtMs = typeof payload.exp === 'number' ? Math.min(payload.exp * 1000, Date.now() + 3_600_000) : Date.now() + 60_000;
    const str = (k: string) => (typeof payload[k] === 'string' && (payload[k] as string).length > 0 ? (payload[k] as string) : null);
    const sub = str('sub');
    const propertyId = str('propertyId');
    if (!sub || !propertyId) throw new InvalidTokenError('token lacks sub or propertyId');
    if (payload.typ === 'guest') {
      return { expiresAtMs, result: { scope, principal: { kind: 'guest', conversationId: sub, propertyId, name: str('name') ?? 'Guest' } } };
    }
    const role = payload.role as EmployeeRole;
    if (!ROLES.includes(role)) throw new InvalidTokenError('token role must be agent or admin');
    return { expiresAtMs, result: { scope, principal: { kind: 'employee', id: sub, propertyId, role, name: str('name') ?? sub } } };
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
