/**
 * One error shape for every failure: { statusCode, error, message, code?, details?, requestId }.
 * Domain rule violations map by kind; Fastify's own errors (body too large, bad JSON) keep
 * their status. `requestId` is the request's id (also in the X-Request-Id header and on its
 * log lines); a 5xx's exception goes to the request's log line, never to the body.
 */
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger, type ValidationError } from '@nestjs/common';
import { BadRequestException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorKind } from '../../domain/errors.js';
import { WrongExpectedVersionError } from '../../application/ports/event-store.js';
import { asStorageFault } from '../storage-faults.js';
import { recordRequestError } from '../observability/logging.js';

const STATUS_BY_KIND: Record<DomainErrorKind, number> = { conflict: 409, forbidden: 403, not_found: 404, invalid: 400, unavailable: 503, unprocessable: 422 };

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
  details?: unknown;
  requestId?: string;
}

export function errorBody(statusCode: number, message: string, extra: Partial<ErrorBody> = {}): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...extra };
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const body = withRequestId(toErrorBody(exception), request?.id);
    if (reply.sent || reply.raw.headersSent) {
      // The request's log line may be written already (e.g. a stream that failed after it started).
      if (body.statusCode >= 500) this.logger.error(exception);
      return;
    }
    if (body.statusCode >= 500) recordRequestError(request, exception);
    const retryAfter = retryAfterSeconds(exception);
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}

/** An error body with the id of the request it answers (also a replayed one: the retry's id). */
export function withRequestId(body: ErrorBody, requestId: string | undefined): ErrorBody {
  return typeof requestId === 'string' ? { ...body, requestId } : body;
}

/**
 * The status and body the ErrorFilter renders for an exception (without `requestId`, which
 * belongs to the request answered). Exported so that code which
 * sees exceptions before the filter (the idempotency interceptor) records exactly that answer.
 * An HttpException whose response object has a string `code` keeps it.
 */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof DomainError) {
    return errorBody(STATUS_BY_KIND[exception.kind], exception.message, { code: exception.code, details: exception.details });
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    const code = typeof res === 'object' && res !== null && typeof (res as { code?: unknown }).code === 'string' ? { code: (res as { code: string }).code } : {};
    if (typeof res === 'object' && res !== null && 'details' in res) {
      return errorBody(status, String((res as { message?: unknown }).message ?? exception.message), {
        ...code,
        details: (res as { details: unknown }).details,
      });
    }
    const message = typeof res === 'object' && res !== null && 'message' in res ? (res as { message: unknown }).message : exception.message;
    return errorBody(status, Array.isArray(message) ? message.join('; ') : String(message), code);
  }
  // Transient: nothing was written, the same request may be retried (503, so an Idempotency-Key is released, not kept).
  const storage = asStorageFault(exception);
  if (storage) {
    return errorBody(503, 'Storage is unavailable right now; nothing was written, try again later', { code: 'storage_unavailable', details: { store: storage.store } });
  }
  if (exception instanceof WrongExpectedVersionError) {
    // A conflict that outlasted every retry (writers in other processes on the same stream).
    return errorBody(503, 'Too many concurrent changes to this conversation; nothing was written, try again', { code: 'stream_busy' });
  }
  const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return errorBody(fastifyError.statusCode, fastifyError.message ?? 'Bad request', { code: fastifyError.code });
  }
  return errorBody(500, 'Internal server error');
}

/** Seconds for `Retry-After` on the answers that say "try again": storage faults, an exhausted conflict. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;
export const STREAM_BUSY_RETRY_AFTER_SECONDS = 1;

export function retryAfterSeconds(exception: unknown): number | undefined {
  if (asStorageFault(exception)) return STORAGE_RETRY_AFTER_SECONDS;
  if (exception instanceof WrongExpectedVersionError) return STREAM_BUSY_RETRY_AFTER_SECONDS;
  return undefined;
}

/** class-validator errors flattened to [{ field: 'closureMessage.text', messages: [...] }]. */
export function validationException(errors: ValidationError[]): BadRequestException {
  const details: Array<{ field: string; messages: string[] }> = [];
  const walk = (list: ValidationError[], prefix: string) => {
    for (const e of list) {
      const field = prefix ? `${prefix}.${e.property}` : e.property;
      if (e.constraints) details.push({ field, messages: Object.values(e.constraints) });
      if (e.children?.length) walk(e.children, field);
    }
  };
  walk(errors, '');
  return new BadRequestException({ message: 'Validation failed', details });
}
