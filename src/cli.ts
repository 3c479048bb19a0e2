#!/usr/bin/env node
/**
 * Operator commands (`live-chat-tickets <command>`, bin in package.json). One program, one
 * `program.command(...)` registration per command; imports stay light so commands start fast.
 */
import { Command } from 'commander';
import { generateVapidKeys } from './adapters/web-push/vapid.js';

const program = new Command('live-chat-tickets').description('live-chat-tickets operator commands');

program
  .command('vapid-keys')
  .description('generate a VAPID key pair for Web Push (set both variables together)')
  .option('--json', 'print {"publicKey": ..., "privateKey": ...} instead of env lines')
  .action((options: { json?: boolean }) => {
    const keys = generateVapidKeys();
    if (options.json) console.log(JSON.stringify(keys));
    else console.log(`VAPID_PUBLIC_KEY=${keys.publicKey}\nVAPID_PRIVATE_KEY=${keys.privateKey}`);
  });

await program.parseAsync(process.argv);
