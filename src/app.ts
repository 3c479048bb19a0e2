/** Builds the Nest application on Fastify; used by main.ts and by the tests alike. */
import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { type FastifyError, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { fileURLToPath } from 'node:url';
import type { DestinationStream, Logger } from 'pino';
import { type Adapters, connectAdapters } from './adapters/adapters.js';
import { useCommandClock } from './adapters/http/command-context.js';
import { DOCS_CSP, registerBrowserSecurity } from './adapters/http/browser-security.js';
import { toErrorBody, validationException, withRequestId } from './adapters/http/errors.js';
import { jsonBodyParser } from './adapters/http/json-body-parser.js';
import { registerRateLimits } from './adapters/http/rate-limit.js';
import { answerMethodNotAllowed } from './adapters/http/method-not-allowed.js';
import { ShutdownGate } from './adapters/http/shutdown-gate.js';
import { NestPinoLogger, createLogger, logRequests, requestIdOf, trackRequest } from './adapters/observability/logging.js';
import { AppModule } from './wiring/app.module.js';
import type { Config } from './config.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.yaml', import.meta.url));

export interface App {
  app: NestFastifyApplication;
  adapters: Adapters;
  /** The process's one logger (Fastify's and Nest's). */
  logger: Logger;
  close(): Promise<void>;
}

export interface AppOptions {
  /** `false`: log nothing, whatever LOG_LEVEL says (the tests' default). */
  logger?: false;
  /** Where the JSON lines go instead of stdout (tests, benchmarks). */
  logDestination?: DestinationStream;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = createLogger(options.logger === false ? 'silent' : config.logLevel, options.logDestination);
  const adapters = await connectAdapters(config);
  useCommandClock(adapters.clock);
  const fastify = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // Slow clients (slowloris): headers within HEADERS_TIMEOUT_MS, the whole request within
    // REQUEST_TIMEOUT_MS, else 408 and the connection is closed. Fastify's default (0) switches
    // Node's request timeout off; Node checks both only every connectionsCheckingInterval.
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.floor(config.headersTimeoutMs / 2)),
    },
    // TRUST_PROXY (off by default): otherwise any client could pick its address with X-Forwarded-For.
    trustProxy: config.trustProxy,
    loggerInstance: logger,
    // Fastify's own request lines off: logRequests logs each request once, with its route and principal.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdOf,
    // The router rejects a malformed URL (400) before any hook or Nest filter runs: answered in
    // the one error shape, with its request id, and logged like any request.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      trackRequest(request, reply);
      const body = withRequestId(toErrorBody(error), request.id);
      void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
    },
  });
  logRequests(fastify.getInstance());
  // From close() on, new requests get 503 shutting_down and every answer closes its connection (shutdown-gate.ts).
  const gate = new ShutdownGate();
  gate.install(fastify.getInstance());
  answerMethodNotAllowed(fastify.getInstance()); // before any route is added: it records their methods
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, adapters), fastify, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
  });
  // JSON bodies: objects only, depth and key count bounded, prototype poisoning refused (json-body-parser.ts).
  app.useBodyParser('application/json', { bodyLimit: config.bodyLimitBytes }, jsonBodyParser(fastify.getInstance()));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationException,
    }),
  );
  // No enableShutdownHooks(): main.ts handles SIGTERM/SIGINT (close() with a hard timeout, exit 0);
  // Nest's handler would re-raise the signal after its hooks, before the stores are closed.
  // Security headers on every answer, CORS for CORS_ORIGINS (browser-security.ts); preflights are answered before any limit.
  await registerBrowserSecurity(fastify.getInstance(), config.corsOrigins);
  if (config.roles.includes('api')) {
    // Abuse limits per address / per token (rate-limit.ts); /health and /metrics are never limited.
    await registerRateLimits(fastify.getInstance(), config);
    await app.register(fastifySwagger as never, { mode: 'static', specification: { path: OPENAPI_FILE, baseDir: '.' } });
    // staticCSP: the docs page gets the CSP its own files need (DOCS_CSP) instead of the API's `default-src 'none'`.
    await app.register(fastifySwaggerUi as never, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  }
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    adapters,
    logger,
    async close() {
      gate.close();
      await app.close();
      await adapters.close();
    },
  };
}
