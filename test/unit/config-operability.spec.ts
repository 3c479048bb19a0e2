/** Bind address, SSE stream caps and DATA_DIR at configuration time (README "Configuration"). */
import { afterAll, describe, expect, it } from '@jest/globals';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from '../../src/adapters/sqlite/data-dir.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const tmp = tempDir('lct-config-ops-');
afterAll(() => tmp.cleanup());
const prod = { DATA_DIR: join(tmp.dir, 'prod'), AUTH_JWT_SECRET: TEST_SECRET };

describe('operability configuration', () => {
  it('binds the demo to 127.0.0.1 and production to 0.0.0.0, unless HOST says otherwise', () => {
    const demoDir = join(tmp.dir, 'demo');
    expect(loadConfig({ DATA_DIR: demoDir }).host).toBe('127.0.0.1');
    expect(loadConfig({ DATA_DIR: demoDir, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig(prod).host).toBe('0.0.0.0');
    expect(loadConfig({ ...prod, HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
  });

  it('creates the demo DATA_DIR 0700 (its secret 0600)', () => {
    const dir = join(tmp.dir, 'fresh-demo');
    loadConfig({ DATA_DIR: dir });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'demo-jwt-secret')).mode & 0o777).toBe(0o600);
  });

  it('caps SSE streams per principal (10) and per address (500) by default; 0 turns a cap off; anything else is refused naming the variable', () => {
    expect(loadConfig(prod)).toMatchObject({ sseMaxStreamsPerPrincipal: 10, sseMaxStreamsPerAddress: 500 });
    expect(loadConfig({ ...prod, SSE_MAX_STREAMS_PER_PRINCIPAL: '0', SSE_MAX_STREAMS_PER_ADDRESS: '2000' })).toMatchObject({
      sseMaxStreamsPerPrincipal: 0,
      sseMaxStreamsPerAddress: 2000,
    });
    for (const [variable, value] of [
      ['SSE_MAX_STREAMS_PER_PRINCIPAL', '-1'],
      ['SSE_MAX_STREAMS_PER_PRINCIPAL', 'ten'],
      ['SSE_MAX_STREAMS_PER_ADDRESS', '1.5'],
    ] as const) {
      expect(() => loadConfig({ ...prod, [variable]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ ...prod, [variable]: value })).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
    }
  });

  it('slow clients: headers within 10 s and requests within 30 s by default; a request timeout below the headers timeout is refused naming it', () => {
    expect(loadConfig(prod)).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
    expect(loadConfig({ ...prod, HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '5000' })).toMatchObject({ headersTimeoutMs: 2000, requestTimeoutMs: 5000 });
    expect(() => loadConfig({ ...prod, HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '2000' })).toThrow(/REQUEST_TIMEOUT_MS must be at least HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ ...prod, HEADERS_TIMEOUT_MS: '0' })).toThrow(ConfigError);
  });

  it('a demo DATA_DIR that is a file is a DataFileError naming it', () => {
    const file = join(tmp.dir, 'not-a-dir');
    writeFileSync(file, 'x');
    expect(() => loadConfig({ DATA_DIR: file })).toThrow(DataFileError);
    expect(() => loadConfig({ DATA_DIR: file })).toThrow(`Cannot use ${file} (DATA_DIR=${file}): it (or a parent) exists and is not a directory`);
  });
});
