/**
 * `Idempotency-Key` on POST/PUT: a retry (also one that reaches another instance) gets the
 * first answer again, status and body, with `Idempotent-Replayed: true`, and runs nothing.
 *
 * The key is scoped like command ids (command-context.ts): caller (employee per property,
 * guest conversation, or an anonymous client's address) and route (method + path, so the target
 * id too). The request's fingerprint (method, URL with query, body) is stored with it:
 * - same key, other fingerprint (e.g. another body)    → 422 `idempotency_key_reused`
 * - same key while the first request is still running  → 409 `idempotency_key_in_flight`
 * - same key after it answered                          → that answer, replayed
 * The first answer is stored for 2xx and 4xx (a rule violation is an answer too), except
 * 401/408/429, which say nothing about the command; on 5xx or an unexpected exception the key
 * is released, so a retry runs again. Errors are stored exactly as the ErrorFilter renders
 * them (toErrorBody, with the first request's requestId: a replay is the first answer). Retries
 * that run again still append nothing: event ids derive from the key (run-decision.ts). If the
 * store is unreachable, requests run without it (logged).
 *
 * Secrets in an answer (a guest token, marked with @SecretsInAnswer) are never stored: the
 * stored answer lacks them, and a replay of a 2xx runs the handler again — a command that finds
 * its events and appends nothing — which issues them anew, to the same caller only (the scope).
 */
import {
  type CallHandler,
  ConflictException,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  SetMetadata,
  UnprocessableEntityException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Observable, defer, from, lastValueFrom, of } from 'rxjs';
import { mergeMap } from 'rxjs/operators';
import type { BeginResult, IdempotencyStore } from '../../application/ports/idempotency-store.js';
import { IDEMPOTENCY } from '../../application/ports/tokens.js';
import type { Principal } from './auth/principal.js';
import { callerScope, fingerprintOf, idempotencyKeyOf } from './command-context.js';
import { toErrorBody, withRequestId } from './errors.js';

export const REPLAYED_HEADER = 'Idempotent-Replayed';
const METHODS = new Set(['POST', 'PUT']);
/** 4xx answers that are not stored: they say nothing about the command itself. */
const TRANSIENT = new Set([401, 408, 429]);

type Request = FastifyRequest & { principal?: Principal };

export { fingerprintOf };

const SECRETS = 'idempotency:secrets';
/** Fields of the route's answer that are secrets: never stored; a replay re-runs the handler to issue them again. */
export const SecretsInAnswer = (...fields: string[]) => SetMetadata(SECRETS, fields);

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');

  constructor(
    @Inject(IDEMPOTENCY) private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    if (!METHODS.has(req.method)) return next.handle();
    const key = idempotencyKeyOf(req); // a malformed key is a 400 here already
    if (key === undefined) return next.handle();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const path = req.url.split('?', 1)[0]!;
    const scoped = `${callerScope(req, req.principal ?? { kind: 'anonymous' })}|${req.method} ${path}|${key}`;
    const fingerprint = fingerprintOf(req);
    const secrets = this.reflector.get<string[] | undefined>(SECRETS, context.getHandler()) ?? [];

    return defer(() => this.begin(scoped, fingerprint)).pipe(
      mergeMap((begun) => {
        switch (begun?.state) {
          case undefined:
            return next.handle(); // store unavailable: run unguarded
          case 'done':
            void reply.status(begun.answer.statusCode).header(REPLAYED_HEADER, 'true');
            // The stored answer lacks its secrets: the (idempotent) handler issues them again.
            if (secrets.length > 0 && begun.answer.statusCode < 300) return next.handle();
            return of(begun.answer.body);
          case 'in_flight':
            throw new ConflictException({
              message: 'A request with this Idempotency-Key is still in progress',
              code: 'idempotency_key_in_flight',
            });
          case 'mismatch':
            throw new UnprocessableEntityException({
              message: 'This Idempotency-Key was already used for a different request',
              code: 'idempotency_key_reused',
            });
          case 'new':
            return from(this.run(scoped, begun.token, next, reply, req.id, secrets));
        }
      }),
    );
  }

  private async begin(key: string, fingerprint: string): Promise<BeginResult | undefined> {
    try {
      return await this.store.begin(key, fingerprint);
    } catch (err) {
      this.logger.error(`idempotency store unavailable, running the request without it: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async run(key: string, token: string, next: CallHandler, reply: FastifyReply, requestId: string, secrets: string[]): Promise<unknown> {
    let value: unknown;
    try {
      value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (err) {
      // Stored as the first request answered it, its request id included: a replay is that answer.
      const body = withRequestId(toErrorBody(err), requestId);
      if (body.statusCode >= 400 && body.statusCode < 500 && !TRANSIENT.has(body.statusCode)) {
        await this.settle('complete', () => this.store.complete(key, token, { statusCode: body.statusCode, body }));
      } else {
        await this.settle('abandon', () => this.store.abandon(key, token));
      }
      throw err;
    }
    const statusCode = reply.statusCode;
    if (statusCode >= 500 || reply.sent) {
      await this.settle('abandon', () => this.store.abandon(key, token));
    } else {
      await this.settle('complete', () => this.store.complete(key, token, { statusCode, body: withoutSecrets(value ?? null, secrets) }));
    }
    return value;
  }

  private async settle(what: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (err) {
      this.logger.error(`cannot ${what} an idempotency key (it expires by itself): ${(err as Error).message}`);
    }
  }
}

function withoutSecrets(body: unknown, secrets: string[]): unknown {
  if (secrets.length === 0 || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([field]) => !secrets.includes(field)));
}
