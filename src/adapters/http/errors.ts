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
import { recordRequestError } from '../observability/logging.js';

const STATUS_BY_KIND: Record<DomainErrorKind, number> = { conflict: 409, forbidden: 403, not_found: 404, invalid: 400, unavailable: 503 };

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
  const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return errorBody(fastifyError.statusCode, fastifyError.message ?? 'Bad request', { code: fastifyError.code });
  }
  return errorBody(500, 'Internal server error');
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
