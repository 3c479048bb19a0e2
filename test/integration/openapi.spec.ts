/**
 * openapi.yaml is the contract: it documents exactly the routes the app registers, it is a
 * well-formed OpenAPI 3.0 document, its request schemas carry the DTOs' limits, the answers
 * of the running app conform to it, and /docs serves it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getMetadataStorage } from 'class-validator';
import type { FastifyInstance } from 'fastify';
import { createECDH, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import {
  ClosureMessageBody,
  EscalationSettingsBody,
  LiveChatSettingsBody,
  MessageBody,
  ReassignBody,
  PersonalSettingsBody,
  PushNotificationsBody,
  StartConversationBody,
} from '../../src/adapters/http/dto/bodies.js';
import {
  AlertDecisionsQuery,
  DiagnosticsQuery,
  HandoffMetricsQuery,
  HistoryQuery,
  ListAlertsQuery,
  ListConversationsQuery,
  MessagesQuery,
  ReadQuery,
  StreamQuery,
} from '../../src/adapters/http/dto/queries.js';
import { PushSubscriptionBody, PushSubscriptionKeysBody, UnsubscribePushQuery } from '../../src/adapters/http/dto/push-subscriptions.js';
import { type App, OPENAPI_FILE, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { PROJECTIONS } from '../../src/application/projections/projections.service.js';
import { eventually } from '../support/http.js';
import {
  HTTP_METHODS,
  type Json,
  type JsonObject,
  type OpenApiDoc,
  collectRefs,
  deref,
  loadSpec,
  parseRouteTree,
  resolvePointer,
  toFastifyPath,
  toOpenApiPath,
  validate,
} from '../support/openapi.js';
import { tempDir } from '../support/temp-dir.js';

const SECRET = 'x'.repeat(32);
const PROPERTY = 'hotel-openapi';

interface Operation {
  method: string;
  path: string;
  op: JsonObject;
}

function operations(spec: OpenApiDoc): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => m in item).map((method) => ({ method, path, op: item[method] as JsonObject })),
  );
}

const isDocsRoute = (path: string) => path === '/docs' || path.startsWith('/docs/');

/** Every object in the document outside examples, with its JSON pointer. */
function objectsIn(node: Json, where: string, out: Array<{ node: JsonObject; where: string }> = []) {
  if (node === null || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    node.forEach((n, i) => objectsIn(n, `${where}/${i}`, out));
    return out;
  }
  out.push({ node, where });
  for (const [k, v] of Object.entries(node)) if (k !== 'example' && k !== 'examples') objectsIn(v, `${where}/${k}`, out);
  return out;
}

describe('openapi.yaml', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: App;
  let fastify: FastifyInstance;
  let spec: OpenApiDoc;
  let base: string;

  /** A real HTTP request (light-my-request's inject does not load under Jest's native ESM). */
  async function send(method: string, url: string, headers: Record<string, string> = {}, body?: string) {
    const res = await fetch(base + url, { method, headers, body, redirect: 'manual' });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  beforeAll(async () => {
    tmp = tempDir('lct-openapi-');
    app = await createApp(loadConfig({ DATA_DIR: tmp.dir, AUTH_JWT_SECRET: SECRET } as NodeJS.ProcessEnv), { logger: false });
    fastify = app.app.getHttpAdapter().getInstance() as FastifyInstance;
    await app.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.app.getHttpServer().address() as AddressInfo).port}`;
    spec = loadSpec(OPENAPI_FILE);
  });
  afterAll(async () => {
    await app?.close();
    tmp?.cleanup();
  });

  describe('routes', () => {
    /** `METHOD /path/{param}` of every route the app registered, without /docs* and automatic HEAD routes. */
    function appRoutes(): Set<string> {
      const parsed = parseRouteTree(fastify.printRoutes({ commonPrefix: false }));
      // The parser reads a human-oriented format: make sure it read real, registered routes.
      expect(parsed.length).toBeGreaterThan(10);
      for (const r of parsed.filter((r) => !isDocsRoute(r.path))) {
        expect({ route: `${r.method} ${r.path}`, registered: fastify.hasRoute({ method: r.method as 'GET', url: r.path }) }).toEqual({
          route: `${r.method} ${r.path}`,
          registered: true,
        });
      }
      const hasGet = new Set(parsed.filter((r) => r.method === 'GET').map((r) => r.path));
      return new Set(
        parsed
          .filter((r) => !isDocsRoute(r.path))
          .filter((r) => !(r.method === 'HEAD' && hasGet.has(r.path))) // Fastify's automatic HEAD routes
          .map((r) => `${r.method} ${toOpenApiPath(r.path)}`),
      );
    }

    function routeDiff(registered: Set<string>, doc: OpenApiDoc) {
      const documented = new Set(operations(doc).map((o) => `${o.method.toUpperCase()} ${o.path}`));
      return {
        registeredButUndocumented: [...registered].filter((r) => !documented.has(r)).sort(),
        documentedButNotRegistered: [...documented].filter((r) => !registered.has(r)).sort(),
      };
    }

    it('documents exactly the routes the app registers (both directions)', () => {
      expect(routeDiff(appRoutes(), spec)).toEqual({ registeredButUndocumented: [], documentedButNotRegistered: [] });
    });

    it('would notice a route missing from the spec, an extra one, and a wrong method', () => {
      const doctored = structuredClone(spec);
      delete doctored.paths['/v1/me/alerts/decisions'];
      doctored.paths['/v1/not-a-route'] = { get: { responses: {} } };
      (doctored.paths['/health'] as JsonObject).post = (doctored.paths['/health'] as JsonObject).get!;
      expect(routeDiff(appRoutes(), doctored)).toEqual({
        registeredButUndocumented: ['GET /v1/me/alerts/decisions'],
        documentedButNotRegistered: ['GET /v1/not-a-route', 'POST /health'],
      });
    });

    it('every documented operation is found by the router itself (independent of the route-tree parser)', () => {
      const missing = operations(spec).filter((o) => !fastify.hasRoute({ method: o.method.toUpperCase() as 'GET', url: toFastifyPath(o.path) }));
      expect(missing.map((o) => `${o.method.toUpperCase()} ${o.path}`)).toEqual([]);
    });
  });

  describe('document', () => {
    it('is OpenAPI 3.0.x with info and a top-level description of auth, tenancy, read-your-writes and idempotency', () => {
      expect(spec.openapi).toMatch(/^3\.0\.\d+$/);
      expect(typeof spec.info.title).toBe('string');
      expect(typeof spec.info.version).toBe('string');
      const description = String(spec.info.description ?? '');
      for (const word of ['sub', 'propertyId', 'role', 'agent', 'admin', 'name', '404', 'minPosition', 'position', 'Idempotency-Key']) {
        expect(description).toContain(word);
      }
      expect(Object.keys(spec.paths).length).toBeGreaterThan(0);
    });

    it('resolves every $ref', () => {
      const refs = collectRefs(spec);
      expect(refs.length).toBeGreaterThan(0);
      const broken = refs.filter((r) => resolvePointer(spec, r.ref) === undefined).map((r) => `${r.where}: ${r.ref}`);
      expect(broken).toEqual([]);
    });

    it('uses `nullable` only next to `type` (OpenAPI 3.0.3) and `additionalProperties: false` on every request body object', () => {
      const problems: string[] = [];
      for (const { node: schema, where } of objectsIn(spec, '#')) {
        if (schema.nullable === true && schema.type === undefined) problems.push(`${where}: nullable without type`);
        if (Array.isArray(schema.enum) && schema.enum.includes(null) && schema.nullable !== true) problems.push(`${where}: null in enum but not nullable`);
      }
      const closedEverywhere = (schema: Json, where: string) => {
        const s = deref(spec, schema) as JsonObject;
        if (s.type === 'object' || s.properties) {
          if (s.additionalProperties !== false) problems.push(`${where}: request object without additionalProperties: false`);
          for (const [name, prop] of Object.entries((s.properties as JsonObject) ?? {})) closedEverywhere(prop, `${where}.${name}`);
        }
      };
      for (const { method, path, op } of operations(spec)) {
        const body = op.requestBody ? (deref(spec, op.requestBody) as JsonObject) : null;
        if (!body) continue;
        const content = body.content as JsonObject;
        expect({ op: `${method} ${path}`, types: Object.keys(content) }).toEqual({ op: `${method} ${path}`, types: ['application/json'] });
        closedEverywhere((content['application/json'] as JsonObject).schema!, `${method} ${path} body`);
      }
      expect(problems).toEqual([]);
    });

    it('gives every operation an id, parameters with schemas, declared path parameters and security it defines', () => {
      const ids = new Set<string>();
      const schemes = Object.keys((spec.components.securitySchemes as JsonObject) ?? {});
      expect([...schemes].sort()).toEqual(['bearerAuth', 'guestToken', 'streamToken']);
      const bearer = spec.components.securitySchemes as Record<string, JsonObject>;
      expect(bearer.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
      expect(bearer.streamToken).toMatchObject({ type: 'apiKey', in: 'query', name: 'access_token' });

      for (const { method, path, op } of operations(spec)) {
        const label = `${method.toUpperCase()} ${path}`;
        expect({ label, operationId: typeof op.operationId }).toEqual({ label, operationId: 'string' });
        expect({ label, duplicateId: ids.has(op.operationId as string) }).toEqual({ label, duplicateId: false });
        ids.add(op.operationId as string);

        const params = ((op.parameters as Json[]) ?? []).map((p) => deref(spec, p as JsonObject));
        for (const p of params) {
          expect({ label, name: p.name, hasSchema: !!p.schema, in: ['query', 'header', 'path', 'cookie'].includes(p.in as string) }).toEqual({
            label,
            name: p.name,
            hasSchema: true,
            in: true,
          });
        }
        const keys = params.map((p) => `${p.in}:${p.name}`);
        expect({ label, duplicates: keys.filter((k, i) => keys.indexOf(k) !== i) }).toEqual({ label, duplicates: [] });
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        const declared = params.filter((p) => p.in === 'path').map((p) => p.name as string).sort();
        expect({ label, pathParams: declared }).toEqual({ label, pathParams: templated });
        for (const p of params.filter((p) => p.in === 'path')) {
          // Ids are UUIDs; a name (a projection's) is one of a documented list.
          if (p.name === 'id') {
            expect({ label, required: p.required, format: (p.schema as JsonObject).format }).toEqual({ label, required: true, format: 'uuid' });
          } else {
            expect({ label, required: p.required, enum: Array.isArray((p.schema as JsonObject).enum) }).toEqual({ label, required: true, enum: true });
          }
        }

        expect({ label, hasSecurity: Array.isArray(op.security) }).toEqual({ label, hasSecurity: true });
        for (const requirement of op.security as JsonObject[]) {
          for (const name of Object.keys(requirement)) expect(schemes).toContain(name);
        }
      }
    });

    it('documents for every operation a success, 500, and the 400/401/403/404/409/413/415 its route can answer, all with the Error schema', () => {
      const problems: string[] = [];
      const errorRef = '#/components/schemas/Error';
      for (const { method, path, op } of operations(spec)) {
        const label = `${method.toUpperCase()} ${path}`;
        const responses = op.responses as JsonObject;
        const codes = Object.keys(responses ?? {});
        const need = (code: string, why: string) => {
          if (!codes.includes(code)) problems.push(`${label}: no ${code} (${why})`);
        };
        if (!codes.some((c) => /^2\d\d$/.test(c))) problems.push(`${label}: no 2xx response`);
        need('500', 'every route');
        const secured = (op.security as JsonObject[]).length > 0;
        const params = ((op.parameters as Json[]) ?? []).map((p) => deref(spec, p as JsonObject));
        if (secured) need('401', 'needs a token');
        if (params.length > 0 || op.requestBody || method === 'post' || method === 'put') need('400', 'validated input');
        if (method === 'post' || method === 'put') {
          need('413', 'Fastify body limit');
          need('415', 'Fastify content-type parsing');
        }
        if (path.includes('{id}') && !path.endsWith('/stream')) need('404', 'unknown or foreign id');
        if (path.startsWith('/v1/ops/') || (method === 'put' && path.startsWith('/v1/settings/'))) need('403', 'admin only');
        if (path.startsWith('/v1/conversations/{id}/') && method === 'post') need('409', 'ticket state conflicts');
        if (['post', 'put', 'delete'].includes(method) && path !== '/v1/stream-tokens') need('503', 'a store that cannot write: storage_unavailable');
        if ((method === 'post' || method === 'put') && path !== '/v1/stream-tokens') {
          if (!params.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')) problems.push(`${label}: no Idempotency-Key header`);
        }
        for (const [code, raw] of Object.entries(responses ?? {})) {
          const response = deref(spec, raw as JsonObject);
          if (typeof response.description !== 'string') problems.push(`${label} ${code}: no description`);
          for (const [type, media] of Object.entries((response.content as JsonObject) ?? {})) {
            if (!(media as JsonObject).schema) problems.push(`${label} ${code} ${type}: no schema`);
          }
          if (/^[45]\d\d$/.test(code)) {
            const schema = ((response.content as JsonObject)?.['application/json'] as JsonObject | undefined)?.schema as JsonObject | undefined;
            if (schema?.$ref !== errorRef) problems.push(`${label} ${code}: not the Error schema`);
          }
        }
      }
      expect(problems).toEqual([]);

      const error = deref(spec, { $ref: errorRef }) as JsonObject;
      expect(Object.keys(error.properties as JsonObject).sort()).toEqual(['code', 'details', 'error', 'message', 'requestId', 'statusCode']);
      expect([...(error.required as string[])].sort()).toEqual(['error', 'message', 'requestId', 'statusCode']);
    });

    it('documents the SSE routes as text/event-stream with stream-token auth, and history as JSON and NDJSON', () => {
      for (const path of ['/v1/stream', '/v1/guest/conversations/{id}/stream']) {
        const op = spec.paths[path]!.get as JsonObject;
        const ok = deref(spec, (op.responses as JsonObject)['200']!) as JsonObject;
        expect(Object.keys(ok.content as JsonObject)).toEqual(['text/event-stream']);
        for (const event of ['ready', 'reset', 'conversation.updated', 'message.created', 'Last-Event-ID', 'heartbeat']) {
          expect(ok.description).toContain(event);
        }
        expect(op.security).toContainEqual({ streamToken: [] });
        const params = (op.parameters as JsonObject[]).map((p) => deref(spec, p));
        expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(['Last-Event-ID', 'lastEventId', 'access_token']));
      }
      expect(String((deref(spec, { $ref: '#/components/responses/EventStream' }) as JsonObject).description)).toContain('alert.created');
      const history = spec.paths['/v1/ops/conversations/{id}/history']!.get as JsonObject;
      const ok = deref(spec, (history.responses as JsonObject)['200']!) as JsonObject;
      expect(Object.keys(ok.content as JsonObject).sort()).toEqual(['application/json', 'application/x-ndjson']);
    });
  });

  describe('request schemas match the DTOs', () => {
    type Meta = { type: string; name: string; propertyName: string; constraints?: unknown[] };
    const metadata = (target: Function) => getMetadataStorage().getTargetValidationMetadatas(target, '', true, false) as unknown as Meta[];
    const byProperty = (target: Function) => {
      const map = new Map<string, Meta[]>();
      for (const m of metadata(target)) map.set(m.propertyName, [...(map.get(m.propertyName) ?? []), m]);
      return map;
    };
    const constraint = (metas: Meta[], name: string) => metas.find((m) => m.name === name)?.constraints;

    /** The keywords a property schema must carry for the class-validator decorators on it. */
    function expectedKeywords(metas: Meta[]): JsonObject {
      const out: JsonObject = {};
      if (constraint(metas, 'isBoolean')) out.type = 'boolean';
      if (constraint(metas, 'isString')) out.type = 'string';
      if (constraint(metas, 'isInt')) out.type = 'integer';
      const maxLength = constraint(metas, 'maxLength');
      if (maxLength) out.maxLength = maxLength[0] as number;
      if (metas.some((m) => m.name === 'isNotEmpty')) out.minLength = 1;
      const isIn = constraint(metas, 'isIn');
      if (isIn) out.enum = [...(isIn[0] as string[])];
      const min = constraint(metas, 'min');
      if (min) out.minimum = min[0] as number;
      const max = constraint(metas, 'max');
      if (max) out.maximum = max[0] as number;
      const matches = constraint(metas, 'matches');
      if (matches) out.pattern = (matches[0] as RegExp).source;
      return out;
    }

    function actualKeywords(schema: Json, wanted: JsonObject): JsonObject {
      const s = deref(spec, schema) as JsonObject;
      return Object.fromEntries(Object.keys(wanted).map((k) => [k, s[k] ?? null]));
    }

    const bodies: Array<[Function, string]> = [
      [StartConversationBody, 'StartConversationBody'],
      [MessageBody, 'MessageBody'],
      [LiveChatSettingsBody, 'LiveChatSettingsBody'],
      [PushNotificationsBody, 'PushNotificationsBody'],
      [EscalationSettingsBody, 'EscalationSettingsBody'],
      [PersonalSettingsBody, 'PersonalSettingsBody'],
      [ClosureMessageBody, 'ClosureMessageBody'],
      [PushSubscriptionBody, 'PushSubscriptionBody'],
      [PushSubscriptionKeysBody, 'PushSubscriptionKeysBody'],
      [ReassignBody, 'ReassignBody'],
    ];

    it.each(bodies)('%p has the properties, required fields and limits of its schema', (dto, schemaName) => {
      const schema = deref(spec, { $ref: `#/components/schemas/${schemaName}` }) as JsonObject;
      const props = byProperty(dto);
      expect(Object.keys(schema.properties as JsonObject).sort()).toEqual([...props.keys()].sort());
      const required = [...props].filter(([, metas]) => !metas.some((m) => m.name === 'isOptional')).map(([name]) => name);
      expect([...((schema.required as string[]) ?? [])].sort()).toEqual(required.sort());
      for (const [name, metas] of props) {
        const wanted = expectedKeywords(metas);
        expect({ property: name, ...actualKeywords((schema.properties as JsonObject)[name]!, wanted) }).toEqual({ property: name, ...wanted });
      }
    });

    const queries: Array<[string, string, Function]> = [
      ['get', '/v1/conversations', ListConversationsQuery],
      ['get', '/v1/conversations/{id}', ReadQuery],
      ['get', '/v1/guest/conversations/{id}', ReadQuery],
      ['get', '/v1/conversations/{id}/messages', MessagesQuery],
      ['get', '/v1/guest/conversations/{id}/messages', MessagesQuery],
      ['get', '/v1/settings/live-chat', ReadQuery],
      ['get', '/v1/settings/push-notifications', ReadQuery],
      ['get', '/v1/settings/escalation', ReadQuery],
      ['get', '/v1/me/settings', ReadQuery],
      ['get', '/v1/me/alerts', ListAlertsQuery],
      ['get', '/v1/me/alerts/decisions', AlertDecisionsQuery],
      ['get', '/v1/ops/conversations/{id}/history', HistoryQuery],
      ['get', '/v1/ops/conversations/{id}/support-bundle', ReadQuery],
      ['get', '/v1/diagnostics', DiagnosticsQuery],
      ['get', '/v1/ops/settings/history', HistoryQuery],
      ['get', '/v1/ops/handoff-metrics', HandoffMetricsQuery],
      ['get', '/v1/stream', StreamQuery],
      ['get', '/v1/guest/conversations/{id}/stream', StreamQuery],
      ['get', '/v1/me/push-subscriptions', ReadQuery],
      ['delete', '/v1/me/push-subscriptions', UnsubscribePushQuery],
    ];

    it.each(queries)('%s %s documents the query parameters of %p', (method, path, dto) => {
      const op = spec.paths[path]![method] as JsonObject;
      const params = ((op.parameters as Json[]) ?? []).map((p) => deref(spec, p as JsonObject)).filter((p) => p.in === 'query');
      const props = byProperty(dto);
      expect(params.map((p) => p.name).sort()).toEqual([...props.keys()].sort());
      for (const p of params) {
        const metas = props.get(p.name as string)!;
        const wanted = expectedKeywords(metas);
        delete wanted.type; // query values arrive as strings; `limit` is documented as integer
        const required = !metas.some((m) => m.name === 'isOptional');
        expect({ param: p.name, required: p.required ?? false, ...actualKeywords(p.schema!, wanted) }).toEqual({ param: p.name, required, ...wanted });
      }
    });
  });

  describe('the running app answers as documented', () => {
    let tokens: TokenService;
    let admin: string, agent: string, otherAgent: string, foreignAdmin: string, operator: string;
    const observed: string[] = [];

    async function call(method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let payload: string | undefined;
      if (options.raw !== undefined) payload = options.raw;
      else if (options.body !== undefined) {
        payload = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await send(method, url, headers, payload);
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: res.text, json: () => JSON.parse(res.text) as Json };
    }

    /** Finds the documented operation for a concrete URL and checks status, media type and body. */
    function conforms(method: string, url: string, res: Awaited<ReturnType<typeof call>>) {
      const pathname = url.split('?')[0]!;
      const match = operations(spec).find(
        (o) => o.method === method.toLowerCase() && new RegExp(`^${o.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname),
      );
      expect({ url, documented: !!match }).toEqual({ url, documented: true });
      const label = `${method} ${url} → ${res.status}`;
      const responses = match!.op.responses as JsonObject;
      expect({ label, statusDocumented: String(res.status) in responses }).toEqual({ label, statusDocumented: true });
      const response = deref(spec, responses[String(res.status)] as JsonObject);
      const content = response.content as JsonObject | undefined;
      const mediaType = res.contentType.split(';')[0]!.trim();
      if (content === undefined) {
        // A documented answer without content (204): the app must send no body either.
        expect({ label, body: res.text }).toEqual({ label, body: '' });
        observed.push(`${match!.method.toUpperCase()} ${match!.path} ${res.status}`);
        return;
      }
      expect({ label, mediaType, documented: mediaType in content }).toEqual({ label, mediaType, documented: true });
      if (mediaType === 'application/json') {
        const problems = validate(spec, (content[mediaType] as JsonObject).schema!, res.json(), '$', { closed: true });
        expect({ label, problems }).toEqual({ label, problems: [] });
      }
      observed.push(`${match!.method.toUpperCase()} ${match!.path} ${res.status}`);
    }

    async function check(method: string, url: string, options: Parameters<typeof call>[2] = {}, expectedStatus?: number) {
      const res = await call(method, url, options);
      if (expectedStatus !== undefined) expect({ method, url, status: res.status, body: res.text }).toMatchObject({ status: expectedStatus });
      conforms(method, url, res);
      return res;
    }

    beforeAll(async () => {
      tokens = app.app.get(TokenService);
      admin = await tokens.employeeToken({ id: 'openapi-admin', propertyId: PROPERTY, role: 'admin', name: 'Ada Admin' });
      agent = await tokens.employeeToken({ id: 'openapi-agent', propertyId: PROPERTY, role: 'agent', name: 'Alan Agent' });
      otherAgent = await tokens.employeeToken({ id: 'openapi-other', propertyId: PROPERTY, role: 'agent', name: 'Olga Other' });
      foreignAdmin = await tokens.employeeToken({ id: 'foreign-admin', propertyId: 'another-hotel', role: 'admin', name: 'Fay' });
      operator = await tokens.employeeToken({ id: 'openapi-operator', propertyId: PROPERTY, role: 'agent', name: 'Otto Operator', ops: true });
    });

    it('walks a ticket through its life with answers that match the schemas', async () => {
      await check('GET', '/health/live', {}, 200);
      await check('GET', '/health/ready', {}, 200);
      const metrics = await check('GET', '/metrics', {}, 200);
      expect(metrics.text).toContain('# TYPE lct_commands_total counter');
      await check('GET', '/health', {}, 200);
      await check('PUT', '/v1/me/settings', { token: agent, body: { incomingSupportRequests: true, assignedChatActivity: true } }, 200);
      await check('PUT', '/v1/me/settings', { token: agent, body: { closureMessage: { enabled: true, text: 'Bye!' } } }, 200);
      await check('GET', '/v1/me/settings', { token: agent }, 200);
      await check('GET', '/v1/settings/live-chat', { token: agent }, 200);
      const settings = await check('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' } }, 200);
      await check('GET', `/v1/settings/live-chat?minPosition=${(settings.json() as JsonObject).position}`, { token: agent }, 200);
      await check('PUT', '/v1/settings/push-notifications', { token: admin, body: { pushNotificationsEnabled: true } }, 200);
      await check('GET', '/v1/settings/push-notifications', { token: agent }, 200);
      await check('GET', '/v1/settings/escalation', { token: agent }, 200);
      const escalation = await check('PUT', '/v1/settings/escalation', { token: admin, body: { escalateAfterMinutes: 30 } }, 200);
      await check('GET', `/v1/settings/escalation?minPosition=${(escalation.json() as JsonObject).position}`, { token: agent }, 200);
      await check('PUT', '/v1/settings/escalation', { token: admin, body: { escalateAfterMinutes: null } }, 200);

      const started = (await check('POST', '/v1/guest/conversations', { body: { propertyId: PROPERTY, guestName: 'Gus' } }, 201)).json() as JsonObject;
      const id = started.conversationId as string;
      const guest = started.guestToken as string;
      await check('POST', `/v1/guest/conversations/${id}/messages`, { token: guest, body: { text: 'Hello' } }, 201);
      const support = (await check('POST', `/v1/guest/conversations/${id}/support-requests`, { token: guest }, 201)).json() as JsonObject;
      await check('GET', `/v1/guest/conversations/${id}?minPosition=${support.position}`, { token: guest }, 200);
      await check('GET', `/v1/conversations?status=open&limit=5&minPosition=${support.position}`, { token: agent }, 200);
      await check('GET', `/v1/conversations/${id}`, { token: agent }, 200);
      const page = (await check('GET', `/v1/conversations/${id}/messages?limit=2&minPosition=${support.position}`, { token: agent }, 200)).json() as JsonObject;
      await check('GET', `/v1/conversations/${id}/messages?before=${page.nextBefore}`, { token: agent }, 200);
      await check('GET', `/v1/guest/conversations/${id}/messages?limit=2`, { token: guest }, 200);

      // A reply to the open ticket takes it over; released, it is open again.
      await check('POST', `/v1/conversations/${id}/messages`, { token: otherAgent, body: { text: 'early' } }, 201);
      await check('POST', `/v1/conversations/${id}/release`, { token: agent }, 403);
      await check('POST', `/v1/conversations/${id}/release`, { token: otherAgent, headers: { 'idempotency-key': 'release-1' } }, 200);
      await check('POST', `/v1/conversations/${id}/release`, { token: otherAgent }, 409);
      await check('POST', `/v1/conversations/${id}/take-over`, { token: agent, headers: { 'idempotency-key': 'take-1' } }, 200);
      await check('POST', `/v1/conversations/${id}/take-over`, { token: agent, headers: { 'idempotency-key': 'take-1' } }, 200);
      const conflict = await check('POST', `/v1/conversations/${id}/take-over`, { token: otherAgent }, 409);
      expect(conflict.json()).toMatchObject({ code: 'already_assigned', details: { owner: { id: 'openapi-agent' } } });
      await check('POST', `/v1/conversations/${id}/messages`, { token: otherAgent, body: { text: 'mine?' } }, 409);
      const reply = (await check('POST', `/v1/conversations/${id}/messages`, { token: agent, body: { text: 'Hi Gus' } }, 201)).json() as JsonObject;
      await check('POST', `/v1/guest/conversations/${id}/messages`, { token: guest, body: { text: 'Thanks' } }, 201);
      const alerts = (await check('GET', `/v1/me/alerts?unread=true&limit=10&minPosition=${reply.position}`, { token: agent }, 200)).json() as JsonObject;
      await check('GET', '/v1/me/alerts/decisions?limit=10', { token: otherAgent }, 200);
      expect((alerts.items as JsonObject[]).length).toBeGreaterThan(0);
      const alertId = (alerts.items as JsonObject[])[0]!.id as string;
      await check('POST', `/v1/me/alerts/${alertId}/read`, { token: agent }, 200);
      await check('POST', `/v1/me/alerts/${alertId}/read`, { token: otherAgent }, 404);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: agent, body: { employeeId: 'openapi-other' } }, 403);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: admin, body: { employeeId: 'openapi-other', employeeName: 'Olga' } }, 200);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: admin, body: { employeeId: 'openapi-other' } }, 409);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: admin, body: { employeeId: 'openapi-agent' }, headers: { 'idempotency-key': 'reassign-1' } }, 200);
      const closed = (await check('POST', `/v1/conversations/${id}/close`, { token: agent }, 200)).json() as JsonObject;
      await check('POST', `/v1/conversations/${id}/close`, { token: agent }, 409);
      await check('POST', `/v1/conversations/${id}/release`, { token: admin }, 409);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: admin, body: { employeeId: 'openapi-other' } }, 409);
      const guestView = (await check('GET', `/v1/guest/conversations/${id}?minPosition=${closed.position}`, { token: guest }, 200)).json() as JsonObject;
      expect((guestView.messages as JsonObject[]).filter((m) => m.author === 'system').map((m) => m.notice)).toEqual([
        'ticket_opened',
        'employee_joined',
        'ticket_released',
        'employee_joined',
        'employee_joined',
        'employee_joined',
        'ticket_closed',
      ]);

      await check('GET', `/v1/ops/conversations/${id}/history`, { token: admin }, 200);
      await check('GET', `/v1/ops/conversations/${id}/history?at=${encodeURIComponent(new Date().toISOString())}`, { token: admin }, 200);
      await check('GET', `/v1/ops/conversations/${id}/history?at=2000-01-01T00:00:00Z`, { token: admin }, 200);
      const ndjson = await check('GET', `/v1/ops/conversations/${id}/history`, { token: admin, headers: { accept: 'application/x-ndjson' } }, 200);
      expect(ndjson.contentType).toContain('application/x-ndjson');
      const historyEvent = deref(spec, { $ref: '#/components/schemas/HistoryEvent' });
      for (const line of ndjson.text.trim().split('\n')) expect(validate(spec, historyEvent, JSON.parse(line) as Json, '$', { closed: true })).toEqual([]);

      await check('POST', '/v1/stream-tokens', { token: agent }, 201);
      await check('POST', '/v1/stream-tokens', { token: guest }, 201);
    });

    it('answers errors in the documented statuses and Error shape', async () => {
      const started = (await call('POST', '/v1/guest/conversations', { body: { propertyId: PROPERTY, guestName: 'Eve' } })).json() as JsonObject;
      const id = started.conversationId as string;
      const guest = started.guestToken as string;
      const unknown = '00000000-0000-4000-8000-000000000000';

      // 400: validation (with details), unknown fields, bad ids, bad JSON, bad Idempotency-Key
      const invalid = await check('POST', '/v1/guest/conversations', { body: { propertyId: '', guestName: 'x'.repeat(101), extra: 1 } }, 400);
      expect((invalid.json() as JsonObject).details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'extra' })]));
      await check('GET', '/v1/conversations?status=bogus&limit=0&cursor=x', { token: agent }, 400);
      await check('GET', '/v1/conversations?unexpected=1', { token: agent }, 400);
      await check('GET', '/v1/conversations/not-a-uuid', { token: agent }, 400);
      await check('GET', `/v1/conversations/${id}?minPosition=-1`, { token: agent }, 400);
      await check('GET', `/v1/conversations/${id}/messages?before=x&limit=0`, { token: agent }, 400);
      await check('GET', `/v1/guest/conversations/${id}/messages?limit=201`, { token: guest }, 400);
      await check('GET', `/v1/conversations/${id}/messages`, {}, 401);
      await check('GET', `/v1/guest/conversations/${id}/messages`, {}, 401);
      await check('GET', `/v1/conversations/${id}/messages`, { token: guest }, 403);
      await check('GET', `/v1/guest/conversations/${unknown}/messages`, { token: guest }, 403);
      await check('GET', `/v1/conversations/${id}/messages`, { token: foreignAdmin }, 404);
      await check('PUT', '/v1/me/settings', { token: agent, raw: '[]', headers: { 'content-type': 'application/json' } }, 400);
      await check('POST', '/v1/guest/conversations', { raw: '{"a":'.repeat(40) + '1' + '}'.repeat(40), headers: { 'content-type': 'application/json' } }, 400);
      await check('PUT', '/v1/me/settings', { token: agent, raw: '{"incomingSupportRequests":', headers: { 'content-type': 'application/json' } }, 400);
      await check('PUT', '/v1/me/settings', { token: agent, body: { closureMessage: { text: '', bogus: true } } }, 400);
      await check('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: 'yes', chatMode: 'sometimes' } }, 400);
      await check('PUT', '/v1/settings/push-notifications', { token: admin, body: {} }, 400);
      await check('PUT', '/v1/settings/escalation', { token: admin, body: {} }, 400);
      await check('PUT', '/v1/settings/escalation', { token: admin, body: { escalateAfterMinutes: 0 } }, 400);
      await check('PUT', '/v1/settings/escalation', { token: admin, body: { escalateAfterMinutes: 1441 } }, 400);
      await check('PUT', '/v1/settings/escalation', { token: admin, body: { escalateAfterMinutes: 2.5 } }, 400);
      await check('PUT', '/v1/settings/escalation', { token: admin, body: { escalateAfterMinutes: '5' } }, 400);
      await check('GET', '/v1/settings/escalation?minPosition=x', { token: agent }, 400);
      await check('POST', `/v1/conversations/${id}/take-over`, { token: agent, headers: { 'idempotency-key': 'not allowed!' } }, 400);
      await check('GET', `/v1/ops/conversations/${id}/history?at=yesterday`, { token: admin }, 400);
      await check('GET', '/v1/me/alerts?limit=201', { token: agent }, 400);

      // 401
      await check('GET', '/v1/conversations', {}, 401);
      await check('GET', '/v1/conversations', { token: 'not-a-jwt' }, 401);
      await check('GET', '/v1/settings/escalation', {}, 401);
      await check('PUT', '/v1/settings/escalation', { body: { escalateAfterMinutes: 5 } }, 401);
      const streamToken = ((await call('POST', '/v1/stream-tokens', { token: agent })).json() as JsonObject).token as string;
      await check('GET', '/v1/me/settings', { token: streamToken }, 401);
      await check('POST', '/v1/stream-tokens', { token: streamToken }, 401);
      await check('GET', `/v1/guest/conversations/${id}`, {}, 401);

      // 403: wrong audience, not admin, another conversation's guest token
      await check('GET', '/v1/conversations', { token: guest }, 403);
      await check('GET', `/v1/guest/conversations/${id}`, { token: agent }, 403);
      await check('PUT', '/v1/settings/live-chat', { token: agent, body: { requestSupportChat: true, chatMode: 'hybrid' } }, 403);
      await check('PUT', '/v1/settings/escalation', { token: agent, body: { escalateAfterMinutes: 5 } }, 403);
      await check('GET', '/v1/settings/escalation', { token: guest }, 403);
      await check('GET', `/v1/ops/conversations/${id}/history`, { token: agent }, 403);
      await check('GET', `/v1/guest/conversations/${unknown}`, { token: guest }, 403);

      // 404: unknown ids and another property's ids alike
      await check('GET', `/v1/conversations/${unknown}`, { token: agent }, 404);
      await check('GET', `/v1/conversations/${id}`, { token: foreignAdmin }, 404);
      await check('POST', `/v1/conversations/${id}/take-over`, { token: foreignAdmin }, 404);
      await check('POST', `/v1/conversations/${id}/release`, { token: foreignAdmin }, 404);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: foreignAdmin, body: { employeeId: 'x' } }, 404);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: admin, body: { employeeId: '', bogus: 1 } }, 400);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: admin, body: { employeeId: 'x'.repeat(64 * 1024) } }, 413);
      await check('POST', `/v1/conversations/${id}/reassign`, { token: admin, raw: '<x/>', headers: { 'content-type': 'application/xml' } }, 415);
      await check('POST', `/v1/conversations/${id}/release`, {}, 401);
      await check('GET', `/v1/ops/conversations/${id}/history`, { token: foreignAdmin }, 404);
      await check('POST', `/v1/me/alerts/${unknown}/read`, { token: agent }, 404);

      // 409: no ticket yet
      const noTicket = await check('POST', `/v1/conversations/${id}/take-over`, { token: agent }, 409);
      expect(noTicket.json()).toMatchObject({ code: 'no_open_ticket', details: { ticketStatus: 'none' } });

      // 413 and 415
      await check('POST', `/v1/guest/conversations/${id}/messages`, { token: guest, body: { text: 'x'.repeat(64 * 1024) } }, 413);
      await check('POST', '/v1/guest/conversations', { raw: '<start/>', headers: { 'content-type': 'application/xml' } }, 415);
      await check('PUT', '/v1/me/settings', { token: agent, raw: '<x/>', headers: { 'content-type': 'application/xml' } }, 415);
      await check('PUT', '/v1/settings/escalation', { token: admin, raw: '<x/>', headers: { 'content-type': 'application/xml' } }, 415);
      await check('PUT', '/v1/settings/escalation', { token: admin, raw: `{"escalateAfterMinutes":5${' '.repeat(64 * 1024)}}`, headers: { 'content-type': 'application/json' } }, 413);
    });

    it('opens the SSE routes as text/event-stream starting with a `ready` event', async () => {
      const { port } = app.app.getHttpServer().address() as AddressInfo;
      const started = (await call('POST', '/v1/guest/conversations', { body: { propertyId: PROPERTY, guestName: 'Sam' } })).json() as JsonObject;
      const guestStreamToken = ((await call('POST', '/v1/stream-tokens', { token: started.guestToken as string })).json() as JsonObject).token as string;
      const open = (path: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; contentType: string; head: string }>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
            let head = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              head += chunk;
              if (head.includes('event: ready') && head.includes('\n\n', head.indexOf('event: ready'))) {
                resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), head });
                req.destroy();
              }
            });
          });
          req.on('error', reject);
          req.setTimeout(5000, () => reject(new Error(`no ready event from ${path}`)));
          req.end();
        });
      for (const [path, headers] of [
        ['/v1/stream', { authorization: `Bearer ${agent}` }],
        [`/v1/guest/conversations/${started.conversationId}/stream?access_token=${guestStreamToken}`, {}],
      ] as const) {
        const res = await open(path, headers);
        expect(res.status).toBe(200);
        expect(res.contentType).toMatch(/^text\/event-stream/);
        expect(res.head).toMatch(/^retry: \d+\n\nid: \d{1,19}-\d{1,9}\nevent: ready\ndata: \{\}\n\n/);
        observed.push(`GET ${toOpenApiPath(path.split('?')[0]!.replace(String(started.conversationId), ':id'))} 200`);
      }
    });

    it("manages the caller's push subscriptions as documented", async () => {
      const subscription = (n: number) => ({
        endpoint: `https://push.example.com/openapi/${n}`,
        expirationTime: null,
        keys: { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') },
      });
      const first = subscription(1);
      const guest = ((await call('POST', '/v1/guest/conversations', { body: { propertyId: PROPERTY, guestName: 'Pia' } })).json() as JsonObject).guestToken as string;
      const created = (await check('POST', '/v1/me/push-subscriptions', { token: agent, body: first }, 201)).json() as JsonObject;
      await check('POST', '/v1/me/push-subscriptions', { token: agent, body: first, headers: { 'idempotency-key': 'push-1' } }, 201);
      await check('GET', `/v1/me/push-subscriptions?minPosition=${created.position}`, { token: agent }, 200);
      await check('GET', '/v1/me/push-subscriptions', { token: foreignAdmin }, 200);
      await check('DELETE', `/v1/me/push-subscriptions?endpoint=${encodeURIComponent(first.endpoint)}`, { token: agent }, 204);

      await check('POST', '/v1/me/push-subscriptions', { token: agent, body: { ...first, endpoint: 'http://push.example.com/1' } }, 400);
      await check('POST', '/v1/me/push-subscriptions', { token: agent, body: { ...first, keys: { ...first.keys, bogus: 1 } } }, 400);
      await check('POST', '/v1/me/push-subscriptions', { token: agent, raw: '<x/>', headers: { 'content-type': 'application/xml' } }, 415);
      await check('POST', '/v1/me/push-subscriptions', { token: agent, body: { ...first, endpoint: `https://x/${'x'.repeat(64 * 1024)}` } }, 413);
      await check('POST', '/v1/me/push-subscriptions', { token: agent, body: subscription(2), headers: { 'idempotency-key': 'push-1' } }, 422);
      await check('GET', '/v1/me/push-subscriptions?minPosition=x', { token: agent }, 400);
      await check('GET', '/v1/me/push-subscriptions', {}, 401);
      await check('GET', '/v1/me/push-subscriptions', { token: guest }, 403);
      await check('DELETE', '/v1/me/push-subscriptions', { token: agent }, 400);
      await check('DELETE', `/v1/me/push-subscriptions?endpoint=${encodeURIComponent(first.endpoint)}`, { token: agent }, 404);
      await check('DELETE', `/v1/me/push-subscriptions?endpoint=${encodeURIComponent(first.endpoint)}`, {}, 401);
      await check('POST', '/v1/me/push-subscriptions', { token: guest, body: first }, 403);
    });

    it('answers the push routes as documented on a service without VAPID keys', async () => {
      const unavailable = await check('GET', '/v1/push/vapid-public-key', { token: agent }, 503);
      expect(unavailable.json()).toMatchObject({ code: 'push_unavailable' });
      await check('GET', '/v1/push/vapid-public-key', {}, 401);
      await check('POST', '/v1/me/push-subscriptions/test', { token: agent }, 503);
      await check('POST', '/v1/me/push-subscriptions/test', {}, 401);
      await check('GET', '/v1/me/alerts/decisions?employeeId=openapi-agent', { token: admin }, 200);
      await check('GET', '/v1/me/alerts/decisions?employeeId=openapi-admin', { token: agent }, 403);
      await check('GET', '/v1/me/alerts/decisions?conversationId=not-a-uuid', { token: agent }, 400);
    });

    it('answers the ops reports (hand-off metrics, settings history) as documented', async () => {
      const now = encodeURIComponent(new Date().toISOString());
      // After the walk above: the property has a closed ticket and changed settings.
      const metrics = (await check('GET', '/v1/ops/handoff-metrics', { token: admin }, 200)).json() as JsonObject;
      expect((metrics.property as JsonObject).counts).toMatchObject({ opened: 1, closed: 1 });
      await check('GET', '/v1/ops/handoff-metrics?from=2000-01-01T00:00:00Z&to=2000-02-01T00:00:00%2B02:00&employeeId=openapi-agent&minPosition=0', { token: admin }, 200);
      await check('GET', '/v1/ops/handoff-metrics?from=yesterday', { token: admin }, 400);
      await check('GET', `/v1/ops/handoff-metrics?from=${now}&to=2000-01-01T00:00:00Z`, { token: admin }, 400);
      await check('GET', '/v1/ops/handoff-metrics?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z', { token: admin }, 400);
      await check('GET', '/v1/ops/handoff-metrics', {}, 401);
      await check('GET', '/v1/ops/handoff-metrics', { token: agent }, 403);

      const history = (await check('GET', '/v1/ops/settings/history', { token: admin }, 200)).json() as JsonObject;
      expect((history.events as JsonObject[]).length).toBeGreaterThan(0);
      await check('GET', `/v1/ops/settings/history?at=${now}`, { token: admin }, 200);
      await check('GET', '/v1/ops/settings/history?at=2000-01-01T00:00:00Z', { token: admin }, 200);
      const ndjson = await check('GET', '/v1/ops/settings/history', { token: admin, headers: { accept: 'application/x-ndjson' } }, 200);
      expect(ndjson.contentType).toContain('application/x-ndjson');
      const entry = deref(spec, { $ref: '#/components/schemas/SettingsHistoryEvent' });
      for (const line of ndjson.text.trim().split('\n')) expect(validate(spec, entry, JSON.parse(line) as Json, '$', { closed: true })).toEqual([]);
      await check('GET', '/v1/ops/settings/history?at=yesterday', { token: admin }, 400);
      await check('GET', '/v1/ops/settings/history', {}, 401);
      await check('GET', '/v1/ops/settings/history', { token: agent }, 403);
    });

    it('answers diagnostics, the support bundle and the guest-name search as documented', async () => {
      await check('PUT', '/v1/settings/live-chat', { token: admin, body: { requestSupportChat: true, chatMode: 'hybrid' } }, 200);
      const started = (await check('POST', '/v1/guest/conversations', { body: { propertyId: PROPERTY, guestName: 'Dora Diagnose' } }, 201)).json() as JsonObject;
      const id = started.conversationId as string;
      const support = (await check('POST', `/v1/guest/conversations/${id}/support-requests`, { token: started.guestToken as string }, 201)).json() as JsonObject;
      await check('POST', `/v1/conversations/${id}/take-over`, { token: otherAgent }, 200);
      const unknown = '00000000-0000-4000-8000-000000000000';

      await check('GET', `/v1/diagnostics?conversationId=${id}&minPosition=${support.position}`, { token: agent }, 200);
      await check('GET', '/v1/diagnostics', { token: admin }, 200);
      await check('GET', '/v1/diagnostics?conversationId=not-a-uuid', { token: agent }, 400);
      await check('GET', '/v1/diagnostics?minPosition=x', { token: agent }, 400);
      await check('GET', '/v1/diagnostics', {}, 401);
      await check('GET', '/v1/diagnostics', { token: started.guestToken as string }, 403);
      await check('GET', `/v1/diagnostics?conversationId=${id}`, { token: foreignAdmin }, 404);
      await check('GET', `/v1/diagnostics?conversationId=${unknown}`, { token: agent }, 404);

      const bundle = (await check('GET', `/v1/ops/conversations/${id}/support-bundle`, { token: admin }, 200)).json() as JsonObject;
      expect(bundle).toMatchObject({ conversationId: id, guestName: 'Dora Diagnose', diagnostics: { owner: { employee: { id: 'openapi-other' } } } });
      await check('GET', `/v1/ops/conversations/${id}/support-bundle?minPosition=x`, { token: admin }, 400);
      await check('GET', '/v1/ops/conversations/not-a-uuid/support-bundle', { token: admin }, 400);
      await check('GET', `/v1/ops/conversations/${id}/support-bundle`, {}, 401);
      await check('GET', `/v1/ops/conversations/${id}/support-bundle`, { token: agent }, 403);
      await check('GET', `/v1/ops/conversations/${id}/support-bundle`, { token: foreignAdmin }, 404);
      await check('GET', `/v1/ops/conversations/${unknown}/support-bundle`, { token: admin }, 404);

      const found = (await check('GET', `/v1/conversations?guestName=dora%20diagnose&minPosition=${support.position}`, { token: agent }, 200)).json() as JsonObject;
      expect((found.items as JsonObject[]).map((c) => c.id)).toEqual([id]);
      await check('GET', '/v1/conversations?guestName=%20', { token: agent }, 400);
    });

    it('answers the projection operations as documented', async () => {
      const status = (await check('GET', '/v1/ops/projections', { token: operator }, 200)).json() as JsonObject;
      const names = (status.projections as JsonObject[]).map((p) => p.name);
      expect(names).toEqual(PROJECTIONS.map((p) => p.name));
      // The documented enums name exactly the projections there are.
      const param = ((spec.paths['/v1/ops/projections/{name}/rebuild']!.post as JsonObject).parameters as JsonObject[])[0]!;
      expect((param.schema as JsonObject).enum).toEqual(names);
      expect(((deref(spec, { $ref: '#/components/schemas/ProjectionStatus' }) as JsonObject).properties as JsonObject).name).toMatchObject({ enum: names });
      await check('GET', '/v1/ops/projections', {}, 401);
      await check('GET', '/v1/ops/projections', { token: agent }, 403);
      // Service-wide: a property's admin without the operator claim is refused too.
      expect((await check('GET', '/v1/ops/projections', { token: admin }, 403)).json()).toMatchObject({ code: 'ops_only' });

      const accepted = await check('POST', '/v1/ops/projections/employeeNames/rebuild', { token: operator, headers: { 'idempotency-key': 'rebuild-1' } }, 202);
      expect(accepted.json()).toMatchObject({ rebuild: { state: 'requested' }, statusUrl: '/v1/ops/projections' });
      await check('POST', '/v1/ops/projections/employeeNames/rebuild', { token: operator }, 409);
      await check('POST', '/v1/ops/projections/employeeNames/rebuild', { token: operator, body: { again: true }, headers: { 'idempotency-key': 'rebuild-1' } }, 422);
      await check('POST', '/v1/ops/projections/employeeNames/rebuild', { token: operator, headers: { 'idempotency-key': 'not a key!' } }, 400);
      await check('POST', '/v1/ops/projections/nothing/rebuild', { token: operator }, 404);
      await check('POST', '/v1/ops/projections/inbox/rebuild', { token: agent }, 403);
      expect((await check('POST', '/v1/ops/projections/inbox/rebuild', { token: admin }, 403)).json()).toMatchObject({ code: 'ops_only' });
      await check('POST', '/v1/ops/projections/inbox/rebuild', {}, 401);
      await check('POST', '/v1/ops/projections/inbox/rebuild', { token: operator, raw: '<x/>', headers: { 'content-type': 'application/xml' } }, 415);
      await check('POST', '/v1/ops/projections/inbox/rebuild', { token: operator, body: { x: 'x'.repeat(64 * 1024) } }, 413);
      // While it runs and once it is done, the status conforms too.
      await eventually(async () => {
        const res = await check('GET', '/v1/ops/projections', { token: operator }, 200);
        const p = ((res.json() as JsonObject).projections as JsonObject[]).find((x) => x.name === 'employeeNames')!;
        return (p.rebuild as JsonObject | null)?.state === 'done' ? true : undefined;
      }, 20_000, 'the rebuild to finish');
    }, 30_000);

    it('exercised every documented operation at least once', () => {
      const exercised = new Set(observed.map((o) => o.split(' ').slice(0, 2).join(' ')));
      const all = operations(spec).map((o) => `${o.method.toUpperCase()} ${o.path}`);
      expect(all.filter((o) => !exercised.has(o))).toEqual([]);
    });
  });

  describe('/docs', () => {
    it('serves the Swagger UI as HTML', async () => {
      const res = await send('GET', '/docs');
      const html = res.status === 302 ? await send('GET', res.headers.get('location')!) : res;
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html.text).toMatch(/<html/i);
    });

    it('serves openapi.yaml at /docs/json', async () => {
      const res = await send('GET', '/docs/json');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const served = JSON.parse(res.text) as OpenApiDoc;
      expect(served.openapi).toBe(spec.openapi);
      expect(served.info).toEqual(spec.info);
      expect(Object.keys(served.paths).sort()).toEqual(Object.keys(spec.paths).sort());
      expect(served.components.schemas).toEqual(spec.components.schemas);
    });
  });
});
