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
import { toErrorBody, validationException, withRequestId } from './adapters/http/errors.js';
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
    trustProxy: true,
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
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, adapters), fastify, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationException,
    }),
  );
  app.enableShutdownHooks();
  if (config.roles.includes('api')) {
    await app.register(fastifySwagger as never, { mode: 'static', specification: { path: OPENAPI_FILE, baseDir: '.' } });
    await app.register(fastifySwaggerUi as never, { routePrefix: '/docs' });
  }
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    adapters,
    logger,
    async close() {
      await app.close();
      await adapters.close();
    },
  };
}
