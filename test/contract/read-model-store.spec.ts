/**
 * The ReadModelStore contract against both adapters: SQLite on a temp file, and MongoDB's
 * adapter on the FerretDB the global setup starts (MONGODB_URL), in a database of its own.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { MongoReadModelStore } from '../../src/adapters/mongo/mongo-read-model-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { tempDir } from '../support/temp-dir.js';
import { readModelStoreContract } from './read-model-store.contract.js';
import { ferretDatabase } from '../support/ferretdb.js';

const tmp = tempDir('lct-read-models-');
afterAll(() => tmp.cleanup());

readModelStoreContract('SqliteReadModelStore', async () => new SqliteReadModelStore(join(tmp.dir, 'read-models.db')));

describe('MongoReadModelStore on FerretDB', () => {
  const { dbName, url: requireUrl } = ferretDatabase('lct_contract');

  readModelStoreContract('MongoReadModelStore (FerretDB)', () => MongoReadModelStore.connect(requireUrl(), { dbName }));

  describe('storage layout and connection', () => {
    let raw: MongoClient;

    beforeAll(async () => {
      raw = new MongoClient(requireUrl(), { useBigInt64: true, serverSelectionTimeoutMS: 5000 });
      await raw.connect();
    });

    afterAll(async () => {
      await raw?.close();
    });

    it('stores documents as { _id, _pos: int64, ...body } and checkpoints as { _id: projector, position: int64 }', async () => {
      const store = await MongoReadModelStore.connect(requireUrl(), { dbName });
      try {
        const big = 2n ** 53n + 1n;
        const written = { _id: 'x', _pos: 5n, a: { b: [1] } };
        await store.commit('layout@1', [{ collection: 'layout_docs', doc: written }], big);
        // promoteLongs off: int64 values come back as Long, so their BSON type is visible.
        const plain = new MongoClient(requireUrl(), { promoteLongs: false, serverSelectionTimeoutMS: 5000 });
        await plain.connect();
        try {
          const doc = await plain.db(dbName).collection('layout_docs').findOne({ _id: 'x' as never });
          expect(doc).toMatchObject({ _id: 'x', a: { b: [1] } });
          expect(doc!._pos._bsontype).toBe('Long');
          expect(doc!._pos.toString()).toBe('5');
          const checkpoint = await plain.db(dbName).collection('checkpoints').findOne({ _id: 'layout@1' as never });
          expect(checkpoint!.position._bsontype).toBe('Long');
          expect(checkpoint!.position.toString()).toBe(big.toString());
        } finally {
          await plain.close();
        }
        expect(await raw.db(dbName).collection('checkpoints').findOne({ _id: 'layout@1' as never })).toEqual({
          _id: 'layout@1',
          position: big,
        });
      } finally {
        await store.close();
      }
    });

    it('refuses "checkpoints" as a read-model collection name', async () => {
      const store = await MongoReadModelStore.connect(requireUrl(), { dbName });
      try {
        await expect(store.get('checkpoints', 'x')).rejects.toThrow(/reserved/);
      } finally {
        await store.close();
      }
    });

    it('fails fast, naming MONGODB_URL, when nothing answers at the URL', async () => {
      const started = Date.now();
      await expect(
        MongoReadModelStore.connect('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 300 }),
      ).rejects.toThrow(/MONGODB_URL/);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('fails naming MONGODB_URL (without the password) when the URL is malformed', async () => {
      await expect(MongoReadModelStore.connect('not-a-url')).rejects.toThrow(/MONGODB_URL/);
      const error = await MongoReadModelStore.connect('mongodb://user:secret@127.0.0.1:1/?bogusOption=1&w=banana', {
        serverSelectionTimeoutMS: 300,
      }).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/MONGODB_URL/);
      expect((error as Error).message).not.toContain('secret');
    });
  });
});
