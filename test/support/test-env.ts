/**
 * What every service a test starts (in process or as a real process) gets unless the test says
 * otherwise, so suites that are not about abuse limits meet none of them:
 * - `TEST_RATE_LIMITS`: limits high enough that no suite reaches them — the limiter still runs
 *   (its code path is never switched off in tests), it just never refuses. Suites make many
 *   requests from one address (127.0.0.1), which production defaults would rightly refuse.
 * - `TEST_PROPERTIES`: the property ids the suites start conversations for. Only known
 *   properties accept anonymous conversation starts (domain/property.ts); the fixtures register
 *   them the way an operator does (the RegisterProperty command of `properties add`, or the
 *   CLI itself for real processes). Suites about unknown properties use ids not listed here.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HIGH = '1000000000';

export const TEST_RATE_LIMITS: Record<string, string> = {
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: HIGH,
  RATE_LIMIT_TOKEN_PER_MINUTE: HIGH,
  RATE_LIMIT_CONVERSATION_STARTS_PER_MINUTE: HIGH,
  RATE_LIMIT_GUEST_MESSAGES_PER_MINUTE: HIGH,
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: HIGH,
  CONVERSATIONS_PER_ADDRESS_PER_HOUR: HIGH,
};

export const TEST_PROPERTIES = [
  'hotel-a',
  'hotel-k',
  'hotel-mp',
  'hotel-mp-rebuild',
  'hotel-rebuild',
  'hotel-openapi',
  'hotel-obs',
  'hotel-5xx',
  'hotel-versions',
  'hotel-crash',
  'hotel-nokeys',
  'hotel-aurora',
];

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** `live-chat-tickets properties add …` with the service's environment (run `npm run build` first), as an operator would. */
export function addPropertiesWithCli(env: NodeJS.ProcessEnv, propertyIds: readonly string[] = TEST_PROPERTIES): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'properties', 'add', ...propertyIds], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`properties add exited ${code}: ${stderr}`))));
  });
}
