/** The built CLI (dist/cli.js, the package's bin), run as an operator would run it. */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { validateVapidKeys } from '../../src/adapters/web-push/vapid.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

async function cli(...args: string[]): Promise<string> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { env, timeout: 20_000 });
  return stdout;
}

describe('live-chat-tickets CLI', () => {
  it('is an executable node script (shebang kept by tsc)', () => {
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('vapid-keys prints a valid, fresh VAPID pair as env lines', async () => {
    const out = await cli('vapid-keys');
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    const publicKey = /^VAPID_PUBLIC_KEY=(\S+)$/.exec(lines[0])![1];
    const privateKey = /^VAPID_PRIVATE_KEY=(\S+)$/.exec(lines[1])![1];
    expect(() => validateVapidKeys(publicKey, privateKey)).not.toThrow();

    const again = await cli('vapid-keys');
    expect(again).not.toContain(publicKey);
  });

  it('vapid-keys --json prints {publicKey, privateKey}', async () => {
    const keys = JSON.parse(await cli('vapid-keys', '--json')) as { publicKey: string; privateKey: string };
    expect(Object.keys(keys).sort()).toEqual(['privateKey', 'publicKey']);
    expect(() => validateVapidKeys(keys.publicKey, keys.privateKey)).not.toThrow();
  });
});
