// Starts the real servers the integration and contract suites use (Redis, FerretDB) unless
// the caller already points at its own with REDIS_URL and MONGODB_URL. `scripts/services.sh`
// is idempotent: it installs/builds what is missing on a fresh machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

export default async function globalSetup() {
  if (process.env.REDIS_URL && process.env.MONGODB_URL) return;
  // Services someone else started (another test run, a developer) are used and left running.
  const alreadyRunning = spawnSync('bash', [script, 'status'], { stdio: 'ignore' }).status === 0;
  const out = execFileSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of out.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m && !process.env[m[1]]) process.env[m[1]] = m[2];
  }
  if (!alreadyRunning) process.env.LCT_TEST_STARTED_SERVICES = '1';
}
