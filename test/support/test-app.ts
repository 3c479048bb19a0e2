/** An in-process app on a real SQLite data dir and a real loopback port, plus token minting. */
import { TokenService } from '../../src/adapters/http/auth/token.service.js';
import { CommandBus } from '@nestjs/cqrs';
import { type App, createApp } from '../../src/app.js';
import { RegisterProperty } from '../../src/application/commands/register-property.js';
import { loadConfig } from '../../src/config.js';
import { tempDir } from './temp-dir.js';
import { TEST_PROPERTIES, TEST_RATE_LIMITS } from './test-env.js';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';

export interface TestApp extends App {
  url: string;
  dataDir: string;
  tokens: TokenService;
  /** `ops`: the service operator claim (`ops: true`), for GET /v1/ops/projections and rebuilds. */
  employee(id: string, propertyId?: string, role?: 'agent' | 'admin', options?: { ops?: boolean }): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}, dataDir?: string): Promise<TestApp> {
  const tmp = dataDir ? null : tempDir('lct-app-');
  const dir = dataDir ?? tmp!.dir;
  const config = loadConfig({ DATA_DIR: dir, AUTH_JWT_SECRET: TEST_SECRET, SSE_HEARTBEAT_MS: '1000', ...TEST_RATE_LIMITS, ...env });
  const app = await createApp(config, { logger: false });
  // The property ids the suites use are known, registered as `properties add` does (test-env.ts).
  const commands = app.app.get(CommandBus);
  const at = new Date().toISOString();
  await Promise.all(TEST_PROPERTIES.map((id) => commands.execute(new RegisterProperty(id, 'cli', 'operator', at))));
  await app.app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.app.getHttpServer().address() as { port: number };
  // Mints employee tokens as the identity provider would for this config (HS256, its iss/aud); never JWKS.
  const { issuer, audience, maxTokenLifetimeSeconds } = config.auth;
  const tokens = new TokenService({ secret: config.jwtSecret, issuer, audience, maxLifetimeSeconds: maxTokenLifetimeSeconds });
  return {
    ...app,
    url: `http://127.0.0.1:${address.port}`,
    dataDir: dir,
    tokens,
    employee: (id, propertyId = 'hotel-a', role = 'agent', options = {}) =>
      tokens.employeeToken({ id, propertyId, role, name: `Employee ${id}`, ...(options.ops ? { ops: true } : {}) }),
    async stop() {
      await app.close();
      tmp?.cleanup();
    },
  };
}
