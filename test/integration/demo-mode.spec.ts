/**
 * `npm start` on an empty data dir: the demo seeds a hotel and prints working tokens. With a
 * configured secret (production mode) nothing is seeded and no token is printed.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { client, eventually } from '../support/http.js';
import { exited, freePort } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;

async function run(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; stdout: () => string }> {
  const port = await freePort();
  const { REDIS_URL: _r, MONGODB_URL: _m, EVENTSTORE_URL: _e, AUTH_JWT_SECRET: _s, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN], { env: { ...inherited, HOST: '127.0.0.1', PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => out.includes('listening on'), 20000, 'server start');
  return { child, url, stdout: () => out };
}

describe('demo mode', () => {
  const tmp = tempDir('lct-demo-');
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) {
      const done = exited(c);
      c.kill('SIGTERM');
      await done;
    }
    tmp.cleanup();
  });

  it('seeds a demo hotel and prints tokens that work, only without a configured secret', async () => {
    const demo = await run({ DATA_DIR: `${tmp.dir}/demo` });
    children.push(demo.child);
    await eventually(async () => demo.stdout().includes('Try it:'), 10000, 'demo printout');
    const tokens = Object.fromEntries([...demo.stdout().matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    expect(Object.keys(tokens).sort()).toEqual(['ALICE', 'BOB', 'GRACE']);
    const inbox = await eventually(async () => {
      const r = await client(demo.url).get('/v1/conversations', tokens.ALICE);
      return r.status === 200 && r.body.items.length > 0 ? r.body : undefined;
    }, 10000, 'seeded conversation');
    expect(inbox.items[0].guestName).toBe('Maria Rossi');
    expect((await client(demo.url).get('/v1/settings/live-chat', tokens.GRACE)).body).toMatchObject({ chatMode: 'ai_only', requestSupportChat: false });
    // Push works out of the box: the demo made a VAPID pair and keeps it with its data (0600).
    const key = await client(demo.url).get('/v1/push/vapid-public-key', tokens.ALICE);
    expect(key.body.publicKey).toBe(JSON.parse(readFileSync(`${tmp.dir}/demo/demo-vapid-keys.json`, 'utf8')).publicKey);
    expect(statSync(`${tmp.dir}/demo/demo-vapid-keys.json`).mode & 0o777).toBe(0o600);

    const prod = await run({ DATA_DIR: `${tmp.dir}/prod`, AUTH_JWT_SECRET: TEST_SECRET });
    children.push(prod.child);
    await new Promise((r) => setTimeout(r, 500));
    expect(prod.stdout()).not.toMatch(/export \w+=|Demo mode|Bearer/);
    const otherToken = tokens.ALICE!;
    expect((await client(prod.url).get('/v1/conversations', otherToken)).status).toBe(401);
    expect((await client(prod.url).get('/health')).body.head).toBeNull();
    // Production without VAPID keys runs, with push reported unavailable.
    const prodToken = await new TokenService(TEST_SECRET).employeeToken({ id: 'p', propertyId: 'h', role: 'agent', name: 'P' });
    expect((await client(prod.url).get('/v1/push/vapid-public-key', prodToken)).body).toMatchObject({ statusCode: 503, code: 'push_unavailable' });
  }, 60000);
});
