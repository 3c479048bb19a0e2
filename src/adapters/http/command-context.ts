/**
 * Per-request command identity. With an `Idempotency-Key` header the command id is derived
 * from it (scoped to the caller), so a retry is answered from the events the first attempt
 * appended and appends nothing; without one every request is a new command. The id carries the
 * request's fingerprint (command-id.ts): the log itself tells a retry from a reused key.
 */
import { BadRequestException } from '@nestjs/common';
import { hash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { uuidV5 } from '../../domain/name-based-id.js';
import { withRequestFingerprint } from '../../application/commands/command-id.js';
import type { Clock } from '../../application/ports/clock.js';
import { SystemClock } from '../clock/system-clock.js';
import type { Principal } from './auth/principal.js';
import { clientAddress, digest } from './client-address.js';

const NAMESPACE = '0c6f8f0e-54a4-4d0e-a7a4-3c2f4f6e9b11';
const KEY = /^[A-Za-z0-9_\-:.]{1,200}$/;

export type Caller = Principal | { kind: 'anonymous' };

export function commandId(req: FastifyRequest, principal: Caller, route: string): string {
  const key = idempotencyKeyOf(req);
  if (key === undefined) return randomUUID();
  return withRequestFingerprint(uuidV5(`${callerScope(req, principal)}|${route}|${key}`, NAMESPACE), fingerprintOf(req));
}

/** The request's `Idempotency-Key`, if any; a malformed one is a 400. */
export function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0]! : raw;
  if (!KEY.test(key)) {
    throw new BadRequestException({
      message: 'Validation failed',
      details: [{ field: 'Idempotency-Key', messages: ['Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 _ - : .'] }],
    });
  }
  return key;
}

/**
 * Whose keys these are: an employee (per property), a guest conversation, or an anonymous
 * client — which has no identity of its own, so its scope is its address (client-address.ts).
 *
 * Why the address and nothing more: whatever else an anonymous client sends (User-Agent, any
 * header, the body) another client can send too, byte for byte; only two things tell clients
 * apart. The address, which with TRUST_PROXY off a client cannot choose: a client elsewhere
 * sending a victim's key and body lands in its own scope, runs its own command and gets its own
 * conversation. And the key itself, the one secret a client holds when it follows the README
 * (a random UUID per request): on the same address (one NAT), replaying an answer takes the
 * key, which only its sender has. Beyond that, a replayed answer never holds a secret: the
 * guest token is re-minted for the replay, never stored (idempotency.interceptor.ts). The
 * address is digested, so the keys in the shared store hold no address in clear. A client
 * whose address changed between a try and its retry runs the retry as a new command (at worst
 * an abandoned conversation, never someone else's).
 */
export function callerScope(req: Pick<FastifyRequest, 'ip'>, principal: Caller): string {
  if (principal.kind === 'employee') return `e:${principal.propertyId}:${principal.id}`;
  if (principal.kind === 'guest') return `g:${principal.conversationId}`;
  return `a:${digest(clientAddress(req))}`;
}

/** Computed once per request: the idempotency interceptor and the command id both need it. */
const fingerprints = new WeakMap<object, string>();

/** sha256 of method, URL (path + query) and the body as canonical JSON (keys sorted). */
export function fingerprintOf(req: Pick<FastifyRequest, 'method' | 'url' | 'body'>): string {
  let fingerprint = fingerprints.get(req);
  if (fingerprint === undefined) {
    fingerprint = hash('sha256', canonicalJson([req.method, req.url, req.body ?? null]), 'base64url');
    fingerprints.set(req, fingerprint);
  }
  return fingerprint;
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

let commandClock: Clock = new SystemClock();

/**
 * The time requests stamp their commands with comes from the service's clock (CLOCK), set once
 * at start-up by createApp, so event times and the escalation watcher's "now" are one clock
 * (a test clock moves both). One clock per process: the service has exactly one.
 */
export function useCommandClock(clock: Clock): void {
  commandClock = clock;
}

export const now = () => commandClock.now().toISOString();
