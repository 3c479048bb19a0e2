/**
 * Configuration from the environment (SPEC §3). Invalid configuration stops start-up with a
 * message naming the variable. With no store URL set, the service runs on the embedded store;
 * without AUTH_JWT_SECRET there too, it runs as the demo (generated secret, printed tokens).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type Role = 'api' | 'projector' | 'worker';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  jwtSecret: string;
  /** Embedded store and no configured secret: seed demo data and print demo tokens. */
  demo: boolean;
  eventStoreUrl: string | null;
  mongoUrl: string | null;
  redisUrl: string | null;
  aiResponderUrl: string | null;
  roles: Role[];
  vapid: { publicKey: string; privateKey: string; subject: string } | null;
  heartbeatMs: number;
  bodyLimitBytes: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
    this.name = 'ConfigError';
  }
}

const ROLES: Role[] = ['api', 'projector', 'worker'];

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  return n;
}

function urlVar(env: NodeJS.ProcessEnv, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL (got "${raw}")`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(name, `must use ${protocols.join(' or ')} (got "${url.protocol}")`);
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.DATA_DIR || './data');
  const eventStoreUrl = urlVar(env, 'EVENTSTORE_URL', ['esdb:', 'esdb+discover:']);
  const mongoUrl = urlVar(env, 'MONGODB_URL', ['mongodb:', 'mongodb+srv:']);
  const redisUrl = urlVar(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const aiResponderUrl = urlVar(env, 'AI_RESPONDER_URL', ['http:', 'https:']);
  const embedded = !eventStoreUrl && !mongoUrl && !redisUrl;

  const rawRoles = (env.ROLES || 'api,projector,worker').split(',').map((r) => r.trim());
  const unknown = rawRoles.filter((r) => !ROLES.includes(r as Role));
  if (unknown.length > 0 || rawRoles.length === 0) throw new ConfigError('ROLES', `must list some of ${ROLES.join(', ')} (got "${env.ROLES}")`);

  const roles = [...new Set(rawRoles as Role[])];
  if (roles.length < ROLES.length && !redisUrl) {
    throw new ConfigError('REDIS_URL', `is required when roles are split across processes (ROLES=${roles.join(',')}): the change feed must be shared`);
  }

  let jwtSecret = env.AUTH_JWT_SECRET ?? '';
  const demo = embedded && jwtSecret === '';
  if (demo) jwtSecret = demoSecret(dataDir);
  else if (jwtSecret === '') throw new ConfigError('AUTH_JWT_SECRET', 'is required when a store URL is set (production mode)');
  if (Buffer.byteLength(jwtSecret) < 32) throw new ConfigError('AUTH_JWT_SECRET', 'must be at least 32 bytes long');

  const vapidKeys = [env.VAPID_PUBLIC_KEY, env.VAPID_PRIVATE_KEY].filter(Boolean).length;
  if (vapidKeys === 1) throw new ConfigError(env.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY', 'must be set together with its pair');

  return {
    port: intVar(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    dataDir,
    jwtSecret,
    demo,
    eventStoreUrl,
    mongoUrl,
    redisUrl,
    aiResponderUrl,
    roles,
    vapid:
      vapidKeys === 2
        ? { publicKey: env.VAPID_PUBLIC_KEY!, privateKey: env.VAPID_PRIVATE_KEY!, subject: env.VAPID_SUBJECT || 'mailto:ops@example.com' }
        : null,
    heartbeatMs: intVar(env, 'SSE_HEARTBEAT_MS', 15000, 100, 15000),
    bodyLimitBytes: intVar(env, 'BODY_LIMIT_BYTES', 32 * 1024, 1024, 1024 * 1024),
  };
}

/** The demo's secret lives with its data, so demo tokens keep working across restarts. */
function demoSecret(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'demo-jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
