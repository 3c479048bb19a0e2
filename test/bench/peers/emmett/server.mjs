// Bench-only peer (test/bench/lib/peer.mjs runs it; never part of npm test): the service's
// take-over -> reply -> close cycle written the way Emmett's samples write it: a decider
// (conversation.mjs) run by `DeciderCommandHandler` on `getSQLiteEventStore` from
// @event-driven-io/emmett-sqlite, behind plain Fastify routes (not emmett-expressjs, which lags
// the core's version). Same URLs, bodies, auth header and answer codes as the service for the
// routes the bench's cycle() and prepareTickets() use, so the same client drives both.
//
// Work per command, as in the service: verify the employee's HS256 JWT (jose, key imported once;
// exp/sub required, role and propertyId checked), validate params and body (Fastify's JSON schema:
// uuid id; text 1..4000 chars, not blank; unknown fields rejected), fold the stream, decide with the
// same rules (409 take-over of a ticket that is not OPEN, naming the owner; reply only by the owner;
// close only by the owner), append with optimistic concurrency (expected stream version = the version
// read; a lost race is retried by the handler, whose re-decision answers 409).
//
// Versions (package.json): the newest on the registry, @event-driven-io/emmett 0.42.0 and
// emmett-sqlite 0.42.4; the latter's peer dependency pins emmett 0.42.4, which the registry does
// not have, so an npm override points it at 0.42.0 (emmett-sqlite bundles the core code it runs;
// the older matching pair 0.38.5/0.38.5 shares one connection object between concurrent commands).
//
// Durability (emmett-sqlite 0.42.4 source, src/connection/sqliteConnection.ts and
// sqliteConnectionPool.ts): every store operation on a file opens a NEW node-sqlite3 connection,
// runs `PRAGMA journal_mode = WAL;` and closes it afterwards; `synchronous` is never set, so it is
// SQLite's compiled default, FULL (node-sqlite3 5.1.7 builds SQLite 3.44.2 with
// DEFAULT_SYNCHRONOUS=2 and DEFAULT_WAL_SYNCHRONOUS=2): every append is one BEGIN IMMEDIATE ...
// COMMIT with an fsync of the WAL before the answer. node-sqlite3's busy timeout is 1000 ms.
// The service is WAL + FULL too (group commit in a worker thread).
//
// Store wiring (PEER_STORE, default `shared`; see openEventStore): emmett-sqlite's default for a
// file cannot be driven at 50 connections here (SQLITE_BUSY for most commands), so the bench runs
// it on one shared connection with appends one at a time: the smallest change that works.
//
// Known defect of the store, not hit by the bench (distinct conversations, no races): when an
// append loses its version check, emmett-sqlite 0.42.4 returns "conflict" but COMMITs the bumped
// emt_streams.stream_position, so the stream is wedged: after racing take-overs (one 200, the
// others 409) the winner's reply and close answer 409 forever ("Expected version 5 does not
// match current -1"). The service's rule "exactly one wins, the ticket goes on" does not hold here.
//
// What the service does per command and this peer does NOT (so the service does more work):
// no idempotency keys (Idempotency-Key / command ids) and no stored answers for replays; no read
// models, projector, change feed or SSE; no rate limits; no per-request logs or metrics; no
// property settings or personal settings read on close (chat mode fixed to hybrid, closure
// messages off, support requests always open a ticket); no security headers, CORS or OpenAPI;
// no cache of folded streams (every command reads its whole stream, as Emmett's handler does).
import { DeciderCommandHandler, EmmettError } from '@event-driven-io/emmett';
import { getSQLiteEventStore, sqliteConnection } from '@event-driven-io/emmett-sqlite';
import Fastify from 'fastify';
import { SignJWT, jwtVerify } from 'jose';
import { createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { decider } from './conversation.mjs';

const config = {
  port: Number(process.env.PORT ?? 3100),
  host: process.env.HOST ?? '127.0.0.1',
  dataDir: process.env.DATA_DIR ?? './data',
  secret: process.env.AUTH_JWT_SECRET,
};
if (!config.secret) throw new Error('AUTH_JWT_SECRET is required');
mkdirSync(config.dataDir, { recursive: true });

const employeeKey = createSecretKey(Buffer.from(config.secret, 'utf8'));
const guestKey = createSecretKey(randomBytes(32)); // the peer's own, like the service's guest tokens

const eventStore = openEventStore(join(config.dataDir, 'events.db'), process.env.PEER_STORE ?? 'shared');
await eventStore.schema.migrate();

/**
 * `stock`: emmett-sqlite's default for a file (a fresh connection per operation, closed without
 * waiting; the close of the last one checkpoints the WAL). Measured here: 500 SQLITE_BUSY for a
 * share of commands already at 1 request in flight, for most at 2+, so it cannot be driven at 50.
 * `shared` (what the bench runs): one connection for the process, the store's own
 * `connectionOptions: { singleton: true, connection }`, and appends one at a time, because that
 * connection's transaction counter is not safe for interleaved transactions. Reads stay concurrent
 * (on the same connection they may see an in-flight append's rows: the append's version check
 * still decides).
 */
function openEventStore(fileName, mode) {
  if (mode === 'stock') return getSQLiteEventStore({ fileName });
  if (mode !== 'shared') throw new Error(`PEER_STORE=${mode}: "shared" or "stock"`);
  const store = getSQLiteEventStore({ fileName, connectionOptions: { singleton: true, connection: sqliteConnection({ fileName }) } });
  let tail = Promise.resolve();
  const oneAtATime = (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };
  return { ...store, appendToStream: (...args) => oneAtATime(() => store.appendToStream(...args)) };
}

const handle = DeciderCommandHandler({
  ...decider,
  mapToStreamId: (id) => `conversation-${id}`,
  // A lost race re-reads and re-decides (then answers 409 naming the winner), as the service does.
  retry: { onVersionConflict: true },
});

const now = () => new Date().toISOString();
const unauthorized = () => new EmmettError({ errorCode: 401, message: 'Missing or invalid token' });

async function employeeOf(request) {
  const [scheme, token] = (request.headers.authorization ?? '').split(' ');
  if (scheme !== 'Bearer' || !token) throw unauthorized();
  try {
    const { payload } = await jwtVerify(token, employeeKey, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
    if ((payload.role !== 'agent' && payload.role !== 'admin') || typeof payload.propertyId !== 'string') throw unauthorized();
    return { id: payload.sub, name: typeof payload.name === 'string' ? payload.name : payload.sub, role: payload.role, propertyId: payload.propertyId };
  } catch {
    throw unauthorized();
  }
}

async function guestOf(request, conversationId) {
  const [scheme, token] = (request.headers.authorization ?? '').split(' ');
  if (scheme !== 'Bearer' || !token) throw unauthorized();
  let payload;
  try {
    ({ payload } = await jwtVerify(token, guestKey, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }));
  } catch {
    throw unauthorized();
  }
  if (payload.sub !== conversationId) throw new EmmettError({ errorCode: 403, message: 'Not your conversation' });
  return payload;
}

const ticketView = (state, me) => ({
  status: state.ticket?.status ?? 'none',
  owner: state.ticket?.ownerId ? { id: state.ticket.ownerId, name: state.ticket.ownerName } : null,
  badge: state.ticket?.status === 'open' ? 'open_ticket' : state.ticket?.status === 'assigned' ? (state.ticket.ownerId === me.id ? 'assigned_to_you' : 'assigned') : null,
});
const answer = (id, result, me) => ({
  conversationId: id,
  ticket: ticketView(result.newState, me),
  position: result.lastEventGlobalPosition?.toString() ?? null,
});

// Fastify's default Ajv strips unknown fields; the service rejects them (400), so this does too.
const app = Fastify({ logger: false, bodyLimit: 64 * 1024, ajv: { customOptions: { removeAdditional: false } } });
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } };
const noBody = { anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: false }] };

app.setErrorHandler((error, _request, reply) => {
  if (error.validation) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message, details: error.validation });
  if (EmmettError.isInstanceOf(error)) {
    // A race still lost after the handler's retries is a state conflict too.
    const status = error.errorCode === EmmettError.Codes.ConcurrencyError ? 409 : error.errorCode;
    return reply.code(status).send({ statusCode: status, error: error.code ?? error.name, message: error.message, ...(error.details ? { details: error.details } : {}) });
  }
  if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ statusCode: error.statusCode, error: error.code ?? 'Error', message: error.message });
  console.error(error);
  return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: String(error?.message ?? error) });
});

app.post('/v1/guest/conversations', {
  schema: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['propertyId', 'guestName'],
      properties: { propertyId: { type: 'string', minLength: 1, maxLength: 100 }, guestName: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' } },
    },
  },
  handler: async (request, reply) => {
    const id = randomUUID();
    const { propertyId, guestName } = request.body;
    const result = await handle(eventStore, id, { type: 'StartConversation', data: { propertyId, guestName, at: now() } });
    const guestToken = await new SignJWT({ propertyId }).setProtectedHeader({ alg: 'HS256' }).setSubject(id).setIssuedAt().setExpirationTime('24h').sign(guestKey);
    return reply.code(201).send({ conversationId: id, guestToken, position: result.lastEventGlobalPosition?.toString() ?? null });
  },
});

app.post('/v1/guest/conversations/:id/support-requests', {
  schema: { params: idParams, body: noBody },
  handler: async (request, reply) => {
    const { id } = request.params;
    await guestOf(request, id);
    const result = await handle(eventStore, id, { type: 'RequestSupport', data: { ticketId: randomUUID(), at: now() } });
    return reply.code(201).send({
      ticketOpened: result.newEvents.some((e) => e.type === 'TicketOpened'),
      support: result.newState.ticket?.status === 'assigned' ? 'agent_joined' : result.newState.ticket?.status === 'open' ? 'waiting_for_agent' : 'none',
      position: result.lastEventGlobalPosition?.toString() ?? null,
    });
  },
});

app.post('/v1/conversations/:id/take-over', {
  schema: { params: idParams, body: noBody },
  handler: async (request, reply) => {
    const me = await employeeOf(request);
    const { id } = request.params;
    const result = await handle(eventStore, id, { type: 'TakeOver', data: { employee: me, propertyId: me.propertyId, at: now() } });
    return reply.code(200).send(answer(id, result, me));
  },
});

app.post('/v1/conversations/:id/messages', {
  schema: {
    params: idParams,
    body: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 4000, pattern: '\\S' } } },
  },
  handler: async (request, reply) => {
    const me = await employeeOf(request);
    const { id } = request.params;
    const messageId = randomUUID();
    const at = now();
    const result = await handle(eventStore, id, { type: 'Reply', data: { employee: me, propertyId: me.propertyId, messageId, text: request.body.text, at } });
    return reply.code(201).send({ ...answer(id, result, me), message: { id: messageId, text: request.body.text, at } });
  },
});

app.post('/v1/conversations/:id/close', {
  schema: { params: idParams, body: noBody },
  handler: async (request, reply) => {
    const me = await employeeOf(request);
    const { id } = request.params;
    const result = await handle(eventStore, id, { type: 'CloseTicket', data: { employee: me, propertyId: me.propertyId, at: now() } });
    return reply.code(200).send({ ...answer(id, result, me), closureMessageSent: false, aiRepliesResumed: true });
  },
});

app.get('/health/live', async () => ({ status: 'ok' }));

const shutdown = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

await app.listen({ port: config.port, host: config.host });
console.log(`emmett peer listening on ${config.host}:${app.server.address().port}`);
