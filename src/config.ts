/**
 * Configuration from the environment (SPEC §3). Invalid configuration stops start-up with a
 * message naming the variable. With no store URL set, the service runs on the embedded store;
 * without AUTH_JWT_SECRET there too, it runs as the demo (generated secret, printed tokens).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { generateVapidKeys, validateVapidKeys, validateVapidSubject } from './adapters/web-push/vapid.js';
import { ensureDataDir } from './adapters/sqlite/data-dir.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, GUEST_AUDIENCE, STREAM_AUDIENCE } from './adapters/http/auth/token.service.js';

export type Role = 'api' | 'projector' | 'worker';
export type EmbeddedWorkers = 'process' | 'inline';

/** Set by the supervisor (embedded-workers.ts) in the child it forks: split roles on the embedded store are its to run. */
export const EMBEDDED_WORKER_CHILD_ENV = 'LCT_EMBEDDED_WORKER_CHILD';

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
  /**
   * EMBEDDED_WORKERS, on the embedded store with every role: where `npm start` runs the log
   * consumers (projector, AVA, push notifier, escalation watcher): `process` (default) in a
   * supervised child process, so they use the second core (embedded-workers.ts); `inline` in the
   * API process. main.ts acts on it; createApp runs whatever `roles` says, in its own process.
   */
  embeddedWorkers: EmbeddedWorkers;
  vapid: { publicKey: string; privateKey: string; subject: string } | null;
  /** Accept `http:` push endpoints (a local push service in tests); otherwise only `https:`. */
  pushAllowHttpEndpoints: boolean;
  heartbeatMs: number;
  bodyLimitBytes: number;
  /**
   * Slow clients (SPEC §3 Operability: request and header timeouts): a request's headers must
   * arrive within `headersTimeoutMs` and the whole request (headers and body) within
   * `requestTimeoutMs`, or the connection gets 408 and is closed. An SSE stream's request is
   * complete once its headers are in, so open streams are not cut by either.
   */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** TEST ONLY: a file holding the ISO time the service's clock reads (adapters/clock/file-clock.ts); null = system clock. */
  testClockFile: string | null;
  /** Pino level of the JSON logs on stdout (LOG_LEVEL); `silent` logs nothing. */
  logLevel: LogLevel;

  // --- Abuse limits (issue 9, item 1; README "Abuse limits") ---
  /** TRUST_PROXY, as Fastify's `trustProxy`: false (default: X-Forwarded-For is ignored), true, or the proxies' addresses/CIDRs. */
  trustProxy: boolean | string[];
  rateLimit: RateLimitConfig;
  /** MAX_GUEST_MESSAGES_PER_CONVERSATION: a conversation's guest messages (domain rule postGuestMessage). */
  maxGuestMessagesPerConversation: number;
  /** MESSAGE_TEXT_MAX_LENGTH: characters of a guest message or an employee reply. */
  messageTextMaxLength: number;

  // --- Tokens and browsers (issue 9, items 7 and 8) ---
  /** How employee tokens are checked (adapters/http/auth/token.service.ts); `jwtSecret` stays the service's own key. */
  auth: AuthConfig;
  /** CORS_ORIGINS: the exact origins a browser may call the API from; empty = no CORS headers at all. */
  corsOrigins: string[];

  // --- SSE stream caps (issue 9, items 1 and 5; README "Configuration") ---
  /** SSE_MAX_STREAMS_PER_PRINCIPAL: open streams per employee / per guest conversation, in this process; 0 = no cap. */
  sseMaxStreamsPerPrincipal: number;
  /** SSE_MAX_STREAMS_PER_ADDRESS: open streams per client address (`req.ip`, see TRUST_PROXY), in this process; 0 = no cap. */
  sseMaxStreamsPerAddress: number;
}

export interface AuthConfig {
  /** AUTH_JWKS_URL: employee tokens are RS256 with keys from this JWKS; HS256 employee tokens are then refused. */
  jwksUrl: string | null;
  /** AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE: required `iss` / `aud` of employee tokens, when set. */
  issuer: string | null;
  audience: string | null;
  /** AUTH_MAX_TOKEN_LIFETIME_SECONDS: longest accepted `exp − iat` (or `exp − now`) of an employee token. */
  maxTokenLifetimeSeconds: number;
}

// --- Abuse limits (issue 9, item 1) ---
/** Requests per window, per client address (anonymous) or per bearer token (src/adapters/http/rate-limit.ts). */
export interface RateLimitConfig {
  /** RATE_LIMIT_ENABLED (default true): false turns every limit below off (benchmarks only). */
  enabled: boolean;
  /** RATE_LIMIT_ANONYMOUS_PER_MINUTE: per address, routes without a token (docs, unknown paths, requests lacking a token). */
  anonymousPerMinute: number;
  /** RATE_LIMIT_TOKEN_PER_MINUTE: per bearer token, authenticated routes. */
  tokenPerMinute: number;
  /** RATE_LIMIT_CONVERSATION_STARTS_PER_MINUTE: per address, POST /v1/guest/conversations (any outcome). */
  conversationStartsPerMinute: number;
  /** CONVERSATIONS_PER_ADDRESS_PER_HOUR: conversations actually started (201) per address. */
  conversationsPerAddressPerHour: number;
  /** RATE_LIMIT_GUEST_MESSAGES_PER_MINUTE: per guest token, POST /v1/guest/conversations/{id}/messages. */
  guestMessagesPerMinute: number;
  /** RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: 401s per address; past it, requests bearing a token from there get 429. */
  authFailuresPerMinute: number;
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
  if (roles.length < ROLES.length && !redisUrl && env[EMBEDDED_WORKER_CHILD_ENV] !== '1') {
    throw new ConfigError('REDIS_URL', `is required when roles are split across processes (ROLES=${roles.join(',')}): the change feed must be shared`);
  }

  // With a JWKS the identity provider signs nothing with our secret: it is the service's own key (guest and stream tokens).
  if (env.AUTH_JWKS_URL && !env.AUTH_JWT_SECRET) throw new ConfigError('AUTH_JWT_SECRET', "is required with AUTH_JWKS_URL: it is the service's own key for guest and stream tokens");
  let jwtSecret = env.AUTH_JWT_SECRET ?? '';
  const demo = embedded && jwtSecret === '';
  if (demo) jwtSecret = demoSecret(dataDir);
  else if (jwtSecret === '') throw new ConfigError('AUTH_JWT_SECRET', 'is required when a store URL is set (production mode)');
  if (Buffer.byteLength(jwtSecret) < 32) throw new ConfigError('AUTH_JWT_SECRET', 'must be at least 32 bytes long');

  const vapid = vapidConfig(env, demo, dataDir);

  return {
    port: intVar(env, 'PORT', 3000, 0, 65535),
    // The demo is for one machine: loopback unless HOST says otherwise; containers need 0.0.0.0.
    host: env.HOST || (demo ? '127.0.0.1' : '0.0.0.0'),
    dataDir,
    jwtSecret,
    demo,
    eventStoreUrl,
    mongoUrl,
    redisUrl,
    aiResponderUrl,
    roles,
    embeddedWorkers: embeddedWorkers(env),
    vapid,
    pushAllowHttpEndpoints: boolVar(env, 'PUSH_ALLOW_HTTP_ENDPOINTS'),
    heartbeatMs: intVar(env, 'SSE_HEARTBEAT_MS', 15000, 100, 15000),
    bodyLimitBytes: intVar(env, 'BODY_LIMIT_BYTES', 32 * 1024, 1024, 1024 * 1024),
    ...slowClientTimeouts(env),
    testClockFile: testClockFile(env),
    logLevel: logLevel(env),
    // --- Abuse limits (issue 9, item 1) ---
    trustProxy: trustProxy(env),
    rateLimit: rateLimitConfig(env),
    maxGuestMessagesPerConversation: intVar(env, 'MAX_GUEST_MESSAGES_PER_CONVERSATION', 300, 1, 100_000),
    // At most the 4000 openapi.yaml promises clients: the setting only tightens it.
    messageTextMaxLength: intVar(env, 'MESSAGE_TEXT_MAX_LENGTH', 4000, 1, 4000),
    auth: authConfig(env),
    corsOrigins: corsOrigins(env),
    // --- SSE stream caps (issue 9) ---
    sseMaxStreamsPerPrincipal: intVar(env, 'SSE_MAX_STREAMS_PER_PRINCIPAL', 10, 0, 100_000),
    sseMaxStreamsPerAddress: intVar(env, 'SSE_MAX_STREAMS_PER_ADDRESS', 500, 0, 1_000_000),
  };
}

function embeddedWorkers(env: NodeJS.ProcessEnv): EmbeddedWorkers {
  const raw = env.EMBEDDED_WORKERS;
  if (raw === undefined || raw === '') return 'process';
  if (raw !== 'process' && raw !== 'inline') throw new ConfigError('EMBEDDED_WORKERS', `must be process or inline (got "${raw}")`);
  return raw;
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
  ensureDataDir(dataDir); // 0700; a DataFileError naming DATA_DIR if it is a file
  const file = join(dataDir, 'demo-vapid-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { publicKey: string; privateKey: string };
  const keys = generateVapidKeys();
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

/** The demo's secret lives with its data, so demo tokens keep working across restarts. */
function demoSecret(dataDir: string): string {
  ensureDataDir(dataDir); // 0700; a DataFileError naming DATA_DIR if it is a file
  const file = join(dataDir, 'demo-jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

// --- Tokens and browsers (issue 9, items 7 and 8) ---

function authConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const jwksUrl = urlVar(env, 'AUTH_JWKS_URL', ['https:', 'http:']);
  if (jwksUrl && new URL(jwksUrl).protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(new URL(jwksUrl).hostname)) {
    throw new ConfigError('AUTH_JWKS_URL', `must use https: (http: only for localhost) (got "${jwksUrl}")`);
  }
  const audience = env.AUTH_JWT_AUDIENCE || null;
  if (audience === GUEST_AUDIENCE || audience === STREAM_AUDIENCE) {
    throw new ConfigError('AUTH_JWT_AUDIENCE', `must not be "${audience}": the service uses it for its own tokens`);
  }
  return {
    jwksUrl,
    issuer: env.AUTH_JWT_ISSUER || null,
    audience,
    maxTokenLifetimeSeconds: intVar(env, 'AUTH_MAX_TOKEN_LIFETIME_SECONDS', DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, 60, 30 * 24 * 3600),
  };
}

/** Exact origins (scheme, host, optional port: what a browser sends as `Origin`), comma-separated. */
function corsOrigins(env: NodeJS.ProcessEnv): string[] {
  const entries = (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const entry of entries) {
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      /* not a URL */
    }
    if (origin !== entry) {
      throw new ConfigError('CORS_ORIGINS', `must list origins like https://hotel.example (scheme, host, optional port; no path, no trailing slash), got "${entry}"`);
    }
  }
  return [...new Set(entries)];
}

// --- Abuse limits (issue 9, item 1) ---

const MAX_RATE = 1_000_000_000;

function rateLimitConfig(env: NodeJS.ProcessEnv): RateLimitConfig {
  const raw = env.RATE_LIMIT_ENABLED;
  if (raw !== undefined && raw !== '' && raw !== 'true' && raw !== 'false') throw new ConfigError('RATE_LIMIT_ENABLED', `must be true or false (got "${raw}")`);
  return {
    enabled: raw !== 'false',
    anonymousPerMinute: intVar(env, 'RATE_LIMIT_ANONYMOUS_PER_MINUTE', 60, 1, MAX_RATE),
    tokenPerMinute: intVar(env, 'RATE_LIMIT_TOKEN_PER_MINUTE', 600, 1, MAX_RATE),
    conversationStartsPerMinute: intVar(env, 'RATE_LIMIT_CONVERSATION_STARTS_PER_MINUTE', 10, 1, MAX_RATE),
    conversationsPerAddressPerHour: intVar(env, 'CONVERSATIONS_PER_ADDRESS_PER_HOUR', 60, 1, MAX_RATE),
    guestMessagesPerMinute: intVar(env, 'RATE_LIMIT_GUEST_MESSAGES_PER_MINUTE', 20, 1, MAX_RATE),
    authFailuresPerMinute: intVar(env, 'RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', 30, 1, MAX_RATE),
  };
}

/**
 * Whose X-Forwarded-For to believe. Off by default: the client address is the socket's, so a
 * client cannot pick its own rate-limit key. Behind a proxy, name it (addresses or CIDRs, or
 * `loopback`/`linklocal`/`uniquelocal`); `true` believes any peer (only where nothing but the
 * proxy can connect). A hop count is refused: Fastify 5 no longer trusts one (it cannot tell
 * a proxy from a client), so it would silently mean "off".
 */
function trustProxy(env: NodeJS.ProcessEnv): Config['trustProxy'] {
  const raw = (env.TRUST_PROXY ?? '').trim();
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) throw new ConfigError('TRUST_PROXY', `must name the proxies (addresses or CIDRs), not a hop count (got "${raw}")`);
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of entries) {
    if (!isTrustedProxyEntry(entry)) {
      throw new ConfigError('TRUST_PROXY', `must be true, false, or a comma-separated list of addresses/CIDRs (got "${entry}")`);
    }
  }
  return entries;
}

function isTrustedProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

function slowClientTimeouts(env: NodeJS.ProcessEnv): Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs'> {
  const headersTimeoutMs = intVar(env, 'HEADERS_TIMEOUT_MS', 10_000, 500, 120_000);
  const requestTimeoutMs = intVar(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000);
  if (requestTimeoutMs < headersTimeoutMs) throw new ConfigError('REQUEST_TIMEOUT_MS', `must be at least HEADERS_TIMEOUT_MS (${headersTimeoutMs})`);
  return { headersTimeoutMs, requestTimeoutMs };
}
