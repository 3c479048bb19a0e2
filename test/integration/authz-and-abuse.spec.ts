/**
 * Authorization and abuse, as one table: each case is a request (method, path, who sends it,
 * from which client address) against a real app, and the answer it must get (status, code).
 * Tenancy, owner-only actions, what a guest may see, tokens used where they do not belong,
 * rate limits (per address, per token, spoofed X-Forwarded-For, across instances on Redis),
 * known properties, the caps, and the ways an Idempotency-Key could leak another caller's answer.
 *
 * Apps (all on real SQLite files; the limited ones count in Redis):
 * - `main`: limits high (test-env.ts), small caps (MAIN_ENV).
 * - `limited`: low rate limits (LIMITED_ENV), Redis store; `twin`: a second instance on the same
 *   Redis and files, behind a trusted proxy (TRUST_PROXY=loopback).
 * Each case runs from its own loopback address (freshAddress), so no case spends another's
 * budget — also not one left in Redis by an earlier run.
 *
 * To add a case: append to CASES. `setup` prepares what the request needs and returns values
 * (tokens, ids) that `who`, `path` and `body` may name; `who` is `anonymous`, `random` (a new
 * garbage bearer token per request) or the name of a token in those values.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { parse } from 'yaml';
import { callerScope, fingerprintOf } from '../../src/adapters/http/command-context.js';
import type { Res } from '../support/http.js';
import { eventually } from '../support/http.js';
import { freshAddress, sendFrom } from '../support/http-from.js';
import { type TestApp, TEST_SECRET, startTestApp } from '../support/test-app.js';
import { addPropertiesWithCli } from '../support/test-env.js';

const PROPERTY = 'hotel-a';
const FOREIGN = 'hotel-b';

const MAIN_ENV = { MAX_GUEST_MESSAGES_PER_CONVERSATION: '3', MESSAGE_TEXT_MAX_LENGTH: '200' };
const LIMITED_ENV = {
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '5',
  RATE_LIMIT_TOKEN_PER_MINUTE: '6',
  RATE_LIMIT_CONVERSATION_STARTS_PER_MINUTE: '3',
  CONVERSATIONS_PER_ADDRESS_PER_HOUR: '2',
  RATE_LIMIT_GUEST_MESSAGES_PER_MINUTE: '2',
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3',
};

type AppName = 'main' | 'limited' | 'twin';
type Vars = Record<string, any>;

interface World {
  apps: Record<AppName, TestApp>;
  /** Employee tokens, minted per case (a token per case is a budget per case); `ops` adds the service operator claim. */
  employee(id: string, role?: 'agent' | 'admin', propertyId?: string, options?: { ops?: boolean }): Promise<string>;
}

interface Case {
  name: string;
  /** The app the request goes to (default `main`); `setup` may return another as `vars.app`. */
  on?: AppName;
  /** Runs first, from the case's address (`from`); what it returns is the case's values. */
  setup?: (w: World, from: string, app: TestApp) => Promise<Vars>;
  request: {
    method: string;
    path: string | ((v: Vars) => string);
    who: string;
    body?: unknown | ((v: Vars) => unknown);
    headers?: Record<string, string> | ((v: Vars) => Record<string, string>);
    /** Another client than the case's own (`fresh`), or the one `setup` returned as `vars.from`. */
    from?: 'fresh' | ((v: Vars) => string);
    /** Sent this many times (default 1): every answer but the last must have `before`'s status, the last `expect`'s. */
    times?: number;
  };
  before?: { status: number };
  expect: { status: number; code?: string; retryAfter?: boolean; check?: (res: Res, v: Vars, w: World) => Promise<void> | void };
}

// ---------------------------------------------------------------- helpers for setups

const json = (v: unknown) => JSON.stringify(v);

async function start(app: TestApp, from: string, guestName = 'Guest', headers: Record<string, string> = {}, propertyId = PROPERTY) {
  const res = await sendFrom(app.url, { method: 'POST', path: '/v1/guest/conversations', from, body: { propertyId, guestName }, headers });
  if (res.status !== 201) throw new Error(`start: ${res.status} ${json(res.body)}`);
  return res.body as { conversationId: string; guestToken: string; position: string };
}

async function ticketTakenOver(w: World, from: string, app: TestApp, owner: string) {
  const g = await start(app, from, 'Tina');
  const support = await sendFrom(app.url, { method: 'POST', path: `/v1/guest/conversations/${g.conversationId}/support-requests`, from, token: g.guestToken });
  if (support.body?.ticketOpened !== true) throw new Error(`support request: ${json(support.body)}`);
  const taken = await sendFrom(app.url, { method: 'POST', path: `/v1/conversations/${g.conversationId}/take-over`, from, token: owner });
  if (taken.status !== 200) throw new Error(`take-over: ${taken.status} ${json(taken.body)}`);
  return g;
}

/** A restart of the embedded app on its files: the in-process store of first answers is gone. */
async function restart(app: TestApp, env: Record<string, string> = MAIN_ENV): Promise<{ app: TestApp; cleanup: () => Promise<void> }> {
  await app.close();
  const restarted = await startTestApp(env, app.dataDir);
  return { app: restarted, cleanup: () => restarted.stop().then(() => rmSync(app.dataDir, { recursive: true, force: true })) };
}

const idem = (key: string) => ({ 'idempotency-key': key });

/** An employee token as an identity provider might sign it, with whatever `ops` claim it is given (not only `true`). */
const employeeTokenWithOps = (ops: unknown) =>
  new SignJWT({ propertyId: PROPERTY, role: 'admin', name: 'Sly', ops })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`sly-${randomUUID().slice(0, 8)}`)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET));
const RATE_LIMITED = (limit: string) => ({ statusCode: 429, error: 'Too Many Requests', code: 'rate_limited', details: expect.objectContaining({ limit }), requestId: expect.any(String) });

// ---------------------------------------------------------------- the table

const CASES: Case[] = [
  // ---- tenancy: another property's ids are unknown ids
  {
    name: "another property's conversation is a 404, like an unknown id",
    setup: async (w, from, app) => ({ ...(await start(app, from)), foreign: await w.employee('foreign-agent', 'agent', FOREIGN) }),
    request: { method: 'GET', path: (v) => `/v1/conversations/${v.conversationId}`, who: 'foreign' },
    expect: { status: 404, code: 'conversation_not_found' },
  },
  {
    name: "another property's employee cannot take a ticket over (404)",
    setup: async (w, from, app) => {
      const g = await start(app, from);
      await sendFrom(app.url, { method: 'POST', path: `/v1/guest/conversations/${g.conversationId}/support-requests`, from, token: g.guestToken });
      return { ...g, foreign: await w.employee('foreign-agent', 'agent', FOREIGN) };
    },
    request: { method: 'POST', path: (v) => `/v1/conversations/${v.conversationId}/take-over`, who: 'foreign' },
    expect: { status: 404, code: 'conversation_not_found' },
  },
  {
    name: "another property's admin cannot read a conversation's history (404)",
    setup: async (w, from, app) => ({ ...(await start(app, from)), foreignAdmin: await w.employee('foreign-admin', 'admin', FOREIGN) }),
    request: { method: 'GET', path: (v) => `/v1/ops/conversations/${v.conversationId}/history`, who: 'foreignAdmin' },
    expect: { status: 404 },
  },
  {
    name: 'an unknown conversation id is the same 404',
    setup: async (w) => ({ agent: await w.employee('agent') }),
    request: { method: 'GET', path: `/v1/conversations/${randomUUID()}`, who: 'agent' },
    expect: { status: 404, code: 'conversation_not_found' },
  },
  // ---- owner-only and admin-only actions
  {
    name: 'only the owner (or an admin) closes an assigned ticket',
    setup: async (w, from, app) => {
      const owner = await w.employee('owner');
      return { ...(await ticketTakenOver(w, from, app, owner)), colleague: await w.employee('colleague') };
    },
    request: { method: 'POST', path: (v) => `/v1/conversations/${v.conversationId}/close`, who: 'colleague' },
    expect: { status: 403, code: 'assigned_to_another_employee' },
  },
  {
    name: 'only the owner (or an admin) releases an assigned ticket',
    setup: async (w, from, app) => {
      const owner = await w.employee('owner');
      return { ...(await ticketTakenOver(w, from, app, owner)), colleague: await w.employee('colleague') };
    },
    request: { method: 'POST', path: (v) => `/v1/conversations/${v.conversationId}/release`, who: 'colleague' },
    expect: { status: 403, code: 'assigned_to_another_employee' },
  },
  {
    name: "a reply to someone else's ticket is a 409 naming the owner",
    setup: async (w, from, app) => {
      const owner = await w.employee('owner');
      return { ...(await ticketTakenOver(w, from, app, owner)), colleague: await w.employee('colleague') };
    },
    request: { method: 'POST', path: (v) => `/v1/conversations/${v.conversationId}/messages`, who: 'colleague', body: { text: 'Mine now?' } },
    expect: { status: 409, code: 'assigned_to_another_employee', check: (res) => expect(res.body.details.owner.id).toMatch(/^owner-/) },
  },
  {
    name: 'reassigning is for admins',
    setup: async (w, from, app) => {
      const owner = await w.employee('owner');
      return { ...(await ticketTakenOver(w, from, app, owner)), colleague: await w.employee('colleague') };
    },
    request: { method: 'POST', path: (v) => `/v1/conversations/${v.conversationId}/reassign`, who: 'colleague', body: { employeeId: 'someone' } },
    expect: { status: 403, code: 'admin_only' },
  },
  {
    name: "an admin may close anyone's ticket",
    setup: async (w, from, app) => {
      const owner = await w.employee('owner');
      return { ...(await ticketTakenOver(w, from, app, owner)), admin: await w.employee('boss', 'admin') };
    },
    request: { method: 'POST', path: (v) => `/v1/conversations/${v.conversationId}/close`, who: 'admin' },
    expect: { status: 200 },
  },
  {
    name: "a property's operations routes are for its admins",
    setup: async (w) => ({ agent: await w.employee('agent') }),
    request: { method: 'GET', path: '/v1/ops/settings/history', who: 'agent' },
    expect: { status: 403 },
  },
  // ---- service-wide operations (every property's read models): only `ops: true` tokens
  {
    name: "a property's admin without ops cannot list the projections (403 ops_only)",
    setup: async (w) => ({ admin: await w.employee('boss', 'admin') }),
    request: { method: 'GET', path: '/v1/ops/projections', who: 'admin' },
    expect: { status: 403, code: 'ops_only', check: (res) => expect(res.body.message).toBe('Only a service operator (token claim ops: true) may do this') },
  },
  {
    name: "a property's admin without ops cannot rebuild a projection (403 ops_only, nothing requested)",
    setup: async (w) => ({ admin: await w.employee('boss', 'admin') }),
    request: { method: 'POST', path: '/v1/ops/projections/settings/rebuild', who: 'admin' },
    expect: {
      status: 403,
      code: 'ops_only',
      check: async (_res, _v, w) => {
        const operator = await w.employee('operator', 'agent', PROPERTY, { ops: true });
        const list = await sendFrom(w.apps.main.url, { method: 'GET', path: '/v1/ops/projections', token: operator });
        expect(list.body.projections.find((p: { name: string }) => p.name === 'settings').rebuild).toBeNull();
      },
    },
  },
  {
    name: 'an operator (ops: true) lists the projections, whatever the role (here an agent)',
    setup: async (w) => ({ operator: await w.employee('operator', 'agent', PROPERTY, { ops: true }) }),
    request: { method: 'GET', path: '/v1/ops/projections', who: 'operator' },
    expect: { status: 200, check: (res) => expect(res.body.projections.map((p: { name: string }) => p.name)).toContain('inbox') },
  },
  {
    name: 'an operator (ops: true) of another property rebuilds a projection (202)',
    setup: async (w) => ({ operator: await w.employee('operator', 'admin', FOREIGN, { ops: true }) }),
    request: { method: 'POST', path: '/v1/ops/projections/employeeNames/rebuild', who: 'operator' },
    expect: { status: 202, check: (res) => expect(res.body.rebuild.state).toBe('requested') },
  },
  {
    name: 'ops: "true" (a string, not the boolean) is not an operator',
    setup: async () => ({ sly: await employeeTokenWithOps('true') }),
    request: { method: 'GET', path: '/v1/ops/projections', who: 'sly' },
    expect: { status: 403, code: 'ops_only' },
  },
  {
    name: 'ops: 1 is not an operator either',
    setup: async () => ({ sly: await employeeTokenWithOps(1) }),
    request: { method: 'POST', path: '/v1/ops/projections/inbox/rebuild', who: 'sly' },
    expect: { status: 403, code: 'ops_only' },
  },
  {
    name: "ops does not make an agent an admin of the property's operations",
    setup: async (w) => ({ operator: await w.employee('operator', 'agent', PROPERTY, { ops: true }) }),
    request: { method: 'GET', path: '/v1/ops/settings/history', who: 'operator' },
    expect: { status: 403 },
  },
  {
    name: "ops does not open another property's conversations (404)",
    setup: async (w, from, app) => ({ ...(await start(app, from)), operator: await w.employee('operator', 'admin', FOREIGN, { ops: true }) }),
    request: { method: 'GET', path: (v) => `/v1/ops/conversations/${v.conversationId}/history`, who: 'operator' },
    expect: { status: 404 },
  },
  {
    name: 'a stream token minted with an ops token carries no ops (and opens no projections)',
    setup: async (w, from, app) => {
      const operator = await w.employee('operator', 'admin', PROPERTY, { ops: true });
      const minted = await sendFrom(app.url, { method: 'POST', path: '/v1/stream-tokens', from, token: operator });
      if (minted.status !== 201 && minted.status !== 200) throw new Error(`stream token: ${minted.status}`);
      return { streamToken: minted.body.token };
    },
    request: { method: 'GET', path: '/v1/ops/projections', who: 'streamToken' },
    expect: {
      status: 401,
      check: async (_res, v, w) => {
        const verified = await w.apps.main.tokens.verify(v.streamToken);
        expect(verified).toMatchObject({ scope: 'stream', principal: { kind: 'employee', ops: false } });
      },
    },
  },
  // ---- guests
  {
    name: 'a guest token of another conversation does not open this one',
    setup: async (_w, from, app) => {
      const mine = await start(app, from, 'Mia');
      const other = await start(app, from, 'Otto');
      return { conversationId: mine.conversationId, otherGuest: other.guestToken };
    },
    request: { method: 'GET', path: (v) => `/v1/guest/conversations/${v.conversationId}`, who: 'otherGuest' },
    expect: { status: 403 },
  },
  {
    name: 'a guest token of another conversation cannot write into this one',
    setup: async (_w, from, app) => {
      const mine = await start(app, from, 'Mia');
      const other = await start(app, from, 'Otto');
      return { conversationId: mine.conversationId, otherGuest: other.guestToken };
    },
    request: { method: 'POST', path: (v) => `/v1/guest/conversations/${v.conversationId}/messages`, who: 'otherGuest', body: { text: 'hello from elsewhere' } },
    expect: { status: 403 },
  },
  {
    name: 'a guest token does not open employee routes',
    setup: async (_w, from, app) => start(app, from),
    request: { method: 'GET', path: '/v1/conversations', who: 'guestToken' },
    expect: { status: 403 },
  },
  {
    name: 'an employee token does not open guest routes',
    setup: async (w, from, app) => ({ ...(await start(app, from)), agent: await w.employee('agent') }),
    request: { method: 'GET', path: (v) => `/v1/guest/conversations/${v.conversationId}`, who: 'agent' },
    expect: { status: 403 },
  },
  {
    name: 'a guest never sees an employee id (only names)',
    setup: async (w, from, app) => {
      const owner = await app.tokens.employeeToken({ id: 'emp-secret-7f3a', propertyId: PROPERTY, role: 'agent', name: 'Olivia' });
      const g = await ticketTakenOver(w, from, app, owner);
      const reply = await sendFrom(app.url, { method: 'POST', path: `/v1/conversations/${g.conversationId}/messages`, from, token: owner, body: { text: 'Hello, how can I help?' } });
      if (reply.status !== 201) throw new Error(`reply: ${reply.status}`);
      return g;
    },
    request: { method: 'GET', path: (v) => `/v1/guest/conversations/${v.conversationId}?minPosition=0`, who: 'guestToken' },
    expect: {
      status: 200,
      check: async (res, v, w) => {
        const app = w.apps.main;
        // Wait until the view shows the reply, then look for the id anywhere in it.
        const seen = await eventually(async () => {
          const r = await sendFrom(app.url, { method: 'GET', path: `/v1/guest/conversations/${v.conversationId}`, token: v.guestToken });
          return json(r.body).includes('Hello, how can I help?') ? r : undefined;
        }, 10000, 'the reply in the guest view');
        expect(json(seen.body)).not.toMatch(/emp-secret-7f3a/);
        expect(json(res.body)).not.toMatch(/emp-secret-7f3a/);
      },
    },
  },
  // ---- tokens where they do not belong
  {
    name: 'a stream token does not open a non-stream route',
    setup: async (w, from, app) => {
      const agent = await w.employee('agent');
      const minted = await sendFrom(app.url, { method: 'POST', path: '/v1/stream-tokens', from, token: agent });
      if (minted.status !== 201 && minted.status !== 200) throw new Error(`stream token: ${minted.status}`);
      return { streamToken: minted.body.token };
    },
    request: { method: 'GET', path: '/v1/conversations', who: 'streamToken' },
    expect: { status: 401 },
  },
  { name: 'no token is a 401', request: { method: 'GET', path: '/v1/conversations', who: 'anonymous' }, expect: { status: 401 } },
  { name: 'a garbage token is a 401', request: { method: 'GET', path: '/v1/conversations', who: 'random' }, expect: { status: 401 } },
  // ---- known properties
  {
    name: 'an unknown property cannot be started: 404 unknown_property, nothing written',
    setup: async (_w, _from, app) => ({ head: await app.adapters.eventStore.headPosition() }),
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: { propertyId: `nowhere-${randomUUID()}`, guestName: 'Spam' } },
    expect: {
      status: 404,
      code: 'unknown_property',
      check: async (_res, v, w) => expect(await w.apps.main.adapters.eventStore.headPosition()).toBe(v.head),
    },
  },
  {
    name: 'a property is known once its admin saved any setting (even unchanged)',
    setup: async (w, from, app) => {
      const propertyId = `fresh-${randomUUID()}`;
      const admin = await w.employee('admin', 'admin', propertyId);
      const saved = await sendFrom(app.url, { method: 'PUT', path: '/v1/settings/live-chat', from, token: admin, body: { requestSupportChat: false } });
      if (saved.status !== 200) throw new Error(`save: ${saved.status}`);
      return { propertyId };
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: (v: Vars) => ({ propertyId: v.propertyId, guestName: 'Ann' }) },
    expect: { status: 201 },
  },
  {
    name: 'a property is known once its admin saved personal settings',
    setup: async (w, from, app) => {
      const propertyId = `fresh-${randomUUID()}`;
      const admin = await w.employee('admin', 'admin', propertyId);
      const saved = await sendFrom(app.url, { method: 'PUT', path: '/v1/me/settings', from, token: admin, body: { incomingSupportRequests: false } });
      if (saved.status !== 200) throw new Error(`save: ${saved.status}`);
      return { propertyId };
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: (v: Vars) => ({ propertyId: v.propertyId, guestName: 'Ann' }) },
    expect: { status: 201 },
  },
  {
    name: "an agent's saved settings do not make a property known",
    setup: async (w, from, app) => {
      const propertyId = `fresh-${randomUUID()}`;
      const agent = await w.employee('agent', 'agent', propertyId);
      await sendFrom(app.url, { method: 'PUT', path: '/v1/me/settings', from, token: agent, body: { incomingSupportRequests: true } });
      return { propertyId };
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: (v: Vars) => ({ propertyId: v.propertyId, guestName: 'Ann' }) },
    expect: { status: 404, code: 'unknown_property' },
  },
  {
    name: 'a property added with `live-chat-tickets properties add` is known at once',
    setup: async (_w, _from, app) => {
      const propertyId = `cli-${randomUUID()}`;
      const { REDIS_URL: _r, MONGODB_URL: _m, EVENTSTORE_URL: _e, ...env } = process.env;
      await addPropertiesWithCli({ ...env, DATA_DIR: app.dataDir, AUTH_JWT_SECRET: TEST_SECRET }, [propertyId]);
      return { propertyId };
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: (v: Vars) => ({ propertyId: v.propertyId, guestName: 'Ann' }) },
    expect: { status: 201 },
  },
  // ---- caps
  {
    name: 'a conversation takes at most MAX_GUEST_MESSAGES_PER_CONVERSATION guest messages (409 message_limit_reached)',
    setup: async (_w, from, app) => {
      const g = await start(app, from);
      for (let i = 1; i <= 3; i++) {
        const r = await sendFrom(app.url, { method: 'POST', path: `/v1/guest/conversations/${g.conversationId}/messages`, from, token: g.guestToken, body: { text: `message ${i}` } });
        if (r.status !== 201) throw new Error(`message ${i}: ${r.status}`);
      }
      return g;
    },
    request: { method: 'POST', path: (v) => `/v1/guest/conversations/${v.conversationId}/messages`, who: 'guestToken', body: { text: 'one too many' } },
    expect: { status: 409, code: 'message_limit_reached', check: (res) => expect(res.body.details).toEqual({ limit: 3 }) },
  },
  {
    name: 'a guest message longer than MESSAGE_TEXT_MAX_LENGTH is a 400 naming the field',
    setup: async (_w, from, app) => start(app, from),
    request: { method: 'POST', path: (v) => `/v1/guest/conversations/${v.conversationId}/messages`, who: 'guestToken', body: { text: 'x'.repeat(201) } },
    expect: {
      status: 400,
      code: 'text_too_long',
      check: (res) => expect(res.body.details).toEqual([{ field: 'text', messages: ['text must be shorter than or equal to 200 characters'] }]),
    },
  },
  {
    name: 'a message of exactly MESSAGE_TEXT_MAX_LENGTH characters is accepted',
    setup: async (_w, from, app) => start(app, from),
    request: { method: 'POST', path: (v) => `/v1/guest/conversations/${v.conversationId}/messages`, who: 'guestToken', body: { text: 'x'.repeat(200) } },
    expect: { status: 201 },
  },
  {
    name: "an employee's reply longer than MESSAGE_TEXT_MAX_LENGTH is a 400 too",
    setup: async (w, from, app) => {
      const owner = await w.employee('owner');
      return { ...(await ticketTakenOver(w, from, app, owner)), owner };
    },
    request: { method: 'POST', path: (v) => `/v1/conversations/${v.conversationId}/messages`, who: 'owner', body: { text: 'y'.repeat(201) } },
    expect: { status: 400, code: 'text_too_long', check: (res) => expect(res.body.details[0].field).toBe('text') },
  },
  // ---- Idempotency-Key: never another caller's answer
  {
    name: "another client sending the victim's key and body gets a conversation of its own, never the victim's token",
    setup: async (_w, from, app) => {
      const key = `k-${randomUUID()}`;
      const victim = await start(app, from, 'Vera', idem(key));
      return { key, victim };
    },
    request: {
      method: 'POST',
      path: '/v1/guest/conversations',
      who: 'anonymous',
      from: 'fresh',
      body: { propertyId: PROPERTY, guestName: 'Vera' },
      headers: (v) => idem(v.key),
    },
    expect: {
      status: 201,
      check: async (res, v, w) => {
        expect(res.headers.get('idempotent-replayed')).toBeNull();
        expect(res.body.conversationId).not.toBe(v.victim.conversationId);
        expect(res.body.guestToken).not.toBe(v.victim.guestToken);
        const peek = await sendFrom(w.apps.main.url, { method: 'GET', path: `/v1/guest/conversations/${v.victim.conversationId}`, token: res.body.guestToken });
        expect(peek.status).toBe(403);
      },
    },
  },
  {
    name: "the same client's retry gets its conversation again, with a guest token issued anew (never stored)",
    setup: async (_w, from, app) => {
      const key = `k-${randomUUID()}`;
      return { key, first: await start(app, from, 'Rita', idem(key)), from };
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: { propertyId: PROPERTY, guestName: 'Rita' }, headers: (v: Vars) => idem(v.key), from: (v: Vars) => v.from },
    expect: {
      status: 201,
      check: async (res, v, w) => {
        const app = w.apps.main;
        expect(res.headers.get('idempotent-replayed')).toBe('true');
        expect(res.body).toEqual({ conversationId: v.first.conversationId, position: v.first.position, guestToken: expect.any(String) });
        const own = await sendFrom(app.url, { method: 'GET', path: `/v1/guest/conversations/${v.first.conversationId}`, token: res.body.guestToken });
        expect(own.status).toBe(200);
        // What the store of first answers kept: the answer without the token.
        const path = '/v1/guest/conversations';
        const scoped = `${callerScope({ ip: v.from }, { kind: 'anonymous' })}|POST ${path}|${v.key}`;
        const stored = await app.adapters.idempotency.begin(scoped, fingerprintOf({ method: 'POST', url: path, body: { propertyId: PROPERTY, guestName: 'Rita' } }));
        expect(stored).toEqual({ state: 'done', answer: { statusCode: 201, body: { conversationId: v.first.conversationId, position: v.first.position } } });
      },
    },
  },
  {
    name: "after a restart (answers lost), a different body under the victim's key is 422, never the victim's conversation",
    setup: async (_w, from) => {
      const app = await startTestApp(MAIN_ENV);
      const key = `k-${randomUUID()}`;
      const victim = await start(app, from, 'Vera', idem(key));
      return { key, victim, from, ...(await restart(app)) };
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: { propertyId: PROPERTY, guestName: 'Mallory' }, headers: (v: Vars) => idem(v.key), from: (v: Vars) => v.from },
    expect: { status: 422, code: 'idempotency_key_reused', check: (res, v) => expect(json(res.body)).not.toContain(v.victim.conversationId) },
  },
  {
    name: "after a restart, another client's request under the victim's key starts its own conversation",
    setup: async (_w, from) => {
      const app = await startTestApp(MAIN_ENV);
      const key = `k-${randomUUID()}`;
      const victim = await start(app, from, 'Vera', idem(key));
      return { key, victim, ...(await restart(app)) };
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', from: 'fresh', body: { propertyId: PROPERTY, guestName: 'Mallory' }, headers: (v: Vars) => idem(v.key) },
    expect: { status: 201, check: (res, v) => expect(res.body.conversationId).not.toBe(v.victim.conversationId) },
  },
  {
    name: 'after a restart, the same request under the same key is the same conversation (retried, not doubled)',
    setup: async (_w, from) => {
      const app = await startTestApp(MAIN_ENV);
      const key = `k-${randomUUID()}`;
      const first = await start(app, from, 'Rita', idem(key));
      return { key, first, from, ...(await restart(app)) };
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: { propertyId: PROPERTY, guestName: 'Rita' }, headers: (v: Vars) => idem(v.key), from: (v: Vars) => v.from },
    expect: { status: 201, check: (res, v) => expect(res.body.conversationId).toBe(v.first.conversationId) },
  },
  {
    name: "after a restart, a guest's message retried with another text under its key is 422",
    setup: async (_w, from) => {
      const app = await startTestApp(MAIN_ENV);
      const g = await start(app, from, 'Gia');
      const key = `k-${randomUUID()}`;
      const first = await sendFrom(app.url, { method: 'POST', path: `/v1/guest/conversations/${g.conversationId}/messages`, from, token: g.guestToken, body: { text: 'first' }, headers: idem(key) });
      if (first.status !== 201) throw new Error(`message: ${first.status}`);
      return { ...g, key, ...(await restart(app)) };
    },
    request: { method: 'POST', path: (v) => `/v1/guest/conversations/${v.conversationId}/messages`, who: 'guestToken', body: { text: 'second' }, headers: (v: Vars) => idem(v.key) },
    expect: { status: 422, code: 'idempotency_key_reused' },
  },
  // ---- rate limits (429 rate_limited with Retry-After, in the one error shape)
  {
    name: 'anonymous requests are limited per address',
    on: 'limited',
    request: { method: 'GET', path: '/no-such-route', who: 'anonymous', times: 6 },
    before: { status: 404 },
    expect: { status: 429, code: 'rate_limited', retryAfter: true, check: (res) => expect(res.body).toMatchObject(RATE_LIMITED('anonymous')) },
  },
  {
    name: 'a spoofed X-Forwarded-For does not change the address (TRUST_PROXY off)',
    on: 'limited',
    request: { method: 'GET', path: '/no-such-route', who: 'anonymous', times: 6, headers: () => ({ 'x-forwarded-for': freshAddress() }) },
    before: { status: 404 },
    expect: { status: 429, code: 'rate_limited', retryAfter: true },
  },
  {
    name: 'another address has a budget of its own',
    on: 'limited',
    setup: async (_w, from, app) => {
      for (let i = 0; i < 6; i++) await sendFrom(app.url, { method: 'GET', path: '/no-such-route', from });
      return {};
    },
    request: { method: 'GET', path: '/no-such-route', who: 'anonymous', from: 'fresh' },
    expect: { status: 404 },
  },
  {
    name: 'random bearer tokens on the public conversation start buy no fresh budget',
    on: 'limited',
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'random', times: 4, body: { propertyId: 'nowhere', guestName: 'Bot' } },
    before: { status: 404 },
    expect: { status: 429, code: 'rate_limited', retryAfter: true, check: (res) => expect(res.body.details.limit).toBe('conversationStarts') },
  },
  {
    name: 'conversations started per address per hour are capped (CONVERSATIONS_PER_ADDRESS_PER_HOUR)',
    on: 'limited',
    setup: async (_w, from, app) => {
      await start(app, from, 'One');
      await start(app, from, 'Two');
      return {};
    },
    request: { method: 'POST', path: '/v1/guest/conversations', who: 'anonymous', body: { propertyId: PROPERTY, guestName: 'Three' } },
    expect: { status: 429, code: 'rate_limited', retryAfter: true, check: (res) => expect(res.body).toMatchObject(RATE_LIMITED('conversationsPerHour')) },
  },
  {
    name: 'authenticated requests are limited per token',
    on: 'limited',
    setup: async (w) => ({ agent: await w.employee('agent') }),
    request: { method: 'GET', path: '/v1/conversations', who: 'agent', times: 7 },
    before: { status: 200 },
    expect: { status: 429, code: 'rate_limited', retryAfter: true, check: (res) => expect(res.body.details.limit).toBe('token') },
  },
  {
    name: 'each token has a budget of its own, also from one address',
    on: 'limited',
    setup: async (w, from, app) => {
      const spent = await w.employee('spender');
      for (let i = 0; i < 7; i++) await sendFrom(app.url, { method: 'GET', path: '/v1/conversations', from, token: spent });
      return { other: await w.employee('saver') };
    },
    request: { method: 'GET', path: '/v1/conversations', who: 'other' },
    expect: { status: 200 },
  },
  {
    name: "a guest's messages are limited more strictly than the guest's other requests",
    on: 'limited',
    setup: async (_w, from, app) => {
      const g = await start(app, from);
      for (let i = 1; i <= 2; i++) {
        const r = await sendFrom(app.url, { method: 'POST', path: `/v1/guest/conversations/${g.conversationId}/messages`, from, token: g.guestToken, body: { text: `hi ${i}` } });
        if (r.status !== 201) throw new Error(`message ${i}: ${r.status}`);
      }
      return g;
    },
    request: { method: 'POST', path: (v) => `/v1/guest/conversations/${v.conversationId}/messages`, who: 'guestToken', body: { text: 'hi 3' } },
    expect: {
      status: 429,
      code: 'rate_limited',
      retryAfter: true,
      check: async (res, v, w) => {
        expect(res.body.details.limit).toBe('guestMessages');
        const read = await sendFrom(w.apps.limited.url, { method: 'GET', path: `/v1/guest/conversations/${v.conversationId}`, token: v.guestToken, from: freshAddress() });
        expect(read.status).toBe(200);
      },
    },
  },
  {
    name: 'random tokens on authenticated routes: after RATE_LIMIT_AUTH_FAILURES_PER_MINUTE 401s the address gets 429',
    on: 'limited',
    request: { method: 'GET', path: '/v1/conversations', who: 'random', times: 4 },
    before: { status: 401 },
    expect: { status: 429, code: 'rate_limited', retryAfter: true, check: (res) => expect(res.body.details.limit).toBe('authFailures') },
  },
  {
    name: '/health is never limited',
    on: 'limited',
    request: { method: 'GET', path: '/health', who: 'anonymous', times: 20 },
    before: { status: 200 },
    expect: { status: 200 },
  },
  {
    name: '/health/live and /metrics are never limited',
    on: 'limited',
    setup: async (_w, from, app) => {
      for (let i = 0; i < 10; i++) {
        const r = await sendFrom(app.url, { method: 'GET', path: '/health/live', from });
        if (r.status !== 200) throw new Error(`/health/live: ${r.status}`);
      }
      return {};
    },
    request: { method: 'GET', path: '/metrics', who: 'anonymous', times: 10 },
    before: { status: 200 },
    expect: { status: 200 },
  },
  {
    name: 'a limit holds across instances (counted in Redis)',
    on: 'twin',
    setup: async (w, from) => {
      // Spent on the first instance…
      for (let i = 0; i < 5; i++) await sendFrom(w.apps.limited.url, { method: 'GET', path: '/no-such-route', from });
      return {};
    },
    // …refused by the second.
    request: { method: 'GET', path: '/no-such-route', who: 'anonymous' },
    expect: { status: 429, code: 'rate_limited', retryAfter: true },
  },
  {
    name: "behind a trusted proxy (TRUST_PROXY), the forwarded address is the client's",
    on: 'twin',
    setup: async (_w, from, app) => {
      // The proxy (this case's address) forwards for a client that spends its budget.
      const client = freshAddress();
      for (let i = 0; i < 5; i++) await sendFrom(app.url, { method: 'GET', path: '/no-such-route', from, headers: { 'x-forwarded-for': client } });
      return { client, from };
    },
    request: { method: 'GET', path: '/no-such-route', who: 'anonymous', from: (v) => v.from, headers: () => ({ 'x-forwarded-for': freshAddress() }) },
    expect: {
      status: 404,
      check: async (_res, v, w) => {
        const again = await sendFrom(w.apps.twin.url, { method: 'GET', path: '/no-such-route', from: v.from, headers: { 'x-forwarded-for': v.client } });
        expect(again.status).toBe(429);
      },
    },
  },
];

// ---------------------------------------------------------------- the runner

describe('authorization and abuse (one table, through HTTP on real apps)', () => {
  const world = {} as World;
  const opened: TestApp[] = [];
  let minted = 0;

  beforeAll(async () => {
    const redisUrl = process.env.REDIS_URL;
    if (!redisUrl) throw new Error('REDIS_URL is not set: this suite needs a Redis (Jest globalSetup starts one). It is never skipped.');
    const main = await startTestApp(MAIN_ENV);
    opened.push(main);
    const limited = await startTestApp({ ...LIMITED_ENV, REDIS_URL: redisUrl });
    opened.push(limited);
    const twin = await startTestApp({ ...LIMITED_ENV, REDIS_URL: redisUrl, TRUST_PROXY: 'loopback' }, limited.dataDir);
    opened.push(twin);
    world.apps = { main, limited, twin };
    world.employee = (id, role = 'agent', propertyId = PROPERTY, options = {}) =>
      main.tokens.employeeToken({ id: `${id}-${++minted}-${randomUUID().slice(0, 8)}`, propertyId, role, name: `Employee ${id}`, ops: options.ops === true });
    // Tickets open on request in the property the cases use.
    for (const app of [main, limited]) {
      const admin = await world.employee('setup-admin', 'admin');
      const res = await sendFrom(app.url, { method: 'PUT', path: '/v1/settings/live-chat', token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' }, from: freshAddress() });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    for (const app of opened.reverse()) await app.stop();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const from = freshAddress();
    const onApp = world.apps[c.on ?? 'main'];
    const vars: Vars = c.setup ? await c.setup(world, from, onApp) : {};
    const app: TestApp = vars.app ?? onApp;
    try {
      const r = c.request;
      const sender = r.from === 'fresh' ? freshAddress() : typeof r.from === 'function' ? r.from(vars) : from;
      const times = r.times ?? 1;
      let res: Res | undefined;
      for (let i = 1; i <= times; i++) {
        const token = r.who === 'anonymous' ? undefined : r.who === 'random' ? `random.${randomUUID()}.token` : vars[r.who];
        if (r.who !== 'anonymous' && r.who !== 'random' && typeof token !== 'string') throw new Error(`case "${c.name}": no token "${r.who}" from setup`);
        res = await sendFrom(app.url, {
          method: r.method,
          path: typeof r.path === 'function' ? r.path(vars) : r.path,
          from: sender,
          token,
          body: typeof r.body === 'function' ? (r.body as (v: Vars) => unknown)(vars) : r.body,
          headers: typeof r.headers === 'function' ? r.headers(vars) : r.headers,
        });
        if (i < times) expect({ attempt: i, status: res.status }).toEqual({ attempt: i, status: c.before?.status ?? res.status });
      }
      const last = res!;
      expect({ status: last.status, code: last.body?.code }).toEqual({ status: c.expect.status, code: c.expect.code ?? last.body?.code });
      if (last.status >= 400) expect(last.body).toMatchObject({ statusCode: last.status, error: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
      if (c.expect.retryAfter) {
        const retryAfter = Number(last.headers.get('retry-after'));
        expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600).toBe(true);
        expect(last.body.details.retryAfterSeconds).toBe(retryAfter);
      }
      await c.expect.check?.(last, vars, world);
    } finally {
      await vars.cleanup?.();
    }
  });

  it('openapi.yaml documents the 429 on every limited route', () => {
    const spec = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(spec.paths)) {
      if (['/health', '/health/live', '/health/ready', '/metrics'].includes(path)) continue;
      for (const [method, operation] of Object.entries(operations)) {
        if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
        if (!operation.responses?.['429']) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
