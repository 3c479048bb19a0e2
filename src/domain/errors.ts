/**
 * A rule of SPEC §2 said no. `code` is stable for clients; `kind` decides the HTTP status
 * at the edge (the domain knows nothing of HTTP): conflict → 409, forbidden → 403,
 * not_found → 404, invalid → 400, unavailable (a capability this deployment lacks) → 503,
 * unprocessable (well-formed, but it contradicts what was recorded, e.g. a reused Idempotency-Key) → 422.
 */
export type DomainErrorKind = 'conflict' | 'forbidden' | 'not_found' | 'invalid' | 'unavailable' | 'unprocessable';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
