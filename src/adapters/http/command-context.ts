/**
 * Per-request command identity. With an `Idempotency-Key` header the command id is derived
 * from it (scoped to the caller), so a retry is answered from the events the first attempt
 * appended and appends nothing; without one every request is a new command.
 */
import { BadRequestException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { v5 as uuidv5 } from 'uuid';
import type { Clock } from '../../application/ports/clock.js';
import { SystemClock } from '../clock/system-clock.js';
import type { Principal } from './auth/principal.js';

const NAMESPACE = '0c6f8f0e-54a4-4d0e-a7a4-3c2f4f6e9b11';
const KEY = /^[A-Za-z0-9_\-:.]{1,200}$/;

export function commandId(req: FastifyRequest, principal: Principal | { kind: 'anonymous' }, route: string): string {
  const key = idempotencyKeyOf(req);
  if (key === undefined) return randomUUID();
  return uuidv5(`${callerScope(principal)}|${route}|${key}`, NAMESPACE);
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

/** Whose keys these are: an employee (per property), a guest conversation, or anonymous. */
export function callerScope(principal: Principal | { kind: 'anonymous' }): string {
  return principal.kind === 'employee' ? `e:${principal.propertyId}:${principal.id}` : principal.kind === 'guest' ? `g:${principal.conversationId}` : 'anon';
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
