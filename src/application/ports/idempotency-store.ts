/**
 * Remembers the first answer to a request sent with an `Idempotency-Key`, so a retry (also one
 * that reaches another instance) gets that answer again instead of running again.
 *
 * A key goes through: absent → `begin` marks it in flight (for `inFlightTtlMs`, so a crashed
 * request does not block its key for long) → `complete` stores the answer (for `ttlMs`,
 * default 24 h) or `abandon` removes the marker (a retry may run again). `begin` on a key that
 * is in flight or done says so; with another request fingerprint it says `mismatch` instead.
 *
 * `begin` is atomic: of any number of concurrent `begin`s on an absent key exactly one gets
 * `new`. `complete` and `abandon` act only for the `begin` that returned their token, so a
 * request whose marker expired cannot overwrite or remove a later request's marker.
 */

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_IN_FLIGHT_TTL_MS = 60 * 1000;

export interface IdempotencyStoreOptions {
  /** How long a completed answer is kept; default 24 h. */
  ttlMs?: number;
  /** How long an in-flight marker blocks its key (unless completed/abandoned first); default 60 s. */
  inFlightTtlMs?: number;
}

/** What the first request answered: its HTTP status and JSON body. */
export interface IdempotentAnswer {
  statusCode: number;
  body: unknown;
}

export type BeginResult =
  /** This caller owns the key now: run the request, then `complete` or `abandon` with `token`. */
  | { state: 'new'; token: string }
  /** Another request with this key (and fingerprint) is running. */
  | { state: 'in_flight' }
  /** A request with this key (and fingerprint) already answered. */
  | { state: 'done'; answer: IdempotentAnswer }
  /** The key is in flight or done for a different request (another fingerprint). */
  | { state: 'mismatch' };

export interface IdempotencyStore {
  begin(key: string, fingerprint: string): Promise<BeginResult>;
  /** Stores the answer (unless another `begin` owns the key meanwhile). */
  complete(key: string, token: string, answer: IdempotentAnswer): Promise<void>;
  /** Removes the in-flight marker, if it is still this token's. */
  abandon(key: string, token: string): Promise<void>;
  close(): Promise<void>;
}

export function checkTtls(options: IdempotencyStoreOptions): Required<IdempotencyStoreOptions> {
  const ttlMs = options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const inFlightTtlMs = options.inFlightTtlMs ?? DEFAULT_IN_FLIGHT_TTL_MS;
  for (const [name, value] of [
    ['ttlMs', ttlMs],
    ['inFlightTtlMs', inFlightTtlMs],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`idempotency ${name} must be a positive integer (got ${value})`);
  }
  return { ttlMs, inFlightTtlMs };
}
