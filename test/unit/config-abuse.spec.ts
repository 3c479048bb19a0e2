/** Abuse-limit configuration (README "Abuse limits"): defaults, and a bad value names its variable. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const tmp = tempDir('lct-config-abuse-');
afterAll(() => tmp.cleanup());
const base = { DATA_DIR: tmp.dir, AUTH_JWT_SECRET: TEST_SECRET };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env });
const variableOf = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.variable;
    throw error;
  }
  return null;
};

describe('abuse-limit configuration', () => {
  it('has production defaults: no proxy trusted, limits on', () => {
    const c = load({});
    expect(c.trustProxy).toBe(false);
    expect(c.rateLimit).toEqual({
      enabled: true,
      anonymousPerMinute: 60,
      tokenPerMinute: 600,
      conversationStartsPerMinute: 10,
      conversationsPerAddressPerHour: 60,
      guestMessagesPerMinute: 20,
      authFailuresPerMinute: 30,
    });
    expect(c.maxGuestMessagesPerConversation).toBe(300);
    expect(c.messageTextMaxLength).toBe(4000);
  });

  it.each([
    ['false', false],
    ['true', true],
    ['10.0.0.1', ['10.0.0.1']],
    ['loopback, 10.0.0.0/8, fd00::/8', ['loopback', '10.0.0.0/8', 'fd00::/8']],
  ])('TRUST_PROXY=%s', (raw, expected) => {
    expect(load({ TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it.each(['2', 'yes', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/1'])('refuses TRUST_PROXY=%s naming the variable', (raw) => {
    expect(variableOf({ TRUST_PROXY: raw })).toBe('TRUST_PROXY');
  });

  it.each([
    ['RATE_LIMIT_ENABLED', 'off'],
    ['RATE_LIMIT_ANONYMOUS_PER_MINUTE', '0'],
    ['RATE_LIMIT_TOKEN_PER_MINUTE', 'many'],
    ['RATE_LIMIT_CONVERSATION_STARTS_PER_MINUTE', '-1'],
    ['CONVERSATIONS_PER_ADDRESS_PER_HOUR', '1.5'],
    ['RATE_LIMIT_GUEST_MESSAGES_PER_MINUTE', '0'],
    ['RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', 'x'],
    ['MAX_GUEST_MESSAGES_PER_CONVERSATION', '0'],
    ['MESSAGE_TEXT_MAX_LENGTH', '4001'],
  ])('refuses %s=%s naming the variable', (name, raw) => {
    expect(variableOf({ [name]: raw })).toBe(name);
  });

  it('RATE_LIMIT_ENABLED=false switches the limits off (benchmarks)', () => {
    expect(load({ RATE_LIMIT_ENABLED: 'false' }).rateLimit.enabled).toBe(false);
  });
});
