/**
 * The LeaseStore contract against both adapters: SQLite on a temp file (several connections
 * to it stand for several processes), and the MongoDB adapter on the FerretDB the global setup
 * starts (MONGODB_URL), in a database of its own.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { MongoLeaseStore } from '../../src/adapters/mongo/mongo-lease-store.js';
import { SqliteLeaseStore } from '../../src/adapters/sqlite/sqlite-lease-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { tempDir } from '../support/temp-dir.js';
import { leaseStoreContract } from './lease-store.contract.js';
import { ferretDatabase } from '../support/ferretdb.js';

const tmp = tempDir('lct-leases-');
afterAll(() => tmp.cleanup());

describe('SqliteLeaseStore', () => {
  const file = join(tmp.dir, 'read-models.db');
  leaseStoreContract('SqliteLeaseStore', async () => new SqliteLeaseStore(file));

  it('gives a free or expired lease to exactly one of several real processes contending at once', async () => {
    // dist/ is built by `npm test` (as for the crash-recovery test): each child is a separate process.
    const module = new URL('../../dist/adapters/sqlite/sqlite-lease-store.js', import.meta.url).href;
    const seed = new SqliteLeaseStore(file);
    const rounds = 6;
    const prefix = `procs-${randomBytes(3).toString('hex')}`;
    for (let r = 1; r < rounds; r += 2) await seed.tryAcquire(`${prefix}-${r}`, 'dead', 1); // odd rounds: expired
    await seed.close();
    const startAt = Date.now() + 1500;
    const child = `
      const { SqliteLeaseStore } = await import(process.argv[1]);
      const [file, prefix, owner, startAt, rounds] = process.argv.slice(2);
      const store = new SqliteLeaseStore(file);
      const results = [];
      for (let r = 0; r < Number(rounds); r++) {
        while (Date.now() < Number(startAt) + r * 150) {} // all processes start each round together
        results.push(await store.tryAcquire(prefix + '-' + r, owner, 60000));
      }
      await store.close();
      console.log(JSON.stringify(results));`;
    const outputs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        new Promise<boolean[]>((resolve, reject) =>
          execFile(
            process.execPath,
            ['--input-type=module', '-e', child, module, file, prefix, `proc-${i}`, String(startAt), String(rounds)],
            (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout) as boolean[])),
          ),
        ),
      ),
    );
    for (let r = 0; r < rounds; r++) expect(outputs.filter((results) => results[r]).length).toBe(1);
  });

  it('shares the read-model file with SqliteReadModelStore', async () => {
    const shared = join(tmp.dir, 'shared.db');
    const readModels = new SqliteReadModelStore(shared);
    const leases = new SqliteLeaseStore(shared);
    try {
      await readModels.commit('p@1', [{ collection: 'docs', doc: { _id: 'x', _pos: 1n } }], 1n);
      expect(await leases.tryAcquire('projector', 'A', 5000)).toBe(true);
      expect(await readModels.checkpoint('p@1')).toBe(1n);
    } finally {
      await leases.close();
      await readModels.close();
    }
  });
});

describe('MongoLeaseStore on FerretDB', () => {
  const { dbName, url: requireUrl } = ferretDatabase('lct_leases');

  leaseStoreContract('MongoLeaseStore (FerretDB)', () => MongoLeaseStore.connect(requireUrl(), { dbName }));

  it('prunes terms more than 100 behind the latest (recent ones stay, so stale contenders collide)', async () => {
    const a = await MongoLeaseStore.connect(requireUrl(), { dbName });
    const raw = new MongoClient(requireUrl(), { serverSelectionTimeoutMS: 5000 });
    try {
      for (let i = 0; i < 105; i++) expect(await a.tryAcquire('pruned', 'owner', 5000)).toBe(true);
      const docs = await raw.db(dbName).collection('leases').find({ name: 'pruned' }).toArray();
      const terms = docs.map((d) => d.term as number).sort((x, y) => x - y);
      expect(terms[0]).toBe(5);
      expect(terms.at(-1)).toBe(105);
      expect(terms).toHaveLength(101);
    } finally {
      await raw.close();
      await a.close();
    }
  });

  it('fails fast, naming MONGODB_URL, when nothing answers at the URL', async () => {
    await expect(MongoLeaseStore.connect('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 300 })).rejects.toThrow(/MONGODB_URL/);
  });
});
