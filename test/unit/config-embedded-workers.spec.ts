/** EMBEDDED_WORKERS (README "Configuration"): where `npm start` runs the log consumers on the embedded store. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { ConfigError, EMBEDDED_WORKER_CHILD_ENV, loadConfig } from '../../src/config.js';
import { runsWorkersInChild } from '../../src/embedded-workers.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_SECRET } from '../support/test-app.js';

const tmp = tempDir('lct-config-workers-');
afterAll(() => tmp.cleanup());
const embedded = { DATA_DIR: join(tmp.dir, 'data'), AUTH_JWT_SECRET: TEST_SECRET };

describe('EMBEDDED_WORKERS', () => {
  it('defaults to a child process on the embedded store with every role; inline keeps one process', () => {
    expect(loadConfig(embedded).embeddedWorkers).toBe('process');
    expect(runsWorkersInChild(loadConfig(embedded))).toBe(true);
    expect(runsWorkersInChild(loadConfig({ ...embedded, EMBEDDED_WORKERS: 'inline' }))).toBe(false);
  });

  it('splits nothing with a store URL: production chooses its processes with ROLES', () => {
    expect(runsWorkersInChild(loadConfig({ ...embedded, REDIS_URL: 'redis://127.0.0.1:1' }))).toBe(false);
  });

  it('refuses anything else, naming the variable', () => {
    expect(() => loadConfig({ ...embedded, EMBEDDED_WORKERS: 'thread' })).toThrow(new ConfigError('EMBEDDED_WORKERS', 'must be process or inline (got "thread")'));
  });

  it('split ROLES on the embedded store stay refused, except in the child the service forks itself', () => {
    expect(() => loadConfig({ ...embedded, ROLES: 'projector,worker' })).toThrow(ConfigError);
    expect(loadConfig({ ...embedded, ROLES: 'projector,worker', [EMBEDDED_WORKER_CHILD_ENV]: '1' }).roles).toEqual(['projector', 'worker']);
  });
});
