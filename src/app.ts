/** Builds the Nest application on Fastify; used by main.ts and by the tests alike. */
import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { fileURLToPath } from 'node:url';
import { type Adapters, connectAdapters } from './adapters/adapters.js';
import { useCommandClock } from './adapters/http/command-context.js';
import { validationException } from './adapters/http/errors.js';
import { AppModule } from './wiring/app.module.js';
import type { Config } from './config.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.yaml', import.meta.url));

export interface App {
  app: NestFastifyApplication;
  adapters: Adapters;
  close(): Promise<void>;
}

export async function createApp(config: Config, options: { logger?: false | ('log' | 'error' | 'warn')[] } = {}): Promise<App> {
  const adapters = await connectAdapters(config);
  useCommandClock(adapters.clock);
  const fastify = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, trustProxy: true });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, adapters), fastify, {
    logger: options.logger ?? ['warn', 'error'],
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
    async close() {
      await app.close();
      await adapters.close();
    },
  };
}
