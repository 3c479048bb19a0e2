/** Demo-only commands: a token for a demo employee, and the demo's seed data. Refused outside the demo. */
import { CommandBus } from '@nestjs/cqrs';
import { TokenService } from '../adapters/http/auth/token.service.js';
import type { Config } from '../config.js';
import { seedDemo } from '../demo/seed.js';
import { CliError, cliConfig, withCore } from './context.js';

/** The demo is the embedded store without AUTH_JWT_SECRET: its secret lives in DATA_DIR. */
function requireDemo(config: Config, what: string): void {
  if (!config.demo) {
    throw new CliError(`${what} works only in the embedded demo (no AUTH_JWT_SECRET and no store URL); tokens come from your identity provider`);
  }
}

/** `--ops` adds the service operator claim (`ops: true`: GET /v1/ops/projections, rebuilds). */
export async function devToken(employeeId: string, options: { property: string; role: string; name?: string; ttl: string; ops?: boolean }): Promise<void> {
  const config = cliConfig();
  requireDemo(config, 'dev-token');
  if (options.role !== 'agent' && options.role !== 'admin') throw new CliError(`--role must be agent or admin (got "${options.role}")`);
  const ttl = /^(\d+)([smh])$/.exec(options.ttl);
  if (!ttl) throw new CliError(`--ttl must be like 30m or 12h (got "${options.ttl}")`);
  // A longer token would be refused by the service (AUTH_MAX_TOKEN_LIFETIME_SECONDS): say so now.
  const seconds = Number(ttl[1]) * { s: 1, m: 60, h: 3600 }[ttl[2] as 's' | 'm' | 'h'];
  const max = config.auth.maxTokenLifetimeSeconds;
  if (seconds > max) throw new CliError(`--ttl ${options.ttl} is longer than the service accepts (AUTH_MAX_TOKEN_LIFETIME_SECONDS=${max})`);
  const token = await new TokenService(config.jwtSecret).employeeToken(
    { id: employeeId, propertyId: options.property, role: options.role, name: options.name ?? employeeId, ops: options.ops === true },
    seconds,
  );
  console.log(token);
}

export async function seed(): Promise<void> {
  requireDemo(cliConfig(), 'seed-demo');
  await withCore(async ({ adapters, app }) => {
    if ((await adapters.eventStore.headPosition()) !== null) {
      console.log('the store already has events: nothing seeded (seed-demo only seeds an empty demo store)');
      return;
    }
    const conversationId = await seedDemo(app.get(CommandBus));
    console.log(`seeded the demo hotel (conversation ${conversationId})`);
  });
}
