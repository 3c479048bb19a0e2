export type EmployeeRole = 'agent' | 'admin';

export interface EmployeePrincipal {
  kind: 'employee';
  id: string;
  propertyId: string;
  role: EmployeeRole;
  name: string;
  /**
   * A service operator (token claim `ops: true`, set by the identity provider): may use the
   * service-wide operations (GET /v1/ops/projections, rebuilds), whatever the role. Always
   * false on a stream token, which only opens streams.
   */
  ops: boolean;
}

export interface GuestPrincipal {
  kind: 'guest';
  conversationId: string;
  propertyId: string;
  name: string;
}

export type Principal = EmployeePrincipal | GuestPrincipal;

/** `stream` tokens are short-lived, may travel in a query string, and open only SSE routes. */
export type TokenScope = 'api' | 'stream';

/** What TokenService.verify establishes about a token. */
export interface VerifiedToken {
  principal: Principal;
  scope: TokenScope;
  /** The token's `exp`, in ms since the epoch (every accepted token has one). */
  expiresAtMs: number;
}

/**
 * What the AuthGuard sets on every authenticated request. `tokenExpiresAtMs` is when the
 * token used expires (ms since the epoch): the SSE service ends a stream then, and the client
 * resumes with a fresh stream token and `Last-Event-ID`.
 */
export interface AuthenticatedRequestFields {
  principal?: Principal;
  tokenExpiresAtMs?: number;
}

declare module 'fastify' {
  // One declaration, so the guard and the SSE service read the same name without casts.
  interface FastifyRequest extends AuthenticatedRequestFields {}
}

/**
 * The token a request bears: the `Authorization: Bearer` header, or — only where `queryAllowed`
 * (stream routes: EventSource cannot send headers) — `?access_token=`. One reading for the
 * AuthGuard and the rate limiter, so both key on the same token.
 */
export function bearerTokenOf(req: { headers: { authorization?: string }; query?: unknown }, queryAllowed: boolean): { token: string; fromQuery: boolean } | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) {
    const token = header.slice(7).trim();
    return token ? { token, fromQuery: false } : undefined;
  }
  if (!queryAllowed) return undefined;
  const query = req.query as Record<string, unknown> | undefined;
  return typeof query?.access_token === 'string' && query.access_token !== '' ? { token: query.access_token, fromQuery: true } : undefined;
}
