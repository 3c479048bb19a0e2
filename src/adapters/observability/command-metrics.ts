/**
 * Measures every command at the CommandBus: HTTP commands and the workers' (AVA's answers,
 * escalations, removed push subscriptions) alike. @nestjs/cqrs has no hook around a handler
 * (its command publisher only sees a command before it runs), so this wraps the bus's
 * `execute` once at start-up: name = the command's class, outcome = `ok`, the kind of the
 * DomainError it ended with, `conflict` for a lost race that exhausted its retries, `error`.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { WrongExpectedVersionError } from '../../application/ports/event-store.js';
import { METRICS } from '../../application/ports/tokens.js';
import { DomainError } from '../../domain/errors.js';
import type { CommandOutcome, Metrics } from './metrics.js';

export function commandOutcome(error: unknown): CommandOutcome {
  if (error instanceof DomainError) return error.kind;
  if (error instanceof WrongExpectedVersionError) return 'conflict';
  return 'error';
}

@Injectable()
export class CommandMetrics implements OnModuleInit {
  constructor(
    private readonly bus: CommandBus,
    @Inject(METRICS) private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    const execute = this.bus.execute.bind(this.bus);
    const metrics = this.metrics;
    const metered = async (command: object, ...rest: unknown[]): Promise<unknown> => {
      const name = command.constructor.name;
      const started = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        const result = await (execute as (c: object, ...r: unknown[]) => Promise<unknown>)(command, ...rest);
        metrics.commandFinished(name, 'ok', seconds());
        return result;
      } catch (error) {
        metrics.commandFinished(name, commandOutcome(error), seconds());
        throw error;
      }
    };
    this.bus.execute = metered as CommandBus['execute'];
  }
}
