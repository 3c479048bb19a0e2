/**
 * Token hygiene (issue 9, item 7), through HTTP: `exp` required and lifetime capped, optional
 * iss/aud, RS256 through a JWKS (on a loopback server), stream tokens alone in the query
 * string and never outliving their minting token, guest tokens under a key of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CryptoKey, type JWK, SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { type AddressInfo } from 'node:net';
import { type Server, createServer } from 'node:http';
import { GUEST_AUDIENCE, GUEST_TOKEN_TTL_SECONDS, SERVICE_ISSUER, STREAM_AUDIENCE } from '../../src/adapters/http/auth/token.service.js';
import { client, eventually } from '../support/http.js';
import { freePort } from '../support/processes.js';
import { SseClient } from '../support/sse-client.js';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';

const secretKey = new TextEncoder().encode(TEST_SECRET);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const employeeClaims = { propertyId: 'hotel-a', role: 'agent', name: 'Tess' };
const lifetimeOf = (token: string) => {
  const { iat, exp } = decodeJwt(token);
  return exp! - iat!;
};

/** An HS256 token signed with AUTH_JWT_SECRET (what an HS256 identity provider issues), shaped by `edit`. */
function hs256(edit: (jwt: SignJWT) => SignJWT = (j) => j.setIssuedAt().setExpirationTime('1h'), claims: Record<string, unknown> = employeeClaims) {
  return edit(new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('tess')).sign(secretKey);
}

async function openStream(url: string): Promise<number> {
  const s = await SseClient.open(url);
  s.close();
  return s.status;
}

describe('tokens: exp, lifetime, query-string and guest rules (HS256)', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: '7200' });
    api = client(t.url);
  });
  afterAll(() => t.stop());

  it('requires exp and caps the lifetime (AUTH_MAX_TOKEN_LIFETIME_SECONDS)', async () => {
    expect((await api.get('/v1/me/settings', await hs256())).status).toBe(200);

    const noExp = await api.get('/v1/me/settings', await hs256((j) => j.setIssuedAt()));
    expect(noExp.status).toBe(401);
    expect(noExp.body.message).toMatch(/"exp"/);

    // exp in 2300, with iat now, with a forged iat just before it, and without iat.
    const in2300 = Math.floor(Date.UTC(2300, 0, 1) / 1000);
    for (const token of [
      await hs256((j) => j.setIssuedAt().setExpirationTime(in2300)),
      await hs256((j) => j.setIssuedAt(in2300 - 60).setExpirationTime(in2300)),
      await hs256((j) => j.setExpirationTime(in2300)),
    ]) {
      const res = await api.get('/v1/me/settings', token);
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/lifetime .* exceeds the maximum of 7200 s/);
    }
    // Just over the configured 2 h is refused; just under is fine.
    expect((await api.get('/v1/me/settings', await hs256((j) => j.setIssuedAt().setExpirationTime('7201s')))).status).toBe(401);
    expect((await api.get('/v1/me/settings', await hs256((j) => j.setIssuedAt().setExpirationTime('7100s')))).status).toBe(200);
  });

  it('mints its own tokens with exp − iat exactly their lifetime, so one at the maximum is accepted', async () => {
    const atMax = await t.tokens.employeeToken({ id: 'max', propertyId: 'hotel-a', role: 'agent', name: 'Max' }, 7200);
    expect(lifetimeOf(atMax)).toBe(7200);
    expect((await api.get('/v1/me/settings', atMax)).status).toBe(200);
    const started = await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Gina' });
    expect(lifetimeOf(started.body.guestToken)).toBe(GUEST_TOKEN_TTL_SECONDS);
    // Many at once, so some straddle a second boundary (iat and exp come from one reading of the clock).
    const guests = await Promise.all(Array.from({ length: 2000 }, (_, i) => t.tokens.guestToken({ conversationId: `c-${i}`, propertyId: 'hotel-a', name: 'G' })));
    expect(new Set(guests.map(lifetimeOf))).toEqual(new Set([GUEST_TOKEN_TTL_SECONDS]));
  });

  it('accepts only stream tokens in ?access_token=', async () => {
    const employee = await t.employee('qs-agent', 'hotel-a');
    expect(await openStream(`${t.url}/v1/stream?access_token=${employee}`)).toBe(401);
    const refused = await api.post(`/v1/stream-tokens?access_token=${employee}`);
    expect(refused.status).toBe(401);

    const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Gil' })).body;
    expect(await openStream(`${t.url}/v1/guest/conversations/${guest.conversationId}/stream?access_token=${guest.guestToken}`)).toBe(401);

    const { token: employeeStream } = (await api.post('/v1/stream-tokens', employee)).body;
    expect(await openStream(`${t.url}/v1/stream?access_token=${employeeStream}`)).toBe(200);
    const { token: guestStream } = (await api.post('/v1/stream-tokens', guest.guestToken)).body;
    expect(await openStream(`${t.url}/v1/guest/conversations/${guest.conversationId}/stream?access_token=${guestStream}`)).toBe(200);
    // In the header an API token still opens a stream (fetch-based clients can send headers).
    const viaHeader = await SseClient.open(`${t.url}/v1/stream`, { authorization: `Bearer ${employee}` });
    viaHeader.close();
    expect(viaHeader.status).toBe(200);
  });

  it('a stream token never outlives the token that minted it', async () => {
    const full = await api.post('/v1/stream-tokens', await t.employee('long-agent', 'hotel-a'));
    expect(full.status).toBe(201);
    expect(full.body.expiresInSeconds).toBe(300);

    const short = await hs256((j) => j.setIssuedAt().setExpirationTime(nowSeconds() + 4));
    const minted = await api.post('/v1/stream-tokens', short);
    expect(minted.status).toBe(201);
    expect(minted.body.expiresInSeconds).toBeGreaterThanOrEqual(2);
    expect(minted.body.expiresInSeconds).toBeLessThanOrEqual(4);
    const url = `${t.url}/v1/stream?access_token=${minted.body.token}`;
    expect(await openStream(url)).toBe(200); // now also in the verify cache
    const expiresAt = Date.now() + minted.body.expiresInSeconds * 1000;
    await eventually(async () => (await openStream(url)) === 401, 15000, 'the stream token to expire with its minting token');
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 1000);
  });

  it('guest tokens are signed with a key of their own and never pass for employee tokens, nor the reverse', async () => {
    const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Gwen' })).body;
    expect((await api.get(`/v1/guest/conversations/${guest.conversationId}`, guest.guestToken)).status).toBe(200);
    expect((await api.get('/v1/conversations', guest.guestToken)).status).toBe(403);

    // A guest token as the identity provider's secret could sign it: every shape is refused.
    const guestClaims = { typ: 'guest', propertyId: 'hotel-a', name: 'Mallory' };
    const forged = (aud?: string) =>
      hs256((j) => {
        const jwt = j.setSubject(guest.conversationId).setIssuer(SERVICE_ISSUER).setIssuedAt().setExpirationTime('1h');
        return aud ? jwt.setAudience(aud) : jwt;
      }, guestClaims);
    for (const token of [await forged(GUEST_AUDIENCE), await forged()]) {
      expect((await api.get(`/v1/guest/conversations/${guest.conversationId}`, token)).status).toBe(401);
    }
    // Nor can the identity provider's secret sign a stream token.
    const forgedStream = await hs256(
      (j) => j.setIssuer(SERVICE_ISSUER).setAudience(STREAM_AUDIENCE).setIssuedAt().setExpirationTime('60s'),
      { ...employeeClaims, scope: 'stream' },
    );
    expect(await openStream(`${t.url}/v1/stream?access_token=${forgedStream}`)).toBe(401);
    // An employee token signed by the identity provider is not a guest token.
    expect((await api.get(`/v1/guest/conversations/${guest.conversationId}`, await t.employee('emp', 'hotel-a'))).status).toBe(403);
  });
});

describe('tokens: AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_JWT_ISSUER: 'https://idp.example', AUTH_JWT_AUDIENCE: 'live-chat' });
    api = client(t.url);
  });
  afterAll(() => t.stop());

  it('checks iss and aud when configured', async () => {
    const base = (j: SignJWT) => j.setIssuedAt().setExpirationTime('1h');
    expect((await api.get('/v1/me/settings', await hs256((j) => base(j).setIssuer('https://idp.example').setAudience('live-chat')))).status).toBe(200);
    expect((await api.get('/v1/me/settings', await t.employee('fixture-agent', 'hotel-a'))).status).toBe(200);
    for (const [token, claim] of [
      [await hs256((j) => base(j).setIssuer('https://evil.example').setAudience('live-chat')), 'iss'],
      [await hs256((j) => base(j).setAudience('live-chat')), 'iss'],
      [await hs256((j) => base(j).setIssuer('https://idp.example').setAudience('another-app')), 'aud'],
      [await hs256((j) => base(j).setIssuer('https://idp.example')), 'aud'],
    ] as const) {
      const res = await api.get('/v1/me/settings', token);
      expect(res.status).toBe(401);
      expect(res.body.message).toContain(`"${claim}"`);
    }
    // The service's own tokens are unaffected by the identity provider's iss/aud.
    const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Ida' })).body;
    expect((await api.get(`/v1/guest/conversations/${guest.conversationId}`, guest.guestToken)).status).toBe(200);
  });
});

describe('tokens: RS256 through AUTH_JWKS_URL', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let jwksServer: Server;
  let jwksUrl: string;
  let jwks: { keys: JWK[] };
  let sign: (claims?: Record<string, unknown>, kid?: string, key?: CryptoKey) => Promise<string>;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    otherKey = (await generateKeyPair('RS256')).privateKey;
    jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' }] };
    sign = (claims = employeeClaims, kid = 'idp-key-1', key: CryptoKey = privateKey) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setSubject('rita').setIssuedAt().setExpirationTime('1h').sign(key);
    jwksServer = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    t = await startTestApp({ AUTH_JWKS_URL: jwksUrl });
    api = client(t.url);
  });
  afterAll(async () => {
    await t.stop();
    await new Promise((r) => jwksServer.close(r));
  });

  it('accepts RS256 tokens from the JWKS and refuses HS256 employee tokens', async () => {
    const rs = await api.get('/v1/me/settings', await sign());
    expect(rs.status).toBe(200);
    const hs = await api.get('/v1/me/settings', await hs256());
    expect(hs.status).toBe(401);
    expect(hs.body.message).toMatch(/alg/);
    // Signed by a key the JWKS does not hold (known kid, wrong key; unknown kid).
    expect((await api.get('/v1/me/settings', await sign(employeeClaims, 'idp-key-1', otherKey))).status).toBe(401);
    expect((await api.get('/v1/me/settings', await sign(employeeClaims, 'unknown-kid'))).status).toBe(401);
  });

  it('takes the ops claim from an RS256 token only when it is the boolean true', async () => {
    expect((await api.get('/v1/ops/projections', await sign({ ...employeeClaims, ops: true }))).status).toBe(200);
    expect((await api.get('/v1/ops/projections', await sign({ ...employeeClaims, ops: 'true' }))).body).toMatchObject({ statusCode: 403, code: 'ops_only' });
    expect((await api.get('/v1/ops/projections', await sign())).body).toMatchObject({ statusCode: 403, code: 'ops_only' });
  });

  it('still signs and accepts its own guest and stream tokens with AUTH_JWT_SECRET', async () => {
    const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Rex' })).body;
    expect((await api.get(`/v1/guest/conversations/${guest.conversationId}`, guest.guestToken)).status).toBe(200);
    const { token } = (await api.post('/v1/stream-tokens', await sign())).body;
    expect(await openStream(`${t.url}/v1/stream?access_token=${token}`)).toBe(200);
  });

  it('answers 503 auth_keys_unavailable when the JWKS cannot be fetched (not the token\'s fault)', async () => {
    const down = await startTestApp({ AUTH_JWKS_URL: `http://127.0.0.1:${await freePort()}/jwks.json` });
    try {
      const res = await client(down.url).get('/v1/me/settings', await sign());
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, code: 'auth_keys_unavailable' });
      // Its own tokens need no JWKS.
      const guest = (await client(down.url).post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Dee' })).body;
      expect((await client(down.url).get(`/v1/guest/conversations/${guest.conversationId}`, guest.guestToken)).status).toBe(200);
    } finally {
      await down.stop();
    }
  });
});
