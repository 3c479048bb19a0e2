/**
 * JWTs (jose). Three kinds, each verified with its own key, so none can pass for another:
 * - employee tokens come from the identity provider: HS256 with AUTH_JWT_SECRET, or, when
 *   AUTH_JWKS_URL is set, RS256 with a key from that JWKS (HS256 then refused). `exp` required,
 *   lifetime capped (AUTH_MAX_TOKEN_LIFETIME_SECONDS), `iss`/`aud` checked when configured;
 * - guest tokens (`aud` GUEST_AUDIENCE) are the service's own, HS256 with a key derived
 *   (HKDF) from AUTH_JWT_SECRET for guests only: a token signed with the secret itself, which
 *   the identity provider holds in HS256 mode, is never a guest token;
 * - stream tokens (`aud` STREAM_AUDIENCE), for `?access_token=`, with a key derived for them,
 *   and never outliving the token that minted them.
 * The principal's kind follows from the key that verified the token, never from a claim alone.
 * An employee token's `ops` claim (exactly `true`, set by the identity provider for the
 * service's operators) grants the service-wide operations; a stream token never carries it.
 */
import { Injectable } from '@nestjs/common';
import { type KeyObject, createSecretKey, hkdfSync } from 'node:crypto';
import { type JWTPayload, type JWTVerifyGetKey, SignJWT, createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import type { EmployeePrincipal, EmployeeRole, GuestPrincipal, Principal, TokenScope, VerifiedToken } from './principal.js';

const ROLES: EmployeeRole[] = ['agent', 'admin'];
export const STREAM_TOKEN_TTL_SECONDS = 300;
export const GUEST_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** Who signs the service's own tokens, and the audiences that tell guest and stream tokens apart. */
export const SERVICE_ISSUER = 'live-chat-tickets';
export const GUEST_AUDIENCE = 'live-chat-tickets:guest';
export const STREAM_AUDIENCE = 'live-chat-tickets:stream';
/** Leeway for clocks that differ a little between the identity provider and us. */
const CLOCK_TOLERANCE_SECONDS = 30;

export class InvalidTokenError extends Error {}
/** The JWKS could not be fetched (timeout, network, not a key set): not the token's fault. */
export class SigningKeysUnavailableError extends Error {}

export interface TokenOptions {
  /** AUTH_JWT_SECRET: the service's own secret (guest and stream keys derive from it); verifies HS256 employee tokens unless `jwksUrl` is set. */
  secret: string;
  /** AUTH_JWKS_URL: employee tokens are RS256, keys from here; HS256 employee tokens are refused. */
  jwksUrl?: string | null;
  /** AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE: required `iss` / `aud` of employee tokens when set. */
  issuer?: string | null;
  audience?: string | null;
  /** AUTH_MAX_TOKEN_LIFETIME_SECONDS: the longest `exp − iat` (or `exp − now`) an employee token may have. */
  maxLifetimeSeconds?: number;
}

type Kind = 'employee' | 'guest' | 'stream';

/** A key of its own for each kind of token the service signs, derived so one secret is enough. */
function derivedKey(secret: string, info: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'live-chat-tickets', info, 32)));
}

@Injectable()
export class TokenService {
  /** KeyObjects, imported once: jose re-imports a raw Uint8Array secret on every call. */
  private readonly employeeSecret: KeyObject;
  private readonly guestKey: KeyObject;
  private readonly streamKey: KeyObject;
  private readonly jwks: JWTVerifyGetKey | null;
  private readonly options: Required<Omit<TokenOptions, 'secret'>>;

  /** A string is the secret alone (HS256 employee tokens, default limits): the tests' and the CLI's form. */
  constructor(options: TokenOptions | string) {
    const o = typeof options === 'string' ? { secret: options } : options;
    this.employeeSecret = createSecretKey(Buffer.from(o.secret, 'utf8'));
    this.guestKey = derivedKey(o.secret, 'guest token v1');
    this.streamKey = derivedKey(o.secret, 'stream token v1');
    this.jwks = o.jwksUrl ? createRemoteJWKSet(new URL(o.jwksUrl), { timeoutDuration: 5000 }) : null;
    this.options = {
      jwksUrl: o.jwksUrl ?? null,
      issuer: o.issuer ?? null,
      audience: o.audience ?? null,
      maxLifetimeSeconds: o.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    };
  }

  /**
   * Verified tokens by their text, until they expire: a token is immutable, so checking its
   * signature once is enough, and WebCrypto verification was ~10% of a command's CPU. An
   * entry lives an hour at most, so a key removed from the JWKS stops working within the hour.
   */
  private readonly verified = new Map<string, { result: VerifiedToken; cachedUntilMs: number }>();
  private static readonly CACHE_SIZE = 10_000;

  async verify(token: string): Promise<VerifiedToken> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.cachedUntilMs > Date.now()) return cached.result;
      this.verified.delete(token);
    }
    const result = await this.verifyUncached(token);
    if (this.verified.size >= TokenService.CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { result, cachedUntilMs: Math.min(result.expiresAtMs, Date.now() + 3_600_000) });
    return result;
  }

  private async verifyUncached(token: string): Promise<VerifiedToken> {
    let kind: Kind;
    try {
      // Only to pick the key: the claims count once the signature under that key is checked.
      const aud = decodeJwt(token).aud;
      kind = aud === GUEST_AUDIENCE ? 'guest' : aud === STREAM_AUDIENCE ? 'stream' : 'employee';
    } catch {
      throw new InvalidTokenError('malformed token');
    }
    const payload = await this.checkSignatureAndClaims(token, kind);
    const exp = payload.exp!;
    this.checkLifetime(payload, kind);

    const str = (k: string) => (typeof payload[k] === 'string' && (payload[k] as string).length > 0 ? (payload[k] as string) : null);
    const sub = str('sub');
    const propertyId = str('propertyId');
    if (!sub || !propertyId) throw new InvalidTokenError('token lacks sub or propertyId');
    const scope: TokenScope = kind === 'stream' ? 'stream' : 'api';
    const expiresAtMs = exp * 1000;
    if (kind === 'guest' || (kind === 'stream' && payload.typ === 'guest')) {
      return { scope, expiresAtMs, principal: { kind: 'guest', conversationId: sub, propertyId, name: str('name') ?? 'Guest' } };
    }
    const role = payload.role as EmployeeRole;
    if (!ROLES.includes(role)) throw new InvalidTokenError('token role must be agent or admin');
    // Only the boolean true counts ("true", 1 do not); stream tokens only open streams, so never ops.
    const ops = kind === 'employee' && payload.ops === true;
    return { scope, expiresAtMs, principal: { kind: 'employee', id: sub, propertyId, role, name: str('name') ?? sub, ops } };
  }

  private async checkSignatureAndClaims(token: string, kind: Kind): Promise<JWTPayload> {
    const own = kind !== 'employee';
    try {
      if (own) {
        const key = kind === 'guest' ? this.guestKey : this.streamKey;
        const audience = kind === 'guest' ? GUEST_AUDIENCE : STREAM_AUDIENCE;
        return (await jwtVerify(token, key, { algorithms: ['HS256'], issuer: SERVICE_ISSUER, audience, requiredClaims: ['exp'] })).payload;
      }
      const options = {
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
        ...(this.options.audience ? { audience: this.options.audience } : {}),
      };
      if (this.jwks) return (await jwtVerify(token, this.jwks, { ...options, algorithms: ['RS256'] })).payload;
      return (await jwtVerify(token, this.employeeSecret, { ...options, algorithms: ['HS256'] })).payload;
    } catch (error) {
      if (!own && this.jwks && keysUnavailable(error)) {
        throw new SigningKeysUnavailableError(`the identity provider's signing keys (AUTH_JWKS_URL) could not be fetched`);
      }
      throw new InvalidTokenError(error instanceof Error ? error.message : 'invalid token');
    }
  }

  /** `exp − iat`, and `exp − now` (a forged `iat` in the future shortens nothing), within the kind's maximum. */
  private checkLifetime(payload: JWTPayload, kind: Kind): void {
    const max = kind === 'employee' ? this.options.maxLifetimeSeconds : kind === 'guest' ? GUEST_TOKEN_TTL_SECONDS : STREAM_TOKEN_TTL_SECONDS;
    const exp = payload.exp!;
    const fromNow = exp - Math.floor(Date.now() / 1000);
    const fromIssue = typeof payload.iat === 'number' ? exp - payload.iat : fromNow;
    const lifetime = Math.max(fromIssue, fromNow - CLOCK_TOLERANCE_SECONDS);
    if (lifetime > max) throw new InvalidTokenError(`token lifetime (${lifetime} s from iat or now to exp) exceeds the maximum of ${max} s`);
  }

  /**
   * For the demo, the CLI and tests: an HS256 employee token as the identity provider would sign
   * it, valid `lifetimeSeconds` (12 h, or the maximum if shorter); `ops: true` adds the service
   * operator claim.
   */
  employeeToken(e: Omit<EmployeePrincipal, 'kind' | 'ops'> & { ops?: boolean }, lifetimeSeconds = Math.min(12 * 3600, this.options.maxLifetimeSeconds)): Promise<string> {
    if (this.jwks) throw new Error('employee tokens come from the identity provider when AUTH_JWKS_URL is set');
    const { iat, exp } = validity(lifetimeSeconds);
    const jwt = new SignJWT({ propertyId: e.propertyId, role: e.role, name: e.name, ...(e.ops ? { ops: true } : {}) })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(e.id)
      .setIssuedAt(iat)
      .setExpirationTime(exp);
    if (this.options.issuer) jwt.setIssuer(this.options.issuer);
    if (this.options.audience) jwt.setAudience(this.options.audience);
    return jwt.sign(this.employeeSecret);
  }

  guestToken(g: Omit<GuestPrincipal, 'kind'>): Promise<string> {
    const { iat, exp } = validity(GUEST_TOKEN_TTL_SECONDS);
    return new SignJWT({ typ: 'guest', propertyId: g.propertyId, name: g.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(SERVICE_ISSUER)
      .setAudience(GUEST_AUDIENCE)
      .setSubject(g.conversationId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.guestKey);
  }

  /**
   * A stream token for `p`, expiring in STREAM_TOKEN_TTL_SECONDS or when the minting token
   * expires (`mintingExpiresAtMs`), whichever is first; `expiresInSeconds` is its real lifetime.
   */
  async streamToken(p: Principal, mintingExpiresAtMs: number): Promise<{ token: string; expiresInSeconds: number }> {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const exp = Math.min(nowSeconds + STREAM_TOKEN_TTL_SECONDS, Math.floor(mintingExpiresAtMs / 1000));
    // Never `ops`: a stream token opens streams only, whoever minted it.
    const claims =
      p.kind === 'guest' ? { typ: 'guest', propertyId: p.propertyId, name: p.name } : { propertyId: p.propertyId, role: p.role, name: p.name };
    const token = await new SignJWT({ ...claims, scope: 'stream' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(SERVICE_ISSUER)
      .setAudience(STREAM_AUDIENCE)
      .setSubject(p.kind === 'guest' ? p.conversationId : p.id)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(exp)
      .sign(this.streamKey);
    return { token, expiresInSeconds: Math.max(0, exp - nowSeconds) };
  }
}

/**
 * `iat` and `exp` from ONE reading of the clock: jose's setIssuedAt() and a relative
 * setExpirationTime('…s') each read it, so a second boundary between the two made a token one
 * second longer than its lifetime — refused by checkLifetime when that lifetime is the maximum
 * (guest tokens always; seen in the bench, 1 of ~10^5).
 */
function validity(lifetimeSeconds: number): { iat: number; exp: number } {
  const iat = Math.floor(Date.now() / 1000);
  return { iat, exp: iat + lifetimeSeconds };
}

/** A JWKS fetch that failed (timeout, network, not 200, not a key set), as opposed to a bad token. */
function keysUnavailable(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error.code === 'ERR_JOSE_GENERIC';
}
