/** Token and CORS configuration: a bad value stops start-up with a message naming its variable. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const tmp = tempDir('lct-config-auth-');
afterAll(() => tmp.cleanup());
const base = { DATA_DIR: tmp.dir, AUTH_JWT_SECRET: TEST_SECRET };
const failure = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return { variable: error.variable, message: error.message };
    throw error;
  }
  return null;
};

describe('token configuration', () => {
  it('defaults: HS256 with AUTH_JWT_SECRET, 24 h at most, no iss/aud', () => {
    expect(loadConfig(base).auth).toEqual({ jwksUrl: null, issuer: null, audience: null, maxTokenLifetimeSeconds: 86400 });
    const set = loadConfig({
      ...base,
      AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      AUTH_JWT_ISSUER: 'https://idp.example',
      AUTH_JWT_AUDIENCE: 'live-chat',
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600',
    }).auth;
    expect(set).toEqual({ jwksUrl: 'https://idp.example/.well-known/jwks.json', issuer: 'https://idp.example', audience: 'live-chat', maxTokenLifetimeSeconds: 3600 });
  });

  it('names the variable of a bad value', () => {
    expect(failure({ ...base, AUTH_JWKS_URL: 'not a url' })?.variable).toBe('AUTH_JWKS_URL');
    expect(failure({ ...base, AUTH_JWKS_URL: 'http://idp.example/jwks.json' })?.variable).toBe('AUTH_JWKS_URL');
    expect(failure({ ...base, AUTH_JWKS_URL: 'http://127.0.0.1:8080/jwks.json' })).toBeNull();
    expect(failure({ ...base, AUTH_JWT_AUDIENCE: 'live-chat-tickets:guest' })?.variable).toBe('AUTH_JWT_AUDIENCE');
    for (const bad of ['0', '59', '2592001', '1h']) expect(failure({ ...base, AUTH_MAX_TOKEN_LIFETIME_SECONDS: bad })?.variable).toBe('AUTH_MAX_TOKEN_LIFETIME_SECONDS');
  });

  it('needs a secret of its own with a JWKS, also on the embedded store (no demo then)', () => {
    const f = failure({ DATA_DIR: tmp.dir, AUTH_JWKS_URL: 'https://idp.example/jwks.json' });
    expect(f?.variable).toBe('AUTH_JWT_SECRET');
    expect(f?.message).toMatch(/guest and stream tokens/);
  });
});

describe('CORS_ORIGINS', () => {
  it('is empty by default and takes exact origins, comma-separated', () => {
    expect(loadConfig(base).corsOrigins).toEqual([]);
    expect(loadConfig({ ...base, CORS_ORIGINS: ' https://hotel.example , http://localhost:8080,https://hotel.example' }).corsOrigins).toEqual([
      'https://hotel.example',
      'http://localhost:8080',
    ]);
  });

  it('refuses anything that is not an origin, naming CORS_ORIGINS', () => {
    for (const bad of ['*', 'hotel.example', 'https://hotel.example/', 'https://hotel.example/app', 'https://hotel.example?x=1', 'ftp://hotel.example', 'https://Hotel.example', 'null']) {
      const f = failure({ ...base, CORS_ORIGINS: `https://ok.example,${bad}` });
      expect({ bad, variable: f?.variable }).toEqual({ bad, variable: 'CORS_ORIGINS' });
    }
  });
});
