/**
 * Abuse limits (README "Abuse limits"), with @fastify/rate-limit's counters: in process, or in
 * Redis when REDIS_URL is set, so a limit holds across every API instance.
 *
 * The buckets a request counts in are chosen by its route, never by what the client claims:
 * - `/health`, `/health/live`, `/health/ready`, `/metrics` and CORS preflights: never limited.
 * - `POST /v1/guest/conversations` (anonymous): per client address, `conversationStarts` per
 *   minute (every attempt), and `conversationsPerHour` (conversations actually started, 201).
 * - every other route that takes no token (docs, unknown paths) and every request that bears
 *   none: per address (`anonymous`). A bearer token sent to such a route is ignored, so random
 *   tokens cannot buy an attacker fresh buckets.
 * - `/v1` routes with a bearer token: per token (`token`; its sha256, never the token itself);
 *   a guest's messages also count in the stricter `guestMessages` bucket. Random tokens on these
 *   routes each get a 401, and an address whose requests earned `authFailures` 401s in a minute
 *   gets 429 for every request bearing a token until the minute is over (also its valid ones:
 *   behind one NAT a misbehaving neighbour costs the others that minute).
 * Over a limit: 429 `rate_limited` in the one error shape, with `Retry-After` (seconds). If the
 * counters' store fails, the request is let through (logged): an outage of Redis must not take
 * the API down with it.
 */
import rateLimitPlugin from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config, RateLimitConfig } from '../../config.js';
import { connectRedis, hangUp } from '../redis/redis-connection.js';
import { bearerTokenOf } from './auth/principal.js';
import { clientAddress, digest } from './client-address.js';
import { errorBody, withRequestId } from './errors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const UNLIMITED_ROUTES = new Set(['/health', '/health/live', '/health/ready', '/metrics']);
const START_ROUTE = '/v1/guest/conversations';
const GUEST_MESSAGE_ROUTE = '/v1/guest/conversations/:id/messages';

export type LimitName = 'anonymous' | 'token' | 'conversationStarts' | 'conversationsPerHour' | 'guestMessages' | 'authFailures';

/** The bucket identity of a request, or null when it is never limited. */
interface Bucket {
  /** Limits that count this request when it arrives. */
  counted: Array<{ limit: LimitName; key: string }>;
  /** Limits that only refuse it (their count is kept by the answers: 201 starts, 401s). */
  guarded: Array<{ limit: LimitName; key: string }>;
}

export async function registerRateLimits(fastify: FastifyInstance, config: Config): Promise<void> {
  if (!config.rateLimit.enabled) return;
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, { connectionName: 'lct-rate-limit' }) : null;
  if (redis) fastify.addHook('onClose', async () => hangUp(redis));
  await fastify.register(rateLimitPlugin, {
    global: false,
    ...(redis ? { redis: redis as Redis, nameSpace: 'lct:rate-limit:' } : { cache: 10_000 }),
  });
  const limits = createLimits(fastify, config.rateLimit);

  fastify.addHook('onRequest', async (req, reply) => {
    const bucket = bucketOf(req);
    if (bucket === null) return;
    try {
      for (const { limit, key } of bucket.guarded) {
        const result = await limits[limit].check(req, false, key);
        if (result.exceeded) return refuse(req, reply, limit, result.retryAfterSeconds);
      }
      for (const { limit, key } of bucket.counted) {
        const result = await limits[limit].check(req, true, key);
        if (result.exceeded) return refuse(req, reply, limit, result.retryAfterSeconds);
      }
    } catch (error) {
      req.log.warn({ err: error }, 'rate-limit store unavailable: request let through');
    }
  });

  // Counted by their answer (before it is sent, so the client's next request sees the count):
  // conversations really started, and failed authentications.
  fastify.addHook('onSend', (req, reply, payload, done) => {
    const started = reply.statusCode === 201 && req.method === 'POST' && req.routeOptions?.url === START_ROUTE && reply.getHeader('idempotent-replayed') !== 'true';
    if (!started && reply.statusCode !== 401) return done(null, payload);
    const address = clientAddress(req);
    const counted = started
      ? limits.conversationsPerHour.check(req, true, `started:${address}`)
      : limits.authFailures.check(req, true, `auth-failures:${address}`);
    counted.then(
      () => done(null, payload),
      (error: unknown) => {
        req.log.warn({ err: error }, 'rate-limit store unavailable: answer not counted');
        done(null, payload);
      },
    );
  });
}

type Limits = Record<LimitName, { check(req: FastifyRequest, increment: boolean, key: string): Promise<{ exceeded: boolean; retryAfterSeconds: number }> }>;

function createLimits(fastify: FastifyInstance, c: RateLimitConfig): Limits {
  const make = (max: number, timeWindow: number) => {
    // The key is chosen by bucketOf and handed over on the request (the plugin asks a key generator for it).
    const limiter = fastify.createRateLimit({ max, timeWindow, keyGenerator: (req) => (req as KeyedRequest)[KEY]! });
    return {
      async check(req: FastifyRequest, increment: boolean, key: string) {
        (req as KeyedRequest)[KEY] = key;
        const result = await limiter(req, { increment });
        if (result.isAllowed) return { exceeded: false, retryAfterSeconds: 0 };
        // Counting (increment): over once this request made it more than max. Reading: full at max.
        const exceeded = increment ? result.isExceeded : result.remaining === 0;
        return { exceeded, retryAfterSeconds: Math.max(1, result.ttlInSeconds) };
      },
    };
  };
  return {
    anonymous: make(c.anonymousPerMinute, MINUTE),
    token: make(c.tokenPerMinute, MINUTE),
    conversationStarts: make(c.conversationStartsPerMinute, MINUTE),
    conversationsPerHour: make(c.conversationsPerAddressPerHour, HOUR),
    guestMessages: make(c.guestMessagesPerMinute, MINUTE),
    authFailures: make(c.authFailuresPerMinute, MINUTE),
  };
}

const KEY = Symbol('rateLimitKey');
type KeyedRequest = FastifyRequest & { [KEY]?: string };

function bucketOf(req: FastifyRequest): Bucket | null {
  const route = req.routeOptions?.url;
  if (req.method === 'OPTIONS' || (route !== undefined && UNLIMITED_ROUTES.has(route))) return null;
  const address = clientAddress(req);
  if (req.method === 'POST' && route === START_ROUTE) {
    return {
      guarded: [{ limit: 'conversationsPerHour', key: `started:${address}` }],
      counted: [{ limit: 'conversationStarts', key: `start:${address}` }],
    };
  }
  // As the AuthGuard reads it; `?access_token=` only on stream routes.
  const token = route?.startsWith('/v1/') ? bearerTokenOf(req, route.endsWith('/stream'))?.token : undefined;
  if (token === undefined) return { guarded: [], counted: [{ limit: 'anonymous', key: `anon:${address}` }] };
  const tokenKey = digest(token);
  return {
    guarded: [{ limit: 'authFailures', key: `auth-failures:${address}` }],
    counted: [
      { limit: 'token', key: `token:${tokenKey}` },
      ...(req.method === 'POST' && route === GUEST_MESSAGE_ROUTE ? [{ limit: 'guestMessages' as const, key: `guest-message:${tokenKey}` }] : []),
    ],
  };
}


function refuse(req: FastifyRequest, reply: FastifyReply, limit: LimitName, retryAfterSeconds: number): FastifyReply {
  const message =
    limit === 'conversationsPerHour'
      ? `Too many conversations started from this address; retry in ${retryAfterSeconds} s`
      : `Too many requests; retry in ${retryAfterSeconds} s`;
  const body = withRequestId(errorBody(429, message, { code: 'rate_limited', details: { limit, retryAfterSeconds } }), req.id);
  return reply.status(429).header('retry-after', String(retryAfterSeconds)).header('content-type', 'application/json; charset=utf-8').send(body);
}
