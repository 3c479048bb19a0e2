/**
 * Entry point. With no store URL it runs everything in one process on the embedded store;
 * without AUTH_JWT_SECRET there too it is the demo: seeded data and printed tokens.
 */
import { CommandBus } from '@nestjs/cqrs';
import { TokenService } from './adapters/http/auth/token.service.js';
import { createApp } from './app.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { DEMO_EMPLOYEES, DEMO_PROPERTY, seedDemo } from './demo/seed.js';

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const { app, adapters, logger } = await createApp(config);
  const empty = (await adapters.eventStore.headPosition()) === null;
  await app.listen({ port: config.port, host: config.host });
  const base = `http://localhost:${config.port}`;
  logger.info({ roles: config.roles, stores: adapters.describe }, `live-chat-tickets listening on ${base} (${adapters.describe}; roles: ${config.roles.join(', ')})`);
  if (config.demo) await printDemo(app.get(CommandBus), app.get(TokenService), base, empty);
}

async function printDemo(commands: CommandBus, tokens: TokenService, base: string, empty: boolean) {
  if (empty) await seedDemo(commands);
  const lines: string[] = ['', 'Demo mode (embedded store, generated secret). Tokens valid 12 h:'];
  for (const e of DEMO_EMPLOYEES) {
    const var_ = e.id.toUpperCase();
    lines.push(`  export ${var_}=${await tokens.employeeToken(e)}   # ${e.name}, ${e.role}`);
  }
  lines.push(
    '',
    'Try it:',
    `  curl -s ${base}/v1/conversations -H "Authorization: Bearer $ALICE"`,
    `  G=$(curl -s -X POST ${base}/v1/guest/conversations -H 'content-type: application/json' -d '{"propertyId":"${DEMO_PROPERTY}","guestName":"Tom"}')`,
    `  CID=$(echo "$G" | node -pe 'JSON.parse(require("fs").readFileSync(0)).conversationId'); GT=$(echo "$G" | node -pe 'JSON.parse(require("fs").readFileSync(0)).guestToken')`,
    `  curl -s -X POST ${base}/v1/guest/conversations/$CID/support-requests -H "Authorization: Bearer $GT"    # declined: settings are off`,
    `  curl -s -X PUT ${base}/v1/settings/live-chat -H "Authorization: Bearer $GRACE" -H 'content-type: application/json' -d '{"requestSupportChat":true,"chatMode":"hybrid"}'`,
    `  curl -s -X POST ${base}/v1/guest/conversations/$CID/messages -H "Authorization: Bearer $GT" -H 'content-type: application/json' -d '{"text":"I want to talk to a human"}'`,
    `  curl -s -X POST ${base}/v1/conversations/$CID/take-over -H "Authorization: Bearer $ALICE"`,
    `  curl -sN "${base}/v1/stream" -H "Authorization: Bearer $BOB"       # live events (Ctrl-C to stop)`,
    `  API docs: ${base}/docs`,
    '',
  );
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
