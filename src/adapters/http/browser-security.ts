/**
 * What browsers need from the API (README "Frontend"): CORS for the hotel's own pages, and
 * security headers on every answer.
 *
 * CORS (@fastify/cors) only for the exact origins in CORS_ORIGINS; none configured = no CORS
 * headers at all (same-origin only). No credentials: the API uses bearer tokens, never cookies.
 * A preflight from an allowed origin is answered 204 on every route; one from any other origin
 * gets no `Access-Control-Allow-Origin`, so the browser refuses the request. The exposed
 * headers are the ones a client acts on: the request id (support), `Idempotent-Replayed` and
 * `Retry-After` (429/503). SSE responses are written after `reply.hijack()`: the SSE service
 * passes `reply.getHeaders()` on, so these headers reach event streams too.
 *
 * Security headers (helmet): the API answers JSON, so its CSP allows nothing
 * (`default-src 'none'`); the docs page (/docs, @fastify/swagger-ui) replaces it with DOCS_CSP
 * (swagger-ui's `staticCSP`, see app.ts). helmet's middleware is built once and run in an
 * onRequest hook: @fastify/helmet builds it anew for every request (its CSP parsed each time),
 * which the profile showed at ~4% of a command's CPU; the headers are the same.
 */
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * The docs page's CSP (swagger-ui's `staticCSP`, which replaces the API's on /docs): its own
 * scripts only; inline styles allowed (Swagger UI injects <style> elements at run time; helmet's
 * default CSP allows them too); no validator badge (our spec is not sent to a third party).
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' https: 'unsafe-inline'",
  'upgrade-insecure-requests',
].join('; ');

export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID'];
export const CORS_EXPOSED_HEADERS = ['X-Request-Id', 'Idempotent-Replayed', 'Retry-After'];

export async function registerBrowserSecurity(fastify: FastifyInstance, corsOrigins: string[]): Promise<void> {
  const securityHeaders = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
  });
  fastify.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)));
  if (corsOrigins.length === 0) return;
  await fastify.register(cors, {
    origin: corsOrigins,
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    // Browsers keep a preflight's answer this long (Chromium caps it at 2 h): fewer round trips.
    maxAge: 600,
    strictPreflight: true,
  });
}
