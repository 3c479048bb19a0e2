/**
 * What a CLI command runs on: the configuration from the environment, the adapters, and a Nest
 * application context of the core module only — the same commands and queries as the service,
 * but no HTTP server and no consumer of the log (a CLI command never projects, answers or pushes).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { type Adapters, connectAdapters } from '../adapters/adapters.js';
import { ConfigError, type Config, loadConfig } from '../config.js';
import { CoreModule } from '../wiring/core.module.js';

export interface CliContext {
  config: Config;
  adapters: Adapters;
  app: INestApplicationContext;
}

/** A failure the operator can act on: printed without a stack, exit code 1 (2 for configuration). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

export async function withCore<T>(run: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const adapters = await connectAdapters(config);
  const app = await NestFactory.createApplicationContext(CoreModule.forRoot(config, adapters), { logger: ['error'], abortOnError: false });
  try {
    return await run({ config, adapters, app });
  } finally {
    await app.close();
    await adapters.close();
  }
}
