#!/usr/bin/env node
/**
 * Operator commands (`live-chat-tickets <command>`, bin in package.json). One program, one
 * `program.command(...)` registration per command; the work runs on the core module only
 * (src/cli/context.ts): the same commands and queries as the service, no HTTP, no consumers.
 */
import { Command } from 'commander';
import { generateVapidKeys } from './adapters/web-push/vapid.js';
import { CliError } from './cli/context.js';
import { devToken, seed } from './cli/demo.js';
import { diagnostics } from './cli/diagnostics.js';
import { exportLog, history } from './cli/history.js';
import { projections, rebuild } from './cli/projections.js';
import { addProperties, listProperties } from './cli/properties.js';

const program = new Command('live-chat-tickets').description('live-chat-tickets operator commands (configured by the same environment as the service)');

program
  .command('vapid-keys')
  .description('generate a VAPID key pair for Web Push (set both variables together)')
  .option('--json', 'print {"publicKey": ..., "privateKey": ...} instead of env lines')
  .action((options: { json?: boolean }) => {
    const keys = generateVapidKeys();
    if (options.json) console.log(JSON.stringify(keys));
    else console.log(`VAPID_PUBLIC_KEY=${keys.publicKey}\nVAPID_PRIVATE_KEY=${keys.privateKey}`);
  });

program
  .command('history')
  .description("a conversation's events in order (JSON), or its state as of a time")
  .argument('<conversationId>')
  .option('--at <time>', 'RFC 3339 time: the state as it was then')
  .option('--ndjson', 'one JSON line per event')
  .action(history);

program
  .command('export')
  .description('every event of the log, in order, as NDJSON (progress on stderr)')
  .option('--out <file>', 'write to a file instead of stdout')
  .option('--batch <n>', 'events read per batch', '1000')
  .action(exportLog);

program
  .command('dev-token')
  .description('a bearer token for a demo employee (embedded demo only; refused when AUTH_JWT_SECRET is set)')
  .argument('<employeeId>')
  .requiredOption('--property <id>', 'property id', 'hotel-aurora')
  .requiredOption('--role <role>', 'agent or admin', 'agent')
  .option('--name <name>', 'display name (default: the id)')
  .option('--ttl <ttl>', 'lifetime, e.g. 30m, 12h (at most the token lifetime cap, 24h by default)', '1h')
  .option('--ops', 'a service operator token (claim ops: true): GET /v1/ops/projections, rebuilds')
  .action(devToken);

program
  .command('diagnostics')
  .description("the help page's troubleshooting checks for an employee about a conversation")
  .argument('<conversationId>')
  .requiredOption('--employee <id>', 'the employee who asks')
  .option('--role <role>', 'agent or admin', 'agent')
  .option('--name <name>', 'their display name')
  .option('--json', 'the answer as JSON (as GET /v1/diagnostics)')
  .action(diagnostics);

program
  .command('projections')
  .description("each read model's version, checkpoint, lag and latest rebuild")
  .option('--json', 'as JSON (as GET /v1/ops/projections)')
  .action(projections);

program
  .command('rebuild')
  .description('rebuild one projection beside the live one (carried out by the running projector), with a progress bar')
  .argument('<name>')
  .option('--no-wait', 'record the request and return')
  .option('--timeout <seconds>', 'how long to follow it', '600')
  .action(rebuild);

const properties = program.command('properties').description('the properties (hotels) anonymous guests may start conversations for');
properties
  .command('add')
  .description('make a property known: guests may start conversations for it from now on (an admin saving any setting does the same)')
  .argument('<propertyIds...>')
  .action(addProperties);
properties.command('list').description('every known property (reads the whole log)').option('--json', 'as JSON').action(listProperties);

program.command('seed-demo').description('seed the demo hotel into an empty embedded demo store').action(seed);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliError) {
    console.error(`live-chat-tickets: ${error.message}`);
    process.exit(error.exitCode);
  }
  throw error;
}
