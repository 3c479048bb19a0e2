/**
 * Observability: readiness that follows the stores, Prometheus metrics a real text-format
 * parser reads, request ids in headers and error bodies, one JSON log line per request with no
 * token in it. The outage tests run a real dist/main.js in production mode (SQLite events,
 * read models and leases on a private FerretDB, change feed and idempotency keys on a private
 * Redis) and stop those private servers, never the shared ones.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CommandBus } from '@nestjs/cqrs';
import parsePrometheus, { type PrometheusFamily, type PrometheusSample } from 'parse-prometheus-text-format';
import { RegisterProperty } from '../../src/application/commands/register-property.js';
import { DEFAULT_PUSH_POLICY, PushDelivery, type PushJob } from '../../src/application/processing/push-delivery.js';
import type { PushResult, PushSender } from '../../src/application/ports/push-sender.js';
import type { ReadModelStore } from '../../src/application/ports/read-models.js';
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { Metrics } from '../../src/adapters/observability/metrics.js';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { client, eventually } from '../support/http.js';
import { type FerretDbProcess, type RedisProcess, type ServerProcess, startPrivateFerretDb, startPrivateRedis, startServer } from '../support/processes.js';
import { SseClient } from '../support/sse-client.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PROPERTY = 'hotel-obs';

function families(text: string): Map<string, PrometheusFamily> {
  return new Map(parsePrometheus(text).map((f) => [f.name, f]));
}

function sample(family: PrometheusFamily | undefined, labels: Record<string, string>): PrometheusSample | undefined {
  return family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

const valueOf = (family: PrometheusFamily | undefined, labels: Record<string, string> = {}) => {
  const s = sample(family, labels);
  return s?.value === undefined ? undefined : Number(s.value);
};

/**
 * One series of a labelled histogram: parse-prometheus-text-format merges all series of a
 * histogram family into one (their labels, `_sum` and `_count` are lost), so the family's
 * sample lines are parsed again without its TYPE line, as the untyped series
 * `<name>_bucket`, `<name>_sum` and `<name>_count`.
 */
function histogram(text: string, name: string, labels: Record<string, string>) {
  const lines = text.split('\n');
  // One untyped family per suffix, its lines together (in the exposition they alternate per series).
  const series = families(['bucket', 'sum', 'count'].map((suffix) => lines.filter((l) => l.startsWith(`${name}_${suffix}{`)).join('\n')).join('\n\n') + '\n');
  const buckets = (series.get(`${name}_bucket`)?.metrics ?? [])
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .map((m) => ({ le: m.labels!.le!, count: Number(m.value) }));
  return { buckets, sum: valueOf(series.get(`${name}_sum`), labels), count: valueOf(series.get(`${name}_count`), labels) };
}

describe('observability of a production-mode process', () => {
  const tmp = tempDir('lct-obs-');
  const tokens = new TokenService(TEST_SECRET);
  let redis: RedisProcess;
  let ferret: FerretDbProcess;
  let server: ServerProcess;
  let api: ReturnType<typeof client>;

  const ready = async () => {
    const r = await api.get('/health/ready');
    return { status: r.status, body: r.body };
  };

  beforeAll(async () => {
    [redis, ferret] = await Promise.all([startPrivateRedis(tmp.dir), startPrivateFerretDb(tmp.dir, 'lct_obs')]);
    server = await startServer({ DATA_DIR: tmp.dir, REDIS_URL: redis.url, MONGODB_URL: ferret.url }, { captureStdout: true });
    api = client(server.url);
  }, 60000);

  afterAll(async () => {
    await server?.kill('SIGKILL');
    await Promise.all([redis?.stop(), ferret?.stop()]);
    tmp.cleanup();
  });

  it('answers /health/live, and /health/ready with a check of every configured store', async () => {
    const live = await api.get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    const r = await ready();
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ok');
    expect(Object.keys(r.body.info).sort()).toEqual(['changeFeed', 'eventStore', 'idempotency', 'leases', 'readModels']);
    for (const check of Object.values(r.body.info) as Array<{ status: string; responseTime: number }>) {
      expect(check.status).toBe('up');
      expect(check.responseTime).toBeGreaterThanOrEqual(0);
    }
    // /health keeps its own answer (head and projection lag).
    const health = await api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok' });
    expect(Array.isArray(health.body.projections)).toBe(true);
  });

  it('returns a request id on every answer and in error bodies; a plain caller id is kept, anything else replaced', async () => {
    const denied = await api.get('/v1/conversations');
    expect(denied.status).toBe(401);
    const id = denied.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(denied.body.requestId).toBe(id);

    const traced = await api.get('/v1/conversations', undefined, { 'x-request-id': 'lb-trace.42:a_b-c' });
    expect(traced.headers.get('x-request-id')).toBe('lb-trace.42:a_b-c');
    expect(traced.body.requestId).toBe('lb-trace.42:a_b-c');

    for (const bad of ['has space', 'x'.repeat(129), '<script>']) {
      const r = await api.get('/nowhere', undefined, { 'x-request-id': bad });
      expect(r.status).toBe(404);
      expect(r.headers.get('x-request-id')).toMatch(UUID);
      expect(r.body.requestId).toBe(r.headers.get('x-request-id'));
    }
    const ok = await api.get('/health/live');
    expect(ok.headers.get('x-request-id')).toMatch(UUID);
    // A URL the router rejects before any hook or filter runs gets the same shape and id.
    const badUrl = await api.get('/v1/conversations/%E0%A4%A');
    expect(badUrl.status).toBe(400);
    expect(badUrl.body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: badUrl.headers.get('x-request-id') });
    expect(badUrl.body.requestId).toMatch(UUID);
  });

  it('serves /metrics that a Prometheus text-format parser reads, with sensible values after a few commands', async () => {
    const admin = await tokens.employeeToken({ id: 'obs-admin', propertyId: PROPERTY, role: 'admin', name: 'Ada' });
    const amy = await tokens.employeeToken({ id: 'amy', propertyId: PROPERTY, role: 'agent', name: 'Amy' });
    const bob = await tokens.employeeToken({ id: 'bob', propertyId: PROPERTY, role: 'agent', name: 'Bob' });
    expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: 'Gus' })).body;
    expect((await api.post(`/v1/guest/conversations/${g.conversationId}/support-requests`, g.guestToken)).body.ticketOpened).toBe(true);
    expect((await api.post(`/v1/conversations/${g.conversationId}/take-over`, amy)).status).toBe(200);
    expect((await api.post(`/v1/conversations/${g.conversationId}/take-over`, bob)).status).toBe(409);
    const stream = await SseClient.open(`${server.url}/v1/stream`, { authorization: `Bearer ${bob}` });
    await stream.waitFor((es) => es.some((e) => e.event === 'ready'));

    const scraped = await fetch(`${server.url}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await scraped.text();
    const m = families(text); // throws on anything that is not text format
    const types = Object.fromEntries(
      ['lct_commands_total', 'lct_command_duration_seconds', 'lct_event_store_append_duration_seconds', 'lct_projection_lag_events', 'lct_sse_connections', 'lct_pushes_total', 'process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds'].map((n) => [n, m.get(n)?.type]),
    );
    expect(types).toEqual({
      lct_commands_total: 'COUNTER',
      lct_command_duration_seconds: 'HISTOGRAM',
      lct_event_store_append_duration_seconds: 'HISTOGRAM',
      lct_projection_lag_events: 'GAUGE',
      lct_sse_connections: 'GAUGE',
      lct_pushes_total: 'COUNTER',
      process_cpu_user_seconds_total: 'COUNTER',
      nodejs_eventloop_lag_seconds: 'GAUGE',
    });

    const commands = m.get('lct_commands_total');
    expect(valueOf(commands, { command: 'TakeOver', outcome: 'ok' })).toBe(1);
    expect(valueOf(commands, { command: 'TakeOver', outcome: 'conflict' })).toBe(1);
    expect(valueOf(commands, { command: 'StartConversation', outcome: 'ok' })).toBe(1);
    expect(valueOf(commands, { command: 'RequestSupport', outcome: 'ok' })).toBe(1);
    const takeOver = histogram(text, 'lct_command_duration_seconds', { command: 'TakeOver', outcome: 'ok' });
    expect(takeOver.count).toBe(1);
    expect(takeOver.sum).toBeGreaterThan(0);
    expect(takeOver.sum).toBeLessThan(5);
    const counts = takeOver.buckets.map((b) => b.count);
    expect(counts).toEqual([...counts].sort((a, b) => a - b)); // cumulative
    expect(takeOver.buckets.at(-1)).toEqual({ le: '+Inf', count: 1 });
    expect(histogram(text, 'lct_command_duration_seconds', { command: 'TakeOver', outcome: 'conflict' }).count).toBe(1);

    // Settings, start, support request, take-over: four appends at least, each durable in well under a second.
    const appends = histogram(text, 'lct_event_store_append_duration_seconds', { outcome: 'ok' });
    expect(appends.count).toBeGreaterThanOrEqual(4);
    expect(appends.sum! / appends.count!).toBeLessThan(1);
    expect(appends.buckets.at(-1)).toEqual({ le: '+Inf', count: appends.count });

    expect(valueOf(m.get('lct_sse_connections'))).toBe(1);
    const pushes = m.get('lct_pushes_total');
    expect(['delivered', 'retrying', 'failed', 'subscription_gone'].map((outcome) => valueOf(pushes, { outcome }))).toEqual([0, 0, 0, 0]);
    expect(valueOf(m.get('lct_projection_lag_events'), { consumer: 'projector' })).toBeGreaterThanOrEqual(0);

    // The consumers catch up (the workers started on an empty log: each has a checkpoint from
    // its first batch on); the stream closes: the gauges follow at the next scrape.
    stream.close();
    const lag = await eventually(async () => {
      const now = families(await (await fetch(`${server.url}/metrics`)).text());
      const consumers = Object.fromEntries((now.get('lct_projection_lag_events')?.metrics ?? []).map((s) => [s.labels!.consumer, Number(s.value)]));
      return Object.keys(consumers).length === 4 && consumers.projector === 0 && valueOf(now.get('lct_sse_connections')) === 0 ? consumers : undefined;
    }, 10000, 'every consumer reported, projector lag 0 and no open stream');
    expect(Object.keys(lag).sort()).toEqual(['ai-responder', 'escalation-watcher', 'projector', 'push-notifier']);
    for (const value of Object.values(lag)) expect(value).toBeGreaterThanOrEqual(0);
  });

  it('logs every request once as a JSON line with its request id, route, status, duration and principal, and never a token', async () => {
    const employee = await tokens.employeeToken({ id: 'logged-agent', propertyId: PROPERTY, role: 'agent', name: 'Secret Name' });
    expect((await api.get('/v1/conversations', employee, { 'x-request-id': 'log-check-1' })).status).toBe(200);
    const streamToken = (await api.post('/v1/stream-tokens', employee)).body.token as string;
    const stream = await SseClient.open(`${server.url}/v1/stream?access_token=${streamToken}`, { 'x-request-id': 'log-check-sse' });
    await stream.waitFor((es) => es.some((e) => e.event === 'ready'));
    stream.close();
    const g = (await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: 'Lou' }, { 'x-request-id': 'log-check-guest' })).body;
    const read = await api.get(`/v1/guest/conversations/${g.conversationId}?minPosition=${g.position}`, g.guestToken, { 'x-request-id': 'log-check-guest-read' });
    expect(read.status).toBe(200);
    expect((await api.get('/v1/conversations', 'not.a.valid-token', { 'x-request-id': 'log-check-401' })).status).toBe(401);

    const lines = await eventually(async () => {
      const parsed = server
        .stdout()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>); // every line is JSON
      const ids = new Set(parsed.map((l) => l.requestId));
      return ['log-check-1', 'log-check-sse', 'log-check-guest', 'log-check-guest-read', 'log-check-401'].every((id) => ids.has(id)) ? parsed : undefined;
    }, 10000, 'the request log lines');
    const of = (requestId: string) => lines.filter((l) => l.requestId === requestId);

    expect(of('log-check-1')).toHaveLength(1);
    expect(of('log-check-1')[0]).toMatchObject({
      level: 'info',
      msg: 'request completed',
      method: 'GET',
      url: '/v1/conversations',
      route: '/v1/conversations',
      statusCode: 200,
      principal: { kind: 'employee', id: 'logged-agent', propertyId: PROPERTY, role: 'agent' },
      ip: '127.0.0.1',
    });
    expect(typeof of('log-check-1')[0]!.durationMs).toBe('number');
    expect(typeof of('log-check-1')[0]!.time).toBe('string');
    expect(of('log-check-sse')).toHaveLength(1);
    expect(of('log-check-sse')[0]).toMatchObject({ route: '/v1/stream', statusCode: 200, url: '/v1/stream?access_token=[redacted]' });
    expect(of('log-check-guest')[0]).toMatchObject({ method: 'POST', route: '/v1/guest/conversations', statusCode: 201, principal: null });
    expect(of('log-check-guest-read')[0]).toMatchObject({ principal: { kind: 'guest', id: g.conversationId, propertyId: PROPERTY } });
    expect(of('log-check-401')[0]).toMatchObject({ statusCode: 401, principal: null });

    const all = server.stdout();
    for (const secret of [employee, streamToken, g.guestToken as string, TEST_SECRET, 'not.a.valid-token', 'Secret Name']) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/bearer/i);
    expect(all).not.toMatch(/authorization/i);
  });

  it('turns /health/ready 503 within seconds when Redis stops, and 200 when it is back', async () => {
    await redis.stop();
    const stopped = Date.now();
    const down = await eventually(async () => {
      const r = await ready();
      return r.status === 503 ? r : undefined;
    }, 5000, 'ready to turn 503');
    const downAfterMs = Date.now() - stopped;
    expect(down.body).toMatchObject({ statusCode: 503, code: 'not_ready', details: { status: 'error' } });
    expect(down.body.requestId).toMatch(UUID);
    expect(Object.keys(down.body.details.error).sort()).toEqual(['changeFeed', 'idempotency']);
    expect(down.body.message).toBe('Not ready: changeFeed, idempotency down');
    expect(down.body.details.info.eventStore.status).toBe('up');
    expect((await api.get('/health/live')).status).toBe(200); // not a reason to restart the process

    await redis.start();
    const started = Date.now();
    await eventually(async () => (await ready()).status === 200, 15000, 'ready to turn 200 again');
    console.log(`Redis stopped → 503 after ${downAfterMs} ms; restarted → 200 after ${Date.now() - started} ms`);
  }, 40000);

  it('turns /health/ready 503 within seconds when FerretDB stops, and 200 when it is back', async () => {
    await ferret.stop();
    const stopped = Date.now();
    const down = await eventually(async () => {
      const r = await ready();
      return r.status === 503 ? r : undefined;
    }, 5000, 'ready to turn 503');
    const downAfterMs = Date.now() - stopped;
    expect(down.body).toMatchObject({ statusCode: 503, code: 'not_ready' });
    expect(Object.keys(down.body.details.error).sort()).toEqual(['leases', 'readModels']);
    expect(down.body.details.info.changeFeed.status).toBe('up');

    await ferret.start();
    const started = Date.now();
    await eventually(async () => (await ready()).status === 200, 15000, 'ready to turn 200 again');
    console.log(`FerretDB stopped → 503 after ${downAfterMs} ms; restarted → 200 after ${Date.now() - started} ms`);
    // A failed probe is a request like any other: logged once, at error, with its status.
    const line = server
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>)
      .find((l) => l.requestId === down.body.requestId);
    expect(line).toMatchObject({ level: 'error', route: '/health/ready', statusCode: 503 });
  }, 40000);
});

describe('a 5xx in the log (in process)', () => {
  const tmp = tempDir('lct-obs-5xx-');
  const lines: Array<Record<string, any>> = [];
  let app: App;
  let base: string;

  beforeAll(async () => {
    const destination = { write: (chunk: string) => void lines.push(JSON.parse(chunk) as Record<string, any>) };
    app = await createApp(loadConfig({ DATA_DIR: tmp.dir, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info' } as NodeJS.ProcessEnv), { logDestination: destination });
    // Guests start conversations only for a known property: added as `properties add` does.
    await app.app.get(CommandBus).execute(new RegisterProperty('hotel-5xx', 'cli', 'operator', new Date().toISOString()));
    await app.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    tmp.cleanup();
  });

  it('answers 500 with a request id (no cause in the body) and logs the request once at error with the exception', async () => {
    const store = app.adapters.eventStore;
    const original = store.append;
    store.append = async () => {
      throw new Error('disk on fire');
    };
    let res;
    try {
      res = await client(base).post('/v1/guest/conversations', undefined, { propertyId: 'hotel-5xx', guestName: 'Fay' });
    } finally {
      store.append = original;
    }
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error', requestId: res.headers.get('x-request-id') });
    const line = await eventually(async () => lines.find((l) => l.requestId === res.body.requestId), 2000, 'the log line');
    expect(lines.filter((l) => l.requestId === res.body.requestId)).toHaveLength(1);
    expect(line).toMatchObject({ level: 'error', msg: 'request failed', statusCode: 500, route: '/v1/guest/conversations', err: { message: 'disk on fire' } });
    expect(line.err.stack).toContain('disk on fire');
    // The failed command is measured too.
    const m = families(await app.adapters.metrics.scrape());
    expect(valueOf(m.get('lct_commands_total'), { command: 'StartConversation', outcome: 'error' })).toBe(1);
  });

  it('logs nothing with LOG_LEVEL=silent and rejects an unknown level naming the variable', async () => {
    expect(() => loadConfig({ DATA_DIR: tmp.dir, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'loud' } as NodeJS.ProcessEnv)).toThrow(/LOG_LEVEL/);
    const quiet: string[] = [];
    const silent = await createApp(loadConfig({ DATA_DIR: `${tmp.dir}/silent`, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv), {
      logDestination: { write: (chunk: string) => void quiet.push(chunk) },
    });
    await silent.app.listen({ port: 0, host: '127.0.0.1' });
    await fetch(`http://127.0.0.1:${(silent.app.getHttpServer().address() as { port: number }).port}/health/live`);
    await silent.close();
    expect(quiet).toEqual([]);
  });
});

describe('pushes by outcome', () => {
  it('counts every journaled attempt by its outcome', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const results: PushResult[] = [
      { kind: 'accepted', status: 201 },
      { kind: 'gone', status: 410 },
      { kind: 'rejected', status: 400, error: 'bad' },
      { kind: 'retry', status: 503, retryAfterMs: null, error: 'busy' },
      { kind: 'accepted', status: 201 },
    ];
    const sender: PushSender = { available: true, publicKey: 'k', send: async () => results.shift()! };
    const store = { write: async () => undefined } as unknown as ReadModelStore;
    const delivery = new PushDelivery(sender, store, { ...DEFAULT_PUSH_POLICY, concurrency: 1, baseBackoffMs: 1 }, undefined, metrics);
    const job = (n: number): PushJob => ({
      alertId: `a${n}`,
      propertyId: 'p',
      employeeId: 'e',
      conversationId: null,
      subscriptionId: `s${n}`,
      target: { endpoint: 'https://push.example/1', keys: { p256dh: 'x', auth: 'y' } },
      message: { payload: '{}', ttlSeconds: 60, urgency: 'normal', topic: 't' },
      position: 1n,
      previousAttempts: 0,
    });
    await delivery.deliverAll([job(1), job(2), job(3), job(4)], new AbortController().signal);
    const m = families(await metrics.scrape());
    const pushes = m.get('lct_pushes_total');
    expect(Object.fromEntries(['delivered', 'retrying', 'failed', 'subscription_gone'].map((o) => [o, valueOf(pushes, { outcome: o })]))).toEqual({
      delivered: 2,
      retrying: 1,
      failed: 1,
      subscription_gone: 1,
    });
  });
});
