/** The operator CLI through the real binary (dist/cli.js) on a real embedded data dir. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { eventually } from '../support/http.js';
import { startServer } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Runs the CLI with exactly this environment (the test run's store URLs and secrets never leak in). */
async function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { NODE_OPTIONS: _n, REDIS_URL: _r, MONGODB_URL: _m, EVENTSTORE_URL: _e, AUTH_JWT_SECRET: _s, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...inherited, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('live-chat-tickets CLI on a demo data dir', () => {
  const tmp = tempDir('lct-cli-');
  const demo = { DATA_DIR: tmp.dir };
  afterAll(() => tmp.cleanup());
  let conversationId: string;

  it('seed-demo seeds an empty demo store once', async () => {
    const first = await cli(demo, 'seed-demo');
    expect(first).toMatchObject({ code: 0 });
    conversationId = /conversation ([0-9a-f-]{36})/.exec(first.stdout)![1]!;
    const again = await cli(demo, 'seed-demo');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing seeded/);
  });

  it('dev-token mints a token the demo accepts, and is refused outside the demo', async () => {
    const r = await cli(demo, 'dev-token', 'alice', '--property', 'hotel-aurora', '--role', 'admin', '--name', 'Alice');
    expect(r.code).toBe(0);
    const secret = readFileSync(join(tmp.dir, 'demo-jwt-secret'), 'utf8').trim();
    const verified = await new TokenService(secret).verify(r.stdout.trim());
    expect(verified.principal).toMatchObject({ kind: 'employee', id: 'alice', propertyId: 'hotel-aurora', role: 'admin', name: 'Alice', ops: false });
    // --ops: the service operator claim (GET /v1/ops/projections, rebuilds).
    const ops = await cli(demo, 'dev-token', 'olga', '--property', 'hotel-aurora', '--ops');
    expect(ops.code).toBe(0);
    expect((await new TokenService(secret).verify(ops.stdout.trim())).principal).toMatchObject({ id: 'olga', role: 'agent', ops: true });

    const refused = await cli({ ...demo, AUTH_JWT_SECRET: TEST_SECRET }, 'dev-token', 'alice');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/only in the embedded demo/);
    expect(refused.stdout).toBe('');
    expect((await cli({ ...demo, AUTH_JWT_SECRET: TEST_SECRET }, 'seed-demo')).code).toBe(1);
  });

  it('history prints the conversation (JSON, NDJSON, and as of a time)', async () => {
    const json = JSON.parse((await cli(demo, 'history', conversationId)).stdout);
    expect(json.events.map((e: { type: string }) => e.type)).toEqual(['ConversationStarted', 'GuestMessagePosted']);
    const lines = (await cli(demo, 'history', conversationId, '--ndjson')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => e.id)).toEqual(json.events.map((e: { id: string }) => e.id));
    const before = JSON.parse((await cli(demo, 'history', conversationId, '--at', '2000-01-01T00:00:00Z')).stdout);
    expect(before).toMatchObject({ existed: false, state: null });
    const now = JSON.parse((await cli(demo, 'history', conversationId, '--at', new Date(Date.now() + 60_000).toISOString())).stdout);
    expect(now).toMatchObject({ existed: true, state: { guestName: 'Maria Rossi' } });
    expect(await cli(demo, 'history', '00000000-0000-4000-8000-000000000000')).toMatchObject({ code: 1 });
    expect((await cli(demo, 'history', conversationId, '--at', 'yesterday')).stderr).toMatch(/RFC 3339/);
  });

  it('diagnostics answers the help page checks for an employee, as JSON or as text', async () => {
    const r = await cli(demo, 'diagnostics', conversationId, '--employee', 'alice', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json.questions).sort()).toEqual(['alerts_not_arriving', 'close_ticket_missing', 'no_open_ticket']);
    // The demo starts with Request Support Chat off: the first cause of "no Open ticket badge".
    const check = json.questions.no_open_ticket.checks.find((c: { id: string }) => c.id === 'request_support_chat');
    expect(check).toMatchObject({ ok: false, observed: false });
    expect(check.fix).toMatch(/Request Support Chat/);
    const text = await cli(demo, 'diagnostics', conversationId, '--employee', 'alice');
    expect(text.stdout).toMatch(/FAIL no_open_ticket/);
    expect(text.stdout).toMatch(/✗ request_support_chat = false/);
  });

  it('export writes every event of the log in order', async () => {
    const out = join(tmp.dir, 'export.ndjson');
    const r = await cli(demo, 'export', '--out', out, '--batch', '2');
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(r.stderr).toMatch(new RegExp(`exported ${lines.length} events`));
    const positions = lines.map((l) => BigInt(l.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(lines.some((l) => l.streamId === `conversation-${conversationId}`)).toBe(true);
  });

  it('projections lists each read model; rebuild is followed until the running projector switches it', async () => {
    const listed = JSON.parse((await cli(demo, 'projections', '--json')).stdout);
    expect(listed.projections.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['inbox', 'alerts', 'settings']));
    const inboxBefore = listed.projections.find((p: { name: string }) => p.name === 'inbox').version as number;

    expect(await cli(demo, 'rebuild', 'no-such-projection')).toMatchObject({ code: 1 });
    // Nobody holds the projector role yet: the request is recorded, the command gives up when told to.
    const unattended = await cli(demo, 'rebuild', 'alerts', '--timeout', '1');
    expect(unattended.code).toBe(1);
    expect(unattended.stderr).toMatch(/projector role/);

    const server = await startServer({ DATA_DIR: tmp.dir });
    try {
      const r = await cli(demo, 'rebuild', 'inbox', '--timeout', '120');
      expect({ code: r.code, out: r.stdout }).toMatchObject({ code: 0 });
      expect(r.stdout).toMatch(new RegExp(`inbox is live at v${inboxBefore + 1}`));
      await eventually(async () => {
        const now = JSON.parse((await cli(demo, 'projections', '--json')).stdout);
        return now.projections.find((p: { name: string }) => p.name === 'alerts').rebuild?.state === 'done' ? now : undefined;
      }, 60_000, 'the recorded alerts rebuild to be carried out too');
    } finally {
      await server.kill('SIGTERM');
    }
  }, 240_000);

  it('properties add makes properties known (once); properties list shows them, the seeded demo hotel included', async () => {
    const added = await cli(demo, 'properties', 'add', 'hotel-cli-a', 'hotel-cli-b');
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(/added property hotel-cli-a\nadded property hotel-cli-b/);
    expect((await cli(demo, 'properties', 'add', 'hotel-cli-a')).stdout).toMatch(/known already: nothing changed/);
    const listed = JSON.parse((await cli(demo, 'properties', 'list', '--json')).stdout) as Array<{ propertyId: string; source: string }>;
    const ids = listed.map((p) => p.propertyId);
    expect(ids).toEqual([...ids].sort());
    expect(listed).toEqual(
      expect.arrayContaining(['hotel-aurora', 'hotel-cli-a', 'hotel-cli-b'].map((propertyId) => expect.objectContaining({ propertyId, source: 'cli' }))),
    );
    const bad = await cli(demo, 'properties', 'add', ' padded ');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/a property id is 1-100 characters/);
  });

  it('answers --help for each command', async () => {
    for (const command of ['vapid-keys', 'history', 'export', 'diagnostics', 'projections', 'rebuild', 'dev-token', 'seed-demo', 'properties']) {
      const r = await cli(demo, command, '--help');
      expect({ command, code: r.code }).toEqual({ command, code: 0 });
      expect(r.stdout).toMatch(new RegExp(`Usage: live-chat-tickets ${command}`));
    }
  });
});
