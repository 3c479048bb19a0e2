/**
 * Input limits (issue 9, item 4), through HTTP: JSON depth and key-count limits in the body
 * parser (400 in the one error shape, before validation and before the guard), non-object
 * bodies, unsafe text (control characters, lone surrogates, bidi overrides, blank text) in
 * bodies and queries with field-level details, and 405 with `Allow` for undeclared methods.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { client } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const PROPERTY = 'hotel-inputs';
let app: TestApp;
let api: ReturnType<typeof client>;
let admin: string;
let agent: string;
let conversationId: string;
let guest: string;

/** The raw answer of a request whose body is sent exactly as given. */
async function raw(method: string, path: string, body: string, token?: string) {
  const res = await fetch(app.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Record<string, any> };
}

const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const nestedArrays = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

beforeAll(async () => {
  app = await startTestApp({ RATE_LIMIT_ENABLED: 'false' });
  api = client(app.url);
  admin = await app.employee('ines', PROPERTY, 'admin');
  agent = await app.employee('ivo', PROPERTY, 'agent');
  // A property is known once its admin saved a setting: only then may guests start conversations.
  expect((await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' })).status).toBe(200);
  const started = await api.post('/v1/guest/conversations', undefined, { propertyId: PROPERTY, guestName: 'Iris' });
  expect(started.status).toBe(201);
  conversationId = started.body.conversationId;
  guest = started.body.guestToken;
});
afterAll(async () => {
  await app?.stop();
});

describe('JSON body limits', () => {
  it('answers 3,000 levels of nesting (6 KB, no token) with 400 body_too_deep in the error shape, no stack trace', async () => {
    const body = nestedObjects(3000);
    expect(body.length).toBeGreaterThan(6000);
    for (const payload of [body, nestedArrays(3000)]) {
      const res = await raw('POST', '/v1/guest/conversations', payload);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'The request body is nested more than 32 levels deep',
        code: 'body_too_deep',
        requestId: res.headers.get('x-request-id'),
      });
      expect(res.text).not.toMatch(/\bat .*\(.*:\d+:\d+\)/); // no stack frames
    }
  });

  it('checks the body before the guard: a guarded route without a token is a 400 too', async () => {
    const res = await raw('POST', `/v1/conversations/${conversationId}/take-over`, nestedObjects(100));
    expect(res).toMatchObject({ status: 400, body: { code: 'body_too_deep' } });
    const guarded = await raw('PUT', '/v1/me/settings', nestedArrays(40), agent);
    expect(guarded).toMatchObject({ status: 400, body: { code: 'body_too_deep' } });
  });

  it('lets 32 levels through to validation and refuses 33', async () => {
    const at32 = await raw('PUT', '/v1/me/settings', nestedObjects(32), agent);
    expect(at32).toMatchObject({ status: 400, body: { message: 'Validation failed' } });
    const at33 = await raw('PUT', '/v1/me/settings', nestedObjects(33), agent);
    expect(at33).toMatchObject({ status: 400, body: { code: 'body_too_deep' } });
  });

  it('refuses more than 1,000 keys (400 body_too_many_keys), counting keys, not colons inside strings', async () => {
    const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    expect(await raw('PUT', '/v1/me/settings', keys(1001), agent)).toMatchObject({ status: 400, body: { code: 'body_too_many_keys' } });
    expect(await raw('PUT', '/v1/me/settings', keys(1000), agent)).toMatchObject({ status: 400, body: { message: 'Validation failed' } });
    const colons = await api.post(`/v1/guest/conversations/${conversationId}/messages`, guest, { text: 'at 10:30: "a:b" {[:]}'.repeat(60) });
    expect(colons.status).toBe(201);
    expect(colons.body.message.text).toBe('at 10:30: "a:b" {[:]}'.repeat(60));
  });

  it('still refuses prototype poisoning (__proto__, constructor.prototype)', async () => {
    for (const body of [
      '{"propertyId":"hotel-inputs","guestName":"P","__proto__":{"admin":true}}',
      '{"propertyId":"hotel-inputs","guestName":"P","constructor":{"prototype":{"admin":true}}}',
    ]) {
      const res = await raw('POST', '/v1/guest/conversations', body);
      expect(res.status).toBe(400);
      expect(res.body.statusCode).toBe(400);
    }
  });

  it('answers bodies that are not a JSON object with 400 body_not_object', async () => {
    for (const payload of ['null', '[]', '[{"incomingSupportRequests":true}]', '"text"', '42', 'true', ' \n null']) {
      expect({ payload, ...(await raw('PUT', '/v1/me/settings', payload, agent)) }).toMatchObject({ payload, status: 400, body: { code: 'body_not_object' } });
      expect({ payload, ...(await raw('POST', '/v1/guest/conversations', payload)) }).toMatchObject({ payload, status: 400, body: { code: 'body_not_object' } });
    }
    // And the settings are untouched: a null body used to be a 200.
    expect((await api.get('/v1/me/settings', agent)).status).toBe(200);
  });
});

describe('text fields and ids', () => {
  const post = (text: string) => api.post(`/v1/guest/conversations/${conversationId}/messages`, guest, { text });
  const fieldMessages = (body: any, field: string): string[] =>
    (body.details as Array<{ field: string; messages: string[] }>).filter((d) => d.field === field).flatMap((d) => d.messages);

  it.each([
    ['NUL', 'hi\u0000there', 'control character (U+0000) at index 2'],
    ['BEL', '\u0007ring', 'control character (U+0007) at index 0'],
    ['ESC (terminal escape)', 'red \u001b[31m', 'control character (U+001B) at index 4'],
    ['carriage return', 'one\r\ntwo', 'control character (U+000D) at index 3'],
    ['DEL', 'x\u007f', 'control character (U+007F) at index 1'],
    ['C1 NEL', 'x\u0085y', 'control character (U+0085) at index 1'],
    ['lone high surrogate', 'broken \ud83d emoji', 'lone surrogate (U+D83D) at index 7'],
    ['lone low surrogate', '\ude00', 'lone surrogate (U+DE00) at index 0'],
    ['RLO override', 'invoice\u202Etxt.exe', 'bidirectional override or isolate (U+202E) at index 7'],
    ['LRE embedding', '\u202Ax', 'bidirectional override or isolate (U+202A) at index 0'],
    ['RLI isolate', 'a\u2067b\u2069', 'bidirectional override or isolate (U+2067) at index 1'],
  ])('refuses a message with a %s (400, details on `text`)', async (_what, text, reason) => {
    const res = await post(text);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Validation failed');
    expect(fieldMessages(res.body, 'text')).toEqual([`text contains a ${reason}${reason.startsWith('control') ? ' (only newline and tab are allowed)' : ''}`]);
  });

  it.each([
    ['spaces', '     '],
    ['newlines and tabs', '\n\t \n'],
    ['no-break and ideographic spaces', '\u00a0\u3000\u2003'],
    ['zero-width spaces and a BOM', '\u200b\u200b\ufeff'],
  ])('refuses a message of only %s', async (_what, text) => {
    const res = await post(text);
    expect(res.status).toBe(400);
    expect(fieldMessages(res.body, 'text')).toEqual(['text must contain a visible character, not only spaces']);
  });

  it('accepts newlines, tabs, emoji (surrogate pairs), right-to-left scripts and joiners', async () => {
    for (const text of ['Line one\nline two\tend', 'Great 👍🏽 thanks', 'שלום, مرحبا', 'family 👨‍👩‍👧', '  padded  ']) {
      const res = await post(text);
      expect({ text, status: res.status }).toEqual({ text, status: 201 });
      expect(res.body.message.text).toBe(text);
    }
  });

  it('applies the rules to names and ids: single line, no blank names', async () => {
    const start = (body: object) => api.post('/v1/guest/conversations', undefined, body);
    const newline = await start({ propertyId: PROPERTY, guestName: 'Tom\nAdmin' });
    expect(newline.status).toBe(400);
    expect(fieldMessages(newline.body, 'guestName')).toEqual(['guestName contains a control character (U+000A) at index 3']);
    const blank = await start({ propertyId: PROPERTY, guestName: ' \u200b ' });
    expect(fieldMessages(blank.body, 'guestName')).toEqual(['guestName must contain a visible character, not only spaces']);
    const bidi = await start({ propertyId: PROPERTY, guestName: 'Tom\u202E' });
    expect(fieldMessages(bidi.body, 'guestName')).toEqual(['guestName contains a bidirectional override or isolate (U+202E) at index 3']);
    const id = await start({ propertyId: 'hotel\u0000inputs', guestName: 'Tom' });
    expect(fieldMessages(id.body, 'propertyId')).toEqual(['propertyId contains a control character (U+0000) at index 5']);
    expect((await start({ propertyId: PROPERTY, guestName: 'Zoë O’Brien-Łukasz' })).status).toBe(201);

    const reassign = await api.post(`/v1/conversations/${conversationId}/reassign`, admin, { employeeId: 'ivo\u0000', employeeName: '\ud800' });
    expect(reassign.status).toBe(400);
    expect(fieldMessages(reassign.body, 'employeeId')).toEqual(['employeeId contains a control character (U+0000) at index 3']);
    expect(fieldMessages(reassign.body, 'employeeName')).toEqual(['employeeName contains a lone surrogate (U+D800) at index 0']);

    const closure = await api.put('/v1/me/settings', agent, { closureMessage: { enabled: true, text: 'Bye\u202E' } });
    expect(fieldMessages(closure.body, 'closureMessage.text')).toEqual(['text contains a bidirectional override or isolate (U+202E) at index 3']);

    const search = await api.get(`/v1/conversations?guestName=${encodeURIComponent('Iris\u0007')}`, agent);
    expect(search.status).toBe(400);
    expect(fieldMessages(search.body, 'guestName')).toContain('guestName contains a control character (U+0007) at index 4');
  });

  it('refuses unsafe text in employee replies too', async () => {
    const res = await api.post(`/v1/conversations/${conversationId}/messages`, agent, { text: '\u2066hidden\u2069' });
    expect(res.status).toBe(400);
    expect(fieldMessages(res.body, 'text')).toEqual(['text contains a bidirectional override or isolate (U+2066) at index 0']);
    expect((await api.post(`/v1/conversations/${conversationId}/messages`, agent, { text: ' \t ' })).status).toBe(400);
  });
});

describe('405 Method Not Allowed', () => {
  const send = async (method: string, path: string, token?: string) => {
    const res = await fetch(app.url + path, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, allow: res.headers.get('allow'), requestId: res.headers.get('x-request-id'), body: (await res.json()) as Record<string, unknown> };
  };

  it('answers an undeclared method on a known path with 405, Allow and the error shape (with or without a token)', async () => {
    for (const token of [agent, undefined]) {
      const res = await send('DELETE', `/v1/conversations/${conversationId}`, token);
      expect(res).toEqual({
        status: 405,
        allow: 'GET, HEAD',
        requestId: res.requestId,
        body: {
          statusCode: 405,
          error: 'Method Not Allowed',
          message: `DELETE is not allowed on /v1/conversations/${conversationId}; allowed: GET, HEAD`,
          code: 'method_not_allowed',
          requestId: res.requestId,
        },
      });
    }
    expect(await send('PATCH', '/v1/me/settings', agent)).toMatchObject({ status: 405, allow: 'GET, HEAD, PUT' });
    expect(await send('GET', `/v1/conversations/${conversationId}/take-over`, agent)).toMatchObject({ status: 405, allow: 'POST' });
    expect(await send('PUT', `/v1/conversations/${conversationId}/messages`, agent)).toMatchObject({ status: 405, allow: 'GET, HEAD, POST' });
    expect(await send('POST', '/health/ready')).toMatchObject({ status: 405, allow: 'GET, HEAD' });
    expect(await send('DELETE', '/v1/me/push-subscriptions', agent)).not.toMatchObject({ status: 405 }); // declared: it is routed
  });

  it('keeps 404 for paths no route matches', async () => {
    for (const path of ['/nope', '/v1/conversations/x/y/z', '/v1/unknown']) {
      const res = await send('DELETE', path);
      expect({ path, status: res.status, allow: res.allow }).toEqual({ path, status: 404, allow: null });
    }
    expect((await send('GET', '/v1/nothing-here', agent)).status).toBe(404);
  });
});
