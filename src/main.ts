/**
 * Entry point. With no store URL it runs on the embedded store: the API here and the log
 * consumers in a supervised child process of the same build (embedded-workers.ts; in this
 * process with EMBEDDED_WORKERS=inline); without AUTH_JWT_SECRET there too it is the demo:
 * seeded data and printed tokens.
 * SIGTERM / SIGINT shut it down gracefully (shutdown.ts). A start-up failure is one line on
 * stderr, no stack: exit 2 for configuration, 1 otherwise (a bad data file names itself and DATA_DIR).
 */
import { resolve } from 'node:path';
import { CommandBus } from '@nestjs/cqrs';
import { TokenService } from './adapters/http/auth/token.service.js';
import { type App, createApp } from './app.js';
import { createLogger } from './adapters/observability/logging.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { DEMO_EMPLOYEES, DEMO_PROPERTY, seedDemo } from './demo/seed.js';
import { SqliteChangeFeed } from './adapters/sqlite/sqlite-change-feed.js';
import { EmbeddedWorkers, isEmbeddedWorkerChild, runEmbeddedWorkerChild, runsWorkersInChild } from './embedded-workers.js';
import { shutDownOnSignals } from './shutdown.js';

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
  if (isEmbeddedWorkerChild()) return runEmbeddedWorkerChild(config);
  // The log consumers' child boots while this process builds its app (embedded-workers.ts).
  const workers = runsWorkersInChild(config) ? new EmbeddedWorkers({ logger: createLogger(config.logLevel) }) : null;
  const workersReady = workers?.start();
  if (workers) config = { ...config, roles: ['api'] };
  let service: App;
  try {
    service = await createApp(config);
  } catch (error) {
    await workers?.stop();
    throw error;
  }
  const { app, adapters, logger } = service;
  for (const warning of adapters.startupWarnings) logger.warn(warning);
  const empty = (await adapters.eventStore.headPosition()) === null;
  if (workers) {
    // The two processes of npm start (embedded-workers.ts): published entries, appends, metrics, health.
    if (adapters.changeFeed instanceof SqliteChangeFeed) workers.follow(adapters.changeFeed);
    if (adapters.sqliteEvents) workers.tellAppends(adapters.sqliteEvents);
    adapters.metrics.includeFrom(workers.childMetrics);
    adapters.probes.push(workers.probe); // STORE_PROBES is this array: /health/ready asks the child's state too
  }
  shutDownOnSignals(workers ? { close: () => Promise.all([workers.stop(), service.close()]).then(() => undefined) } : service, app.getHttpServer(), logger);
  // Listening once the log consumers run, as with them in process: a read right after start-up finds its projector.
  await workersReady;
  await app.listen({ port: config.port, host: config.host });
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = `http://${shownHost}:${config.port}`;
  const roles = workers ? `${config.roles.join(', ')}; projector, worker in child process ${workers.pid ?? '(restarting)'}` : config.roles.join(', ');
  logger.info({ roles: config.roles, workerPid: workers?.pid, stores: adapters.describe }, `live-chat-tickets listening on ${base} (${adapters.describe}; roles: ${roles})`);
  if (config.demo) await printDemo(app.get(CommandBus), app.get(TokenService), base, empty, config);
}

/** Printed demo tokens are short-lived (a terminal's scrollback should not hold a long-lived admin token), within the lifetime cap. */
const DEMO_TOKEN_TTL_SECONDS = 3600;

async function printDemo(commands: CommandBus, tokens: TokenService, base: string, empty: boolean, config: Config) {
  if (empty) await seedDemo(commands);
  const max = config.auth.maxTokenLifetimeSeconds;
  const ttlSeconds = Math.min(DEMO_TOKEN_TTL_SECONDS, max);
  const ttl = duration(ttlSeconds);
  const lines: string[] = ['', `Demo mode (embedded store, generated secret). Tokens valid ${ttl}:`];
  for (const e of DEMO_EMPLOYEES) {
    const var_ = e.id.toUpperCase();
    lines.push(`  export ${var_}=${await tokens.employeeToken(e, ttlSeconds)}   # ${e.name}, ${e.role}${e.ops ? ', ops' : ''}`);
  }
  const dataDir = config.dataDir;
  // The CLI reads DATA_DIR like the service (the demo's secret is there): name it unless it is the default.
  const env = dataDir === resolve('./data') ? '' : `DATA_DIR=${shellQuote(dataDir)} `;
  const [first] = DEMO_EMPLOYEES;
  lines.push(
    '',
    `Fresh tokens when these expire (any employee id; --role agent|admin; --ops for a service operator; --ttl up to ${duration(max)}):`,
    `  export ${first!.id.toUpperCase()}=$(${env}npx live-chat-tickets dev-token ${first!.id} --property ${DEMO_PROPERTY} --role ${first!.role} --ttl ${ttl})`,
    '',
    'Try it:',
    `  curl -s "${base}/v1/conversations" -H "Authorization: Bearer $ALICE"`,
    `  G=$(curl -s -X POST "${base}/v1/guest/conversations" -H 'content-type: application/json' -d '{"propertyId":"${DEMO_PROPERTY}","guestName":"Tom"}')`,
    `  CID=$(echo "$G" | node -pe 'JSON.parse(require("fs").readFileSync(0)).conversationId'); GT=$(echo "$G" | node -pe 'JSON.parse(require("fs").readFileSync(0)).guestToken')`,
    `  curl -s -X POST "${base}/v1/guest/conversations/$CID/support-requests" -H "Authorization: Bearer $GT"    # declined: settings are off`,
    `  curl -s -X PUT "${base}/v1/settings/live-chat" -H "Authorization: Bearer $GRACE" -H 'content-type: application/json' -d '{"requestSupportChat":true,"chatMode":"hybrid"}'`,
    `  curl -s -X POST "${base}/v1/guest/conversations/$CID/messages" -H "Authorization: Bearer $GT" -H 'content-type: application/json' -d '{"text":"I want to talk to a human"}'`,
    `  curl -s -X POST "${base}/v1/conversations/$CID/take-over" -H "Authorization: Bearer $ALICE"`,
    `  curl -sN "${base}/v1/stream" -H "Authorization: Bearer $BOB"       # live events (Ctrl-C to stop)`,
    `  API docs: ${base}/docs`,
    '',
  );
  console.log(lines.join('\n'));
}

/** Seconds as the CLI's --ttl takes them: `1h`, `90m`, `45s`. */
function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function shellQuote(value: string): string {
  return /^[\w./:@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
