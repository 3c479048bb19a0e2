import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default async function globalTeardown() {
  if (process.env.LCT_TEST_STARTED_SERVICES !== '1' || process.env.LCT_KEEP_SERVICES === '1') return;
  const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
  execFileSync('bash', [script, 'stop'], { stdio: 'inherit' });
}
