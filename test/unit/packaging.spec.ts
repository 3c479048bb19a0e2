/**
 * What ships around the code: the Node versions we claim and test, the Docker image, the compose
 * file, and the build `npm start` runs. Read from the files themselves, so a drift fails here.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;
const read = (file: string) => readFileSync(root + file, 'utf8');

describe('packaging', () => {
  const dockerfile = read('docker/Dockerfile');
  const nodeVersion = /^ARG NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(dockerfile);

  it('the Docker image runs one pinned Node 24 release, under an init process, with a readiness healthcheck', () => {
    expect(nodeVersion?.[1]).toBe('24');
    const froms = dockerfile.split('\n').filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^FROM node:\$\{NODE_VERSION\}-/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/health\/ready/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('CI runs the suite on the Node 20 line and on exactly the image\'s Node 24 release', () => {
    const ci = read('.ci/run');
    expect(ci).toMatch(/bash scripts\/node24\.sh/);
    expect(ci).toMatch(/npm_config_nodedir="\$node24" npm rebuild better-sqlite3/);
    expect(ci).toMatch(/PATH="\$node24\/bin:\$PATH" npm test/);
    expect(read('scripts/node24.sh')).toMatch(/ARG NODE_VERSION=/);
  });

  it('package.json and the README state the same supported Node lines', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('^20.19.0 || ^24.0.0');
    expect(read('README.md')).toMatch(/Node\.js 20\.19\+ and 24/);
    const [major] = process.versions.node.split('.');
    expect(['20', '24']).toContain(major);
  });

  it('compose: no obsolete version key; every app waits for healthy stores; SIGTERM gets time to drain', () => {
    const compose = parse(read('docker/compose.yml'), { merge: true }) as {
      version?: unknown;
      services: Record<string, { healthcheck?: unknown; depends_on?: Record<string, { condition: string }>; stop_grace_period?: string; image?: string }>;
    };
    expect(compose.version).toBeUndefined();
    const stores = ['eventstore', 'mongo', 'redis'];
    for (const store of stores) expect(compose.services[store]?.healthcheck).toBeDefined();
    const apps = Object.entries(compose.services).filter(([name]) => !stores.includes(name));
    expect(apps.map(([name]) => name).sort()).toEqual(['api-a', 'api-b', 'projector', 'worker']);
    for (const [, app] of apps) {
      expect(app.depends_on).toEqual(Object.fromEntries(stores.map((s) => [s, { condition: 'service_healthy' }])));
      expect(app.stop_grace_period).toBe('10s');
    }
  });

  it('the CLI is runnable as `npx live-chat-tickets` in a fresh clone: the build makes its bin executable', () => {
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin['live-chat-tickets']).toBe('dist/cli.js');
    // npm ci links bins before anything is built, so it cannot chmod dist/cli.js; the build does.
    expect(pkg.scripts.postbuild).toBe('chmod +x dist/cli.js');
    expect(read('src/cli.ts').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('npm start compiles nothing when nothing changed (incremental build)', () => {
    const tsc = root + 'node_modules/.bin/tsc';
    execFileSync(tsc, ['-b', 'tsconfig.build.json'], { cwd: root });
    const dry = execFileSync(tsc, ['-b', 'tsconfig.build.json', '--dry'], { cwd: root, encoding: 'utf8' });
    expect(dry).toMatch(/is up to date/);
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.build).toBe('tsc -b tsconfig.build.json');
  }, 120_000);
});
