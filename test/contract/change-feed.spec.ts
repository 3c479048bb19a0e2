import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { SqliteChangeFeed } from '../../src/adapters/sqlite/sqlite-change-feed.js';
import { RedisChangeFeed, type RedisChangeFeedOptions } from '../../src/adapters/redis/redis-change-feed.js';
import type { ChangeEntry } from '../../src/application/ports/change-feed.js';
import { tempDir } from '../support/temp-dir.js';
import { change, changeFeedContract, sleep, waitFor } from './change-feed.contract.js';

const feedDir = tempDir('lct-change-feed-');
afterAll(() => feedDir.cleanup());
const feedFile = () => join(feedDir.dir, `${randomUUID()}.db`);

changeFeedContract('SqliteChangeFeed', async (options) => new SqliteChangeFeed(feedFile(), { capacity: options?.capacity }));

/**
 * `npm start`'s split (src/embedded-workers.ts): the child publishes on its connection, then
 * tells the parent, whose cross-process feed catches up from the file; reads and listeners are the parent's.
 */
changeFeedContract('SqliteChangeFeed, cross-process mode (publisher and listeners on two connections)', async (options) => {
  const file = feedFile();
  const publisher = new SqliteChangeFeed(file, { capacity: options?.capacity });
  const follower = new SqliteChangeFeed(file, { crossProcess: true });
  return {
    async publish(entries) {
      await publisher.publish(entries);
      follower.catchUp(); // the child's `published` note over IPC
    },
    readAfter: (afterId, limit) => follower.readAfter(afterId, limit),
    lastId: () => follower.lastId(),
    subscribe: (listener) => follower.subscribe(listener),
    async close() {
      await publisher.close();
      await follower.close();
    },
  };
});

describe('SqliteChangeFeed (embedded only)', () => {
  const ids = (entries: ChangeEntry[]) => entries.map((e) => e.id);

  it('keeps its entries, its newest id and what it dropped across a reopen of the file', async () => {
    const file = feedFile();
    const first = new SqliteChangeFeed(file, { capacity: 3 });
    await first.publish(['1-0', '2-0', '3-0', '4-0', '5-0'].map((id) => change(id)));
    await first.close();

    const reopened = new SqliteChangeFeed(file, { capacity: 3, startAfter: '99-0' }); // startAfter is for a new file only
    try {
      expect(await reopened.lastId()).toBe('5-0');
      expect(ids((await reopened.readAfter('2-0', 10)).entries)).toEqual(['3-0', '4-0', '5-0']);
      expect(await reopened.readAfter('1-0', 10)).toEqual({ entries: [], tooOld: true });
      await reopened.publish([change('5-0'), change('6-0')]); // 5-0 was published before the reopen: skipped
      expect(ids((await reopened.readAfter('3-0', 10)).entries)).toEqual(['4-0', '5-0', '6-0']);
    } finally {
      await reopened.close();
    }
  });

  it('moves the entries of a file written before the rowid table (`change_feed`, WITHOUT ROWID) over, once', async () => {
    const file = feedFile();
    const legacy = new Database(file);
    const key = (id: string) => id.split('-').map((part, i) => part.padStart(i === 0 ? 19 : 9, '0')).join('-');
    legacy.exec(`CREATE TABLE change_feed (key TEXT PRIMARY KEY, entry TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE change_feed_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO change_feed_meta (name, value) VALUES ('floor', '1-0');`);
    const insert = legacy.prepare('INSERT INTO change_feed (key, entry) VALUES (?, ?)');
    for (const id of ['2-0', '2-1', '10-0']) insert.run(key(id), JSON.stringify(change(id)));
    legacy.close();

    const feed = new SqliteChangeFeed(file);
    try {
      expect(await feed.lastId()).toBe('10-0');
      expect(ids((await feed.readAfter('1-0', 10)).entries)).toEqual(['2-0', '2-1', '10-0']);
      expect(await feed.readAfter('0-5', 10)).toEqual({ entries: [], tooOld: true });
      await feed.publish([change('10-0'), change('11-0')]);
      expect(ids((await feed.readAfter('2-1', 10)).entries)).toEqual(['10-0', '11-0']);
    } finally {
      await feed.close();
    }
    const after = new Database(file, { readonly: true });
    expect(after.prepare(`SELECT name FROM sqlite_master WHERE name = 'change_feed'`).all()).toEqual([]);
    after.close();
    const reopened = new SqliteChangeFeed(file);
    expect(ids((await reopened.readAfter('1-0', 10)).entries)).toEqual(['2-0', '2-1', '10-0', '11-0']);
    await reopened.close();
  });

  it('a new file starts after startAfter: ids at or below it are too old, later ones are kept', async () => {
    const feed = new SqliteChangeFeed(feedFile(), { startAfter: '41-999999999' });
    try {
      expect(await feed.lastId()).toBe('41-999999999');
      expect(await feed.readAfter('41-0', 10)).toEqual({ entries: [], tooOld: true });
      expect(await feed.readAfter('41-999999999', 10)).toEqual({ entries: [], tooOld: false });
      await feed.publish([change('41-5'), change('42-0')]); // 41-5 precedes the start: skipped
      expect(ids((await feed.readAfter('41-999999999', 10)).entries)).toEqual(['42-0']);
    } finally {
      await feed.close();
    }
  });

  it('a file left from another log (entries beyond the log head) starts over, so the new log is not skipped as a republish', async () => {
    const file = feedFile();
    const old = new SqliteChangeFeed(file);
    await old.publish([change('40-0'), change('50-0')]);
    await old.close();
    const kept = new SqliteChangeFeed(file, { logHead: 50n, startAfter: '0-999999999' });
    expect(await kept.lastId()).toBe('50-0'); // its own log: kept
    await kept.close();

    const reset = new SqliteChangeFeed(file, { logHead: 3n, startAfter: '0-999999999' });
    try {
      expect(await reset.lastId()).toBe('0-999999999');
      expect(await reset.readAfter('40-0', 10)).toEqual({ entries: [], tooOld: false }); // above lastId: SSE says "ahead"
      await reset.publish([change('4-0')]);
      expect(ids((await reset.readAfter('0-999999999', 10)).entries)).toEqual(['4-0']);
    } finally {
      await reset.close();
    }
  });

  it('cross-process mode: listeners get what another connection published once told, in order, each once; a local feed would not see it', async () => {
    const file = feedFile();
    const publisher = new SqliteChangeFeed(file);
    const follower = new SqliteChangeFeed(file, { crossProcess: true });
    const local = new SqliteChangeFeed(file);
    const got: string[] = [];
    const gotLocally: string[] = [];
    follower.subscribe((e) => got.push(e.id));
    local.subscribe((e) => gotLocally.push(e.id));
    try {
      await publisher.publish([change('1-0'), change('1-1')]);
      expect(got).toEqual([]); // not told yet
      await publisher.publish([change('2-0')]);
      follower.catchUp();
      expect(got).toEqual(['1-0', '1-1', '2-0']);
      follower.catchUp(); // told twice: nothing twice
      await publisher.publish([change('2-0'), change('3-0')]); // a republish (a restarted child replays) is skipped
      follower.catchUp();
      expect(got).toEqual(['1-0', '1-1', '2-0', '3-0']);
      await follower.publish([change('4-0')]); // its own publishes reach its listeners too
      expect(got).toEqual(['1-0', '1-1', '2-0', '3-0', '4-0']);
      // 2,500 entries at once: delivered page by page, all in order.
      await publisher.publish(Array.from({ length: 2500 }, (_, i) => change(`${i + 5}-0`)));
      follower.catchUp();
      expect(got).toHaveLength(2505);
      expect(got.slice(-1)).toEqual(['2504-0']);
      local.catchUp(); // a local feed's listeners get only its own publishes
      expect(gotLocally).toEqual([]);
    } finally {
      await Promise.all([publisher.close(), follower.close(), local.close()]);
    }
  });

  it('cross-process mode: entries dropped before they were delivered are reported as a gap; delivery goes on from the oldest kept', async () => {
    const file = feedFile();
    const publisher = new SqliteChangeFeed(file, { capacity: 3 });
    const gaps: string[] = [];
    const follower = new SqliteChangeFeed(file, { crossProcess: true, onGap: (id) => gaps.push(id) });
    const got: string[] = [];
    follower.subscribe((e) => got.push(e.id));
    try {
      await publisher.publish([change('1-0')]);
      follower.catchUp();
      await publisher.publish(['2-0', '3-0', '4-0', '5-0', '6-0'].map((id) => change(id)));
      follower.catchUp();
      expect(gaps).toEqual(['1-0']);
      expect(got).toEqual(['1-0', '4-0', '5-0', '6-0']);
      follower.catchUp();
      expect(gaps).toEqual(['1-0']);
    } finally {
      await Promise.all([publisher.close(), follower.close()]);
    }
  });

  it('writes one transaction per publish, however many entries it carries', async () => {
    const file = feedFile();
    const feed = new SqliteChangeFeed(file);
    const walPages = () => statSync(`${file}-wal`).size / 4096;
    try {
      await feed.publish([change('1-0')]);
      const start = walPages();
      await feed.publish(Array.from({ length: 200 }, (_, i) => change(`${i + 2}-0`)));
      const oneBatch = walPages() - start;
      // A commit appends every page it changed to the WAL: a transaction per entry would cost at least 200 pages.
      expect(oneBatch).toBeGreaterThan(0);
      expect(oneBatch).toBeLessThan(200 / 4);
      expect(ids((await feed.readAfter('0-0', 1000)).entries)).toHaveLength(201);
    } finally {
      await feed.close();
    }
  });
});

function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error(
      'REDIS_URL is not set: the RedisChangeFeed tests need a Redis. Jest globalSetup starts one with ' +
        'scripts/services.sh (or export REDIS_URL yourself). These tests are never skipped.',
    );
  }
  return url;
}

describe('RedisChangeFeed', () => {
  const keys: string[] = [];
  const feeds: RedisChangeFeed[] = [];
  let admin: Redis | undefined;

  const newKey = () => {
    const key = `lct:test:${randomUUID()}:changes`;
    keys.push(key);
    return key;
  };
  const connect = async (options: RedisChangeFeedOptions & { url?: string } = {}) => {
    const feed = await RedisChangeFeed.connect(options.url ?? redisUrl(), options);
    feeds.push(feed);
    return feed;
  };
  const idsOf = (entries: ChangeEntry[]) => entries.map((e) => e.id);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}-0`);

  beforeAll(async () => {
    admin = new Redis(redisUrl(), { lazyConnect: true, protocol: 2, maxRetriesPerRequest: 1 });
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(feeds.splice(0).map((feed) => feed.close()));
  });

  afterAll(async () => {
    if (admin && keys.length > 0) await admin.del(...keys);
    admin?.disconnect();
  });

  changeFeedContract('RedisChangeFeed', (options) => connect({ key: newKey(), capacity: options?.capacity }));

  describe('connect', () => {
    it('fails fast, naming REDIS_URL, when nothing listens', async () => {
      const started = Date.now();
      await expect(RedisChangeFeed.connect('redis://127.0.0.1:1', { connectTimeoutMs: 1000 })).rejects.toThrow(/REDIS_URL=redis:\/\/127\.0\.0\.1:1/);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('fails within connectTimeoutMs, naming REDIS_URL, when the server never answers', async () => {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as net.AddressInfo).port;
      try {
        const started = Date.now();
        await expect(RedisChangeFeed.connect(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 500 })).rejects.toThrow(/REDIS_URL/);
        expect(Date.now() - started).toBeLessThan(2000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('rejects a malformed REDIS_URL, without echoing a password', async () => {
      await expect(RedisChangeFeed.connect('not a url')).rejects.toThrow(/REDIS_URL/);
      await expect(RedisChangeFeed.connect('http://127.0.0.1:6379')).rejects.toThrow(/REDIS_URL must use redis: or rediss:/);
      const failure = RedisChangeFeed.connect('redis://user:s3cret@127.0.0.1:1', { connectTimeoutMs: 500 });
      await expect(failure).rejects.toThrow(/REDIS_URL=redis:\/\/user:\*\*\*@127\.0\.0\.1:1/);
      await expect(failure).rejects.not.toThrow(/s3cret/);
    });
  });

  it('a change published through one instance reaches subscribers of other instances', async () => {
    const key = newKey();
    const [publisher, apiA, apiB] = await Promise.all([connect({ key }), connect({ key }), connect({ key })]);
    const a: string[] = [];
    const b: string[] = [];
    apiA.subscribe((e) => a.push(e.id));
    apiA.subscribe((e) => a.push(`again:${e.id}`));
    apiB.subscribe((e) => b.push(e.id));
    await Promise.all([apiA.lastId(), apiB.lastId()]);

    await publisher.publish([change('1-0'), change('1-1')]);
    await publisher.publish([change('1-1'), change('2-0')]); // 1-1 is a republish
    await waitFor(() => a.length >= 6 && b.length >= 3, 'both instances to get 3 entries');
    expect(b).toEqual(['1-0', '1-1', '2-0']);
    expect(a.filter((id) => !id.startsWith('again:'))).toEqual(['1-0', '1-1', '2-0']);
    expect(a.filter((id) => id.startsWith('again:'))).toEqual(['again:1-0', 'again:1-1', 'again:2-0']);
    expect(idsOf((await apiB.readAfter('1-0', 10)).entries)).toEqual(['1-1', '2-0']);
  });

  it('a stream that was lost (Redis restarted without persistence, or reset) answers lastId 0-0: earlier ids are ahead', async () => {
    const key = newKey();
    const feed = await connect({ key });
    await feed.publish([change('41-0'), change('42-0')]);
    expect(await feed.lastId()).toBe('42-0');
    await admin!.del(key);
    expect(await feed.lastId()).toBe('0-0');
    expect(await feed.readAfter('42-0', 10)).toEqual({ entries: [], tooOld: false });
  });

  it('publishes a batch in one round-trip', async () => {
    const key = newKey();
    const feed = await connect({ key });
    const monitor = new Redis(redisUrl(), { protocol: 2 });
    const commands: string[] = [];
    try {
      const m = await monitor.monitor();
      m.on('monitor', (_time: string, args: string[]) => {
        if (args.includes(key)) commands.push(String(args[0]).toLowerCase());
      });
      await sleep(50);
      await feed.publish(range(1, 20).map((id) => change(id)));
      await waitFor(() => commands.some((c) => c.startsWith('eval')), 'the publish to show up in MONITOR');
      await sleep(50);
      m.disconnect();
    } finally {
      monitor.disconnect();
    }
    // One EVALSHA (plus, the very first time on a server, the EVAL fallback); its XADDs run inside.
    const outside = commands.filter((c) => !['xadd'].includes(c));
    expect(outside.length).toBeGreaterThanOrEqual(1);
    expect(outside.every((c) => c === 'evalsha' || c === 'eval')).toBe(true);
    expect(commands.filter((c) => c === 'evalsha').length).toBeLessThanOrEqual(1);
    expect(idsOf((await feed.readAfter('0-0', 100)).entries)).toEqual(range(1, 20));
  });

  describe('when the connection is lost', () => {
    it('a subscriber resumes from its last delivered id and gets, in order, what was published while it was cut off', async () => {
      const key = newKey();
      const proxy = await FlakyProxy.start(redisPort());
      try {
        const subscriber = await connect({ key, url: `redis://127.0.0.1:${proxy.port}` });
        const publisher = await connect({ key });
        const received: string[] = [];
        subscriber.subscribe((e) => received.push(e.id));
        await subscriber.lastId();
        await publisher.publish(range(1, 3).map((id) => change(id)));
        await waitFor(() => received.length >= 3, 'the first 3 entries');

        proxy.cut();
        await publisher.publish(range(4, 10).map((id) => change(id)));
        await publisher.publish(range(11, 20).map((id) => change(id)));
        await sleep(400);
        expect(received).toEqual(range(1, 3)); // really cut off
        expect(proxy.refused).toBeGreaterThan(0); // and really trying to reconnect

        proxy.restore();
        await waitFor(() => received.length >= 20, 'the entries published during the outage', 10_000);
        await publisher.publish([change('21-0')]);
        await waitFor(() => received.length >= 21, 'a live entry after reconnecting');
        expect(received).toEqual(range(1, 21));
      } finally {
        await proxy.close();
      }
    });

    it('reports a gap (onGap) when the stream was trimmed past its last delivered id meanwhile', async () => {
      const key = newKey();
      const proxy = await FlakyProxy.start(redisPort());
      try {
        const gaps: string[] = [];
        const subscriber = await connect({ key, url: `redis://127.0.0.1:${proxy.port}`, onGap: (id) => gaps.push(id) });
        const publisher = await connect({ key, capacity: 5 });
        const received: string[] = [];
        subscriber.subscribe((e) => received.push(e.id));
        await subscriber.lastId();
        await publisher.publish(range(1, 3).map((id) => change(id)));
        await waitFor(() => received.length >= 3, 'the first 3 entries');

        proxy.cut();
        for (let i = 0; i < 6; i++) await publisher.publish(range(4 + i * 50, 3 + (i + 1) * 50).map((id) => change(id)));
        await sleep(200);
        proxy.restore();
        await waitFor(() => received[received.length - 1] === '303-0', 'the newest entry after reconnecting', 10_000);
        expect(gaps).toEqual(['3-0']);
        // What was still retained arrives in order, without duplicates.
        const after = received.slice(3).map((id) => Number(id.split('-')[0]));
        expect(after.every((p, i) => i === 0 || p === after[i - 1]! + 1)).toBe(true);
        expect(after[0]).toBeGreaterThan(4);
      } finally {
        await proxy.close();
      }
    });

    it('a subscriber whose connection the server kills resumes without loss', async () => {
      const key = newKey();
      const connectionName = `lct-test-${randomUUID()}`;
      const subscriber = await connect({ key, connectionName });
      const publisher = await connect({ key });
      const received: string[] = [];
      subscriber.subscribe((e) => received.push(e.id));
      await subscriber.lastId();
      await publisher.publish(range(1, 2).map((id) => change(id)));
      await waitFor(() => received.length >= 2, 'the first 2 entries');

      const clients = String(await admin!.call('CLIENT', 'LIST')).split('\n');
      const ours = clients.filter((line) => line.includes(` name=${connectionName}`)).map((line) => /\bid=(\d+)/.exec(line)![1]!);
      expect(ours.length).toBe(2); // the command connection and the blocking one
      for (const id of ours) await admin!.call('CLIENT', 'KILL', 'ID', id);
      await publisher.publish(range(3, 12).map((id) => change(id)));

      await waitFor(() => received.length >= 12, 'the entries published after the kill', 10_000);
      expect(received).toEqual(range(1, 12));
      expect(idsOf((await subscriber.readAfter('10-0', 10)).entries)).toEqual(['11-0', '12-0']);
    });

    it('a subscriber survives a restart of the Redis server and continues in order, without loss', async () => {
      const server = await PrivateRedis.start();
      try {
        const key = newKey();
        const subscriber = await connect({ key, url: server.url });
        const publisher = await connect({ key, url: server.url });
        const received: string[] = [];
        subscriber.subscribe((e) => received.push(e.id));
        await subscriber.lastId();
        await publisher.publish(range(1, 3).map((id) => change(id)));
        await waitFor(() => received.length >= 3, 'the first 3 entries');

        await server.restart();
        // A publish may fail while the publisher reconnects; republishing is idempotent.
        await eventually(() => publisher.publish(range(4, 8).map((id) => change(id))));
        await publisher.publish(range(9, 10).map((id) => change(id)));
        await waitFor(() => received.length >= 10, 'the entries published after the restart', 10_000);
        expect(received).toEqual(range(1, 10));
        expect(idsOf((await subscriber.readAfter('0-0', 100)).entries)).toEqual(range(1, 10)); // AOF kept them
      } finally {
        await Promise.all(feeds.splice(0).map((feed) => feed.close()));
        await server.stop();
      }
    });

    it('close() is prompt while the subscriber is reconnecting', async () => {
      const proxy = await FlakyProxy.start(redisPort());
      try {
        const subscriber = await connect({ key: newKey(), url: `redis://127.0.0.1:${proxy.port}` });
        subscriber.subscribe(() => {});
        await subscriber.lastId();
        proxy.cut();
        await sleep(300);
        const started = Date.now();
        await subscriber.close();
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        await proxy.close();
      }
    });
  });
});

function redisPort(): number {
  return Number(new URL(redisUrl()).port || 6379);
}

async function eventually(action: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await action();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

/** A TCP proxy to Redis whose connections can be cut (and new ones refused) at will. */
class FlakyProxy {
  refused = 0;
  private up = true;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<FlakyProxy> {
    let proxy: FlakyProxy | undefined;
    const server = net.createServer((client) => proxy!.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new FlakyProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  cut(): void {
    this.up = false;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: net.Socket, targetPort: number): void {
    if (!this.up) {
      this.refused++;
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** A redis-server of our own (append-only file on), so restarting it disturbs no other suite. */
class PrivateRedis {
  private process: ChildProcess | null = null;

  private constructor(
    private readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateRedis> {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const server = new PrivateRedis(port, mkdtempSync(join(tmpdir(), 'lct-redis-')));
    await server.launch();
    return server;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${this.port}:\n${output}`)), 10_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run redis-server (is it installed? scripts/services.sh installs it): ${err.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  }

  private async kill(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  }
}
