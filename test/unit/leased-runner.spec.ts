/**
 * LeasedRunner on a real SqliteLeaseStore: one store instance per runner on one file, as
 * separate processes would have. Short ttls keep it fast.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { SqliteLeaseStore } from '../../src/adapters/sqlite/sqlite-lease-store.js';
import { LeasedRunner, type LeasedRunnerOptions, leaseOwnerId } from '../../src/application/processing/leased-runner.js';
import { tempDir } from '../support/temp-dir.js';

const tmp = tempDir('lct-leased-runner-');
afterAll(() => tmp.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
  return Date.now() - started;
}

describe('LeasedRunner', () => {
  let file: string;
  let counter = 0;
  const cleanup: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A runner over its own store connection, with a log of what its work did and when. */
  function runner(name: string, log: string[], id: string, options: Partial<LeasedRunnerOptions> = {}) {
    const store = new SqliteLeaseStore(file);
    const r = new LeasedRunner(store, {
      name,
      owner: id,
      ttlMs: 300,
      start: async () => {
        log.push(`${id}:start`);
      },
      stop: async () => {
        log.push(`${id}:stop`);
      },
      ...options,
    });
    cleanup.push(async () => {
      await r.stop();
      await store.close();
    });
    return { runner: r, store };
  }

  const fresh = () => {
    file = join(tmp.dir, `leases-${++counter}.db`);
    return `lease-${counter}`;
  };

  it('gives each runner a default owner id hostname:pid:random', () => {
    const id = leaseOwnerId();
    expect(id).toMatch(new RegExp(`^.+:${process.pid}:[0-9a-f]{8}$`));
    expect(leaseOwnerId()).not.toBe(id);
  });

  it('a lone runner starts its work before start() resolves', async () => {
    const name = fresh();
    const log: string[] = [];
    const { runner: a } = runner(name, log, 'A', { ttlMs: 5000 });
    const started = Date.now();
    await a.start();
    expect(Date.now() - started).toBeLessThan(200); // no wait for a renew interval
    expect(log).toEqual(['A:start']);
    expect(a.running).toBe(true);
  });

  it('of two runners on one lease exactly one runs, and it keeps the lease by renewing', async () => {
    const name = fresh();
    const log: string[] = [];
    const { runner: a } = runner(name, log, 'A');
    const { runner: b, store } = runner(name, log, 'B');
    await a.start();
    await b.start();
    await sleep(1000); // more than 3 ttls: A renews, B keeps trying
    expect(log).toEqual(['A:start']);
    expect(a.running).toBe(true);
    expect(b.running).toBe(false);
    expect((await store.holder(name))?.owner).toBe('A');
  });

  it('when the holder dies without releasing, the other takes over once the lease expires', async () => {
    const name = fresh();
    const log: string[] = [];
    const { runner: a } = runner(name, log, 'A');
    const { runner: b } = runner(name, log, 'B');
    await a.start();
    await b.start();
    await sleep(150);
    const killed = Date.now();
    await a.stop({ release: false }); // a crash, as far as the lease is concerned
    await until(() => b.running, 2000, 'B to take over');
    const elapsed = Date.now() - killed;
    // Not before A's lease ran out (it was renewed at most ttl/3 before the kill), and within ttl + one retry.
    expect(elapsed).toBeGreaterThanOrEqual(300 - 100 - 20);
    expect(elapsed).toBeLessThan(300 + 100 + 150);
    expect(log).toEqual(['A:start', 'A:stop', 'B:start']);
  });

  it('a graceful stop releases the lease, so the other takes over within one retry interval', async () => {
    const name = fresh();
    const log: string[] = [];
    const { runner: a } = runner(name, log, 'A', { ttlMs: 3000 });
    const { runner: b } = runner(name, log, 'B', { ttlMs: 3000, retryEveryMs: 50 });
    await a.start();
    await b.start();
    await a.stop();
    await until(() => b.running, 500, 'B to take over after the release');
    expect(log).toEqual(['A:start', 'A:stop', 'B:start']);
  });

  it('a holder that cannot renew stops its work before anyone else starts, and the stop is awaited', async () => {
    const name = fresh();
    const log: string[] = [];
    const times: Record<string, number> = {};
    // A 3 s lease (1 s safety margin): with the 300 ms default here, a loaded machine's timer
    // jitter alone could eat the 100 ms margin, and this test is about the order, not speed.
    const { runner: a, store: aStore } = runner(name, log, 'A', {
      ttlMs: 3000,
      stop: async () => {
        log.push('A:stopping');
        await sleep(50); // e.g. the batch in flight finishing
        times.aStopped = Date.now();
        log.push('A:stopped');
      },
    });
    const { runner: b } = runner(name, log, 'B', {
      ttlMs: 3000,
      retryEveryMs: 10,
      start: async () => {
        times.bStarted = Date.now();
        log.push('B:start');
      },
    });
    await a.start();
    await b.start();
    expect(a.running).toBe(true);
    await aStore.close(); // every renewal now fails with an error; no answer "false" ever comes
    await until(() => b.running, 15000, 'B to take over');
    expect(log).toEqual(['A:start', 'A:stopping', 'A:stopped', 'B:start']);
    expect(times.aStopped!).toBeLessThan(times.bStarted!);
    expect(a.running).toBe(false);
  });

  it('stops at once when a renewal finds the lease taken', async () => {
    const name = fresh();
    const log: string[] = [];
    const { runner: a } = runner(name, log, 'A', { ttlMs: 3000 });
    await a.start();
    // Someone else holds it now (as if A had been paused past its expiry and lost it).
    const db = new Database(file);
    db.prepare('UPDATE leases SET owner = ?, expires_at = ? WHERE name = ?').run('intruder', Date.now() + 60_000, name);
    db.close();
    const waited = await until(() => !a.running, 2000, 'A to stop');
    expect(waited).toBeLessThan(1000 + 100); // the next renewal (ttl/3), not the expiry
    expect(log).toEqual(['A:start', 'A:stop']);
  });

  it('retries a work start that failed on the next renewal', async () => {
    const name = fresh();
    const log: string[] = [];
    let failures = 1;
    const { runner: a } = runner(name, log, 'A', {
      start: async () => {
        if (failures-- > 0) throw new Error('not yet');
        log.push('A:start');
      },
    });
    await a.start();
    expect(a.running).toBe(false);
    await until(() => a.running, 1000, 'the retried start');
    expect(log).toEqual(['A:start']);
  });

  it('stop() while the work is starting leaves it stopped and the lease free', async () => {
    const name = fresh();
    const log: string[] = [];
    const { runner: a, store } = runner(name, log, 'A', {
      start: async () => {
        await sleep(50);
        log.push('A:start');
      },
    });
    const starting = a.start();
    await sleep(10);
    await a.stop();
    await starting;
    expect(a.running).toBe(false);
    expect(log).toEqual(['A:start', 'A:stop']);
    expect(await store.holder(name)).toBeNull();
  });
});
