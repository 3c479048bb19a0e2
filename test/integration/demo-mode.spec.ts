/**
 * `npm start` on an empty data dir: the demo seeds a hotel and prints working tokens (1 h) and
 * the command that mints fresh ones; it listens on 127.0.0.1 only unless HOST says otherwise.
 * With a configured secret (production mode) nothing is seeded, no token is printed, and it
 * listens on every address (containers). DATA_DIR is 0700 and its files 0600; a data file
 * that cannot be used stops start-up with one line naming it and DATA_DIR.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { client, eventually } from '../support/http.js';
import { unquotedUrls } from '../support/shell.js';
import { exited, freePort } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;

/** dist/main.js with exactly `env` on top of the test's environment (no store URL, secret or HOST of its own). */
function spawnMain(env: Record<string, string>, port: number): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const { REDIS_URL: _r, MONGODB_URL: _m, EVENTSTORE_URL: _e, AUTH_JWT_SECRET: _s, HOST: _h, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN], { env: { ...inherited, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { child, stdout: () => out, stderr: () => err };
}

async function run(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; port: number; stdout: () => string }> {
  const port = await freePort();
  const { child, stdout } = spawnMain(env, port);
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => stdout().includes('listening on'), 20000, 'server start');
  return { child, url, port, stdout };
}

/** Whether something answers on 127.0.0.2 (loopback, but not 127.0.0.1): only a server bound to every address does. */
async function answersOn127002(port: number): Promise<boolean> {
  return (await fetch(`http://127.0.0.2:${port}/health`).catch(() => null)) !== null;
}

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number; ops?: unknown };
const modeOf = (path: string) => statSync(path).mode & 0o777;

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
    const tokens = Object.fromEntries([...demo.stdout().matchAll(/export (\w+)=(ey\S+)/g)].map((m) => [m[1], m[2]]));
    expect(Object.keys(tokens).sort()).toEqual(['ALICE', 'BOB', 'GRACE']);
    // Short-lived: an hour, not the 12 h admin tokens of before.
    for (const token of Object.values(tokens)) expect(payloadOf(token!).exp - payloadOf(token!).iat).toBe(3600);
    // Pasted into zsh as printed: every URL quoted (an unquoted `?` is a glob there).
    const printedCommands = demo.stdout().split('\n').filter((l) => /^ {2}(curl|G=|export)/.test(l));
    expect(printedCommands.length).toBeGreaterThan(5);
    expect(printedCommands.filter((l) => unquotedUrls(l).length > 0)).toEqual([]);
    // The printed command mints a fresh token that works (run as printed, from the repository).
    // Run as a plain assignment: `export X=$(cmd)` succeeds even when cmd fails (e.g. a bin that
    // is not executable in a fresh clone), which would hide the failure behind an empty token.
    const mint = /^ {2}export (ALICE=\$\(.*npx live-chat-tickets dev-token alice .*\))$/m.exec(demo.stdout())![1]!;
    const { REDIS_URL: _r, MONGODB_URL: _m, EVENTSTORE_URL: _e, AUTH_JWT_SECRET: _s, ...cliEnv } = process.env;
    const fresh = execFileSync('bash', ['-c', `${mint} && echo "$ALICE"`], { cwd: ROOT, encoding: 'utf8', env: cliEnv }).trim();
    expect(fresh).toMatch(/^ey/);
    expect(fresh).not.toBe(tokens.ALICE);
    expect((await client(demo.url).get('/v1/conversations', fresh)).status).toBe(200);
    const inbox = await eventually(async () => {
      const r = await client(demo.url).get('/v1/conversations', tokens.ALICE);
      return r.status === 200 && r.body.items.length > 0 ? r.body : undefined;
    }, 10000, 'seeded conversation');
    expect(inbox.items[0].guestName).toBe('Maria Rossi');
    expect((await client(demo.url).get('/v1/settings/live-chat', tokens.GRACE)).body).toMatchObject({ chatMode: 'ai_only', requestSupportChat: false });
    // Grace is the demo's service operator too (ops: true), so the projection routes work with her token alone.
    expect(payloadOf(tokens.GRACE!).ops).toBe(true);
    expect((await client(demo.url).get('/v1/ops/projections', tokens.GRACE)).status).toBe(200);
    expect((await client(demo.url).get('/v1/ops/projections', tokens.ALICE)).body).toMatchObject({ statusCode: 403, code: 'ops_only' });
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

  it('the demo listens on 127.0.0.1 only, unless HOST is set; production listens on every address', async () => {
    const demo = await run({ DATA_DIR: `${tmp.dir}/bind-demo` });
    children.push(demo.child);
    expect(demo.stdout()).toContain(`Server listening at http://127.0.0.1:${demo.port}`);
    expect(await answersOn127002(demo.port)).toBe(false);

    const everywhere = await run({ DATA_DIR: `${tmp.dir}/bind-demo-host`, HOST: '0.0.0.0' });
    children.push(everywhere.child);
    expect(await answersOn127002(everywhere.port)).toBe(true);

    const prod = await run({ DATA_DIR: `${tmp.dir}/bind-prod`, AUTH_JWT_SECRET: TEST_SECRET });
    children.push(prod.child);
    expect(await answersOn127002(prod.port)).toBe(true);
  }, 60000);

  it('keeps DATA_DIR 0700 and every file in it 0600, tightening (with a warning) a data dir that was looser', async () => {
    const dir = join(tmp.dir, 'modes');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'demo-jwt-secret'), 'a'.repeat(64));
    chmodSync(join(dir, 'demo-jwt-secret'), 0o644);
    const demo = await run({ DATA_DIR: dir });
    children.push(demo.child);
    await eventually(async () => demo.stdout().includes('Try it:'), 10000, 'demo printout');

    expect(modeOf(dir)).toBe(0o700);
    const files = readdirSync(dir);
    for (const name of ['events.db', 'events.db-wal', 'events.db-shm', 'read-models.db', 'read-models.db-wal', 'change-feed.db', 'demo-jwt-secret', 'demo-vapid-keys.json']) {
      expect(files).toContain(name);
    }
    expect(files.filter((name) => modeOf(join(dir, name)) !== 0o600)).toEqual([]);
    const warnings = demo.stdout().split('\n').filter((line) => line.includes('"level":"warn"') && line.includes('tightened'));
    expect(warnings.some((line) => line.includes(`${dir} was mode 0755: tightened to 0700`))).toBe(true);
    expect(warnings.some((line) => line.includes(`${join(dir, 'demo-jwt-secret')} was mode 0644: tightened to 0600`))).toBe(true);
  }, 60000);

  it('a data file that cannot be used stops start-up with one line naming it and DATA_DIR (exit 1, no stack)', async () => {
    const cases: Array<{ what: string; dataDir: string; file: string; env: Record<string, string>; prepare: () => void }> = [
      {
        what: 'events.db is not a database (demo)',
        dataDir: join(tmp.dir, 'bad-events'),
        file: join(tmp.dir, 'bad-events', 'events.db'),
        env: {},
        prepare: () => {
          mkdirSync(join(tmp.dir, 'bad-events'));
          writeFileSync(join(tmp.dir, 'bad-events', 'events.db'), 'not a database, just some text '.repeat(20));
        },
      },
      {
        what: 'read-models.db is a directory (production)',
        dataDir: join(tmp.dir, 'bad-read-models'),
        file: join(tmp.dir, 'bad-read-models', 'read-models.db'),
        env: { AUTH_JWT_SECRET: TEST_SECRET },
        prepare: () => mkdirSync(join(tmp.dir, 'bad-read-models', 'read-models.db'), { recursive: true }),
      },
      {
        what: 'DATA_DIR is a file (demo)',
        dataDir: join(tmp.dir, 'a-file'),
        file: join(tmp.dir, 'a-file'),
        env: {},
        prepare: () => writeFileSync(join(tmp.dir, 'a-file'), 'x'),
      },
      {
        what: 'DATA_DIR is a file (production)',
        dataDir: join(tmp.dir, 'another-file'),
        file: join(tmp.dir, 'another-file'),
        env: { AUTH_JWT_SECRET: TEST_SECRET },
        prepare: () => writeFileSync(join(tmp.dir, 'another-file'), 'x'),
      },
    ];
    for (const c of cases) {
      c.prepare();
      const server = spawnMain({ DATA_DIR: c.dataDir, ...c.env }, await freePort());
      const code = await new Promise<number | null>((resolve) => server.child.once('exit', (exitCode) => resolve(exitCode)));
      const lines = server.stderr().trim().split('\n');
      expect({ what: c.what, code, lines }).toEqual({ what: c.what, code: 1, lines: [expect.stringContaining(`Cannot use ${c.file} (DATA_DIR=${c.dataDir}): `)] });
    }
  }, 60000);
});
