// The service under test as a child process (embedded store, production auth), plus the
// bench's own tokens and ticket preparation.
import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnChild, waitForOutput } from './procs.mjs';
import { pool } from './http.mjs';

export const PROPERTY = 'bench-property';

/**
 * Rate limits on, out of reach: the bench sends thousands of requests from one address
 * (README "Abuse limits"). Pass `RATE_LIMIT_ENABLED: 'false'` in `env` to measure with them off.
 */
const HIGH = '1000000000';
export const HIGH_RATE_LIMITS = {
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: HIGH,
  RATE_LIMIT_TOKEN_PER_MINUTE: HIGH,
  RATE_LIMIT_CONVERSATION_STARTS_PER_MINUTE: HIGH,
  CONVERSATIONS_PER_ADDRESS_PER_HOUR: HIGH,
  RATE_LIMIT_GUEST_MESSAGES_PER_MINUTE: HIGH,
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: HIGH,
  MAX_GUEST_MESSAGES_PER_CONVERSATION: '100000',
};

/** `env`: extra variables for the service (e.g. VAPID keys for the push phase). */
export async function startService(root, { onTmpDir = () => {}, env: extraEnv = {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lct-bench-data-'));
  onTmpDir(dataDir);
  const port = await freePort();
  const secret = randomBytes(32).toString('hex');
  // A clean environment: no store URLs (embedded mode), our secret (not the demo).
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: secret,
    ...HIGH_RATE_LIMITS,
    // EMBEDDED_WORKERS=inline (README): the log consumers in the server process, to compare with the default child process.
    ...(process.env.EMBEDDED_WORKERS ? { EMBEDDED_WORKERS: process.env.EMBEDDED_WORKERS } : {}),
    ...extraEnv,
  };
  // BENCH_SERVICE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", for investigating.
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const entry = spawnChild('service', process.execPath, [...nodeArgs, 'dist/main.js'], { cwd: root, env });
  const [listening] = await waitForOutput(entry, /^.*listening on.*$/m, 60000);
  const workersPid = /"workerPid":(\d+)/.exec(listening)?.[1];
  return { entry, pid: entry.child.pid, workersPid: workersPid ? Number(workersPid) : null, dataDir, port, base: `http://127.0.0.1:${port}`, secret };
}

/** Employee tokens for PROPERTY, or for another property (the push phase keeps its own). */
export function tokenMinter(secret, { propertyId = PROPERTY } = {}) {
  const key = new TextEncoder().encode(secret);
  return (id, role = 'agent', name = id) =>
    new SignJWT({ propertyId, role, name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(id)
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(key);
}

/**
 * Opens `n` tickets (start conversation + guest support request) with `concurrency` in flight.
 * Returns conversation ids that really got a ticket, the per-command samples and failures.
 */
export async function prepareTickets(call, n, concurrency, tag) {
  const samples = [];
  const failures = [];
  const ids = await pool(n, concurrency, async (i) => {
    const s = await call('POST', '/v1/guest/conversations', { body: { propertyId: PROPERTY, guestName: `Guest ${tag}-${i}` } });
    samples.push({ kind: 'start', status: s.status, ms: s.ms, at: s.at, position: s.json?.position ?? null });
    if (s.status !== 201 && s.status !== 200) {
      failures.push({ kind: 'start', status: s.status, body: s.text.slice(0, 300) });
      return null;
    }
    const { conversationId, guestToken } = s.json;
    const r = await call('POST', `/v1/guest/conversations/${conversationId}/support-requests`, { token: guestToken });
    samples.push({ kind: 'support-request', status: r.status, ms: r.ms, at: r.at, position: r.json?.position ?? null });
    if (r.status >= 300 || r.json?.ticketOpened !== true) {
      failures.push({ kind: 'support-request', status: r.status, body: r.text.slice(0, 300) });
      return null;
    }
    return conversationId;
  });
  return { ids: ids.filter(Boolean), samples, failures };
}
