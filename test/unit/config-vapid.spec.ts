/** VAPID and push configuration: a bad value stops start-up with a message naming its variable. */
import { describe, expect, it } from '@jest/globals';
import { generateVapidKeys } from '../../src/adapters/web-push/vapid.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const tmp = tempDir('lct-config-');
const base = { DATA_DIR: tmp.dir, AUTH_JWT_SECRET: TEST_SECRET };
const variableOf = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.variable;
    throw error;
  }
  return null;
};

describe('VAPID configuration', () => {
  const pair = generateVapidKeys();
  const other = generateVapidKeys();

  it('takes a valid pair from the environment', () => {
    expect(loadConfig({ ...base, VAPID_PUBLIC_KEY: pair.publicKey, VAPID_PRIVATE_KEY: pair.privateKey }).vapid).toEqual({
      ...pair,
      subject: 'mailto:ops@example.com',
    });
  });

  it('runs without keys outside the demo (push unavailable)', () => {
    expect(loadConfig(base).vapid).toBeNull();
  });

  it('names the variable of a malformed, missing or mismatched key', () => {
    expect(variableOf({ VAPID_PUBLIC_KEY: 'not-a-key', VAPID_PRIVATE_KEY: pair.privateKey })).toBe('VAPID_PUBLIC_KEY');
    expect(variableOf({ VAPID_PUBLIC_KEY: pair.publicKey, VAPID_PRIVATE_KEY: 'x'.repeat(43) })).toBe('VAPID_PRIVATE_KEY');
    expect(variableOf({ VAPID_PUBLIC_KEY: pair.publicKey })).toBe('VAPID_PRIVATE_KEY');
    expect(variableOf({ VAPID_PRIVATE_KEY: pair.privateKey })).toBe('VAPID_PUBLIC_KEY');
    expect(variableOf({ VAPID_PUBLIC_KEY: pair.publicKey, VAPID_PRIVATE_KEY: other.privateKey })).toBe('VAPID_PUBLIC_KEY');
    expect(variableOf({ VAPID_SUBJECT: 'ops@example.com' })).toBe('VAPID_SUBJECT');
    expect(variableOf({ PUSH_ALLOW_HTTP_ENDPOINTS: 'yes' })).toBe('PUSH_ALLOW_HTTP_ENDPOINTS');
  });

  it('generates the demo pair once and keeps it in DATA_DIR', () => {
    const demo = tempDir('lct-config-demo-');
    const first = loadConfig({ DATA_DIR: demo.dir }).vapid;
    expect(first).not.toBeNull();
    expect(loadConfig({ DATA_DIR: demo.dir }).vapid).toEqual(first);
    demo.cleanup();
  });
});
