/**
 * Configuration from the environment (SPEC §3). Invalid configuration stops start-up with a
 * message naming the variable. With no store URL set, the service runs on the embedded store;
 * without AUTH_JWT_SECRET there too, it runs as the demo (generated secret, printed tokens).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateVapidKeys, validateVapidKeys, validateVapidSubject } from './adapters/web-push/vapid.js';

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
  /** Accept `http:` push endpoints (a local push service in tests); otherwise only `https:`. */
  pushAllowHttpEndpoints: boolean;
  heartbeatMs: number;
  bodyLimitBytes: number;
  /** TEST ONLY: a file holding the ISO time the service's clock reads (adapters/clock/file-clock.ts); null = system clock. */
  testClockFile: string | null;
  /** Pino level of the JSON logs on stdout (LOG_LEVEL); `silent` logs nothing. */
  logLevel: LogLevel;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

function boolVar(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
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

  const vapid = vapidConfig(env, demo, dataDir);

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
    vapid,
    pushAllowHttpEndpoints: boolVar(env, 'PUSH_ALLOW_HTTP_ENDPOINTS'),
    heartbeatMs: intVar(env, 'SSE_HEARTBEAT_MS', 15000, 100, 15000),
    bodyLimitBytes: intVar(env, 'BODY_LIMIT_BYTES', 32 * 1024, 1024, 1024 * 1024),
    testClockFile: testClockFile(env),
    logLevel: logLevel(env),
  };
}

function logLevel(env: NodeJS.ProcessEnv): LogLevel {
  const raw = env.LOG_LEVEL;
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${raw}")`);
  return raw as LogLevel;
}

function testClockFile(env: NodeJS.ProcessEnv): string | null {
  const raw = env.LCT_TEST_CLOCK_FILE;
  if (raw === undefined || raw === '') return null;
  const file = resolve(raw);
  if (!existsSync(file)) throw new ConfigError('LCT_TEST_CLOCK_FILE', `names no file (got "${raw}"); write an ISO time into it first`);
  return file;
}

/**
 * Web Push keys: both from the environment, checked (a malformed key stops start-up naming
 * its variable); in the demo, generated once and kept in DATA_DIR so push works out of the
 * box; otherwise none, and push is reported unavailable.
 */
function vapidConfig(env: NodeJS.ProcessEnv, demo: boolean, dataDir: string): Config['vapid'] {
  const subject = env.VAPID_SUBJECT || 'mailto:ops@example.com';
  try {
    validateVapidSubject(subject);
  } catch (error) {
    throw new ConfigError('VAPID_SUBJECT', `is invalid: ${(error as Error).message}`);
  }
  const publicKey = env.VAPID_PUBLIC_KEY ?? '';
  const privateKey = env.VAPID_PRIVATE_KEY ?? '';
  if (publicKey === '' && privateKey === '') return demo ? { ...demoVapidKeys(dataDir), subject } : null;
  if (publicKey === '' || privateKey === '') {
    throw new ConfigError(publicKey ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY', 'must be set together with its pair');
  }
  try {
    validateVapidKeys(publicKey, privateKey);
  } catch (error) {
    const message = (error as Error).message;
    const variable = /^VAPID private key/.test(message) ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY';
    throw new ConfigError(variable, `is invalid: ${message}`);
  }
  return { publicKey, privateKey, subject };
}

function demoVapidKeys(dataDir: string): { publicKey: string; privateKey: string } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'demo-vapid-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { publicKey: string; privateKey: string };
  const keys = generateVapidKeys();
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
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
