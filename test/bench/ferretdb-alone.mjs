// FerretDB alone: the read-model adapter's queries and bulk writes against the server directly,
// no service in between, to tell FerretDB's own limits from ours (issue #10, item 3).
// Standalone: `node test/bench/ferretdb-alone.mjs [MONGODB_URL]` prints JSON; the production
// phase of run.mjs calls measureFerretDbAlone() too. A unique database, dropped at the end.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const body = (i) => ({ propertyId: `p${i % 7}`, status: 'open', ownerId: null, text: 'Hello, I am looking into it.'.repeat(3), seq: i });

async function timed(label, fn, times = 1) {
  process.stderr.write(`ferretdb-alone: ${label}\n`);
  const ms = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return Math.round(ms[Math.floor(ms.length / 2)] * 100) / 100;
}

/** Median ms per call of each operation the adapter uses, at each collection size. */
export async function measureFerretDbAlone(url, { sizes = [1000, 5000], repeat = 3 } = {}) {
  const { MongoClient } = await import('mongodb');
  const dbUrl = `${url.replace(/\/[^/]*$/, '')}/lct_ferret_alone_${randomBytes(4).toString('hex')}`;
  const client = new MongoClient(dbUrl, { useBigInt64: true, serverSelectionTimeoutMS: 5000, socketTimeoutMS: 20000 });
  await client.connect();
  const db = client.db();
  const out = { database: db.databaseName, unit: 'median ms per call', sizes: {} };
  try {
    for (const size of sizes) {
      const col = db.collection(`docs_${size}`);
      process.stderr.write(`ferretdb-alone: seeding ${size}\n`);
      for (let i = 0; i < size; i += 100) {
        await col.insertMany(Array.from({ length: Math.min(100, size - i) }, (_, k) => ({ _id: `d${i + k}`, _pos: BigInt(i + k + 1), ...body(i + k) })));
      }
      const existing = (k, salt) => Array.from({ length: k }, (_, j) => `d${(j * 7919 + salt * 131) % size}`);
      const absent = (k, salt) => Array.from({ length: k }, (_, j) => `n${size}_${salt}_${j}`);
      const r = {};
      r.findOneById = await timed(`${size} findOne`, (i) => col.findOne({ _id: `d${(i * 7919) % size}` }), repeat * 4);
      for (const k of [50, 200, 500]) {
        r[`findIn${k}`] = await timed(`${size} findIn${k}`, (i) => col.find({ _id: { $in: [...existing(k / 2, i), ...absent(k / 2, i)] } }).toArray(), repeat);
      }
      let next = size * 10;
      // What the adapter sends: the guarded replace (MongoDB) and the replace by `_id` alone (FerretDB path).
      const replaceOps = (ids) => ids.map((_id) => ({ replaceOne: { filter: { _id, _pos: { $lt: BigInt(++next) } }, replacement: { _id, _pos: BigInt(next), ...body(next) }, upsert: true } }));
      const byIdOps = (ids) => ids.map((_id) => ({ replaceOne: { filter: { _id }, replacement: { _id, _pos: BigInt(++next), ...body(next) }, upsert: true } }));
      for (const k of [10, 50]) {
        r[`replaceExisting${k}`] = await timed(`${size} replaceExisting${k}`, (i) => col.bulkWrite(replaceOps(existing(k, 1000 + i)), { ordered: true }), repeat);
        r[`replaceByIdExisting${k}`] = await timed(`${size} replaceByIdExisting${k}`, (i) => col.bulkWrite(byIdOps(existing(k, 2000 + i)), { ordered: true }), repeat);
      }
      for (const k of [50, 200, 1000]) {
        r[`insertMany${k}`] = await timed(`${size} insertMany${k}`, (i) => col.insertMany(absent(k, 5000 + k + i).map((_id) => ({ _id, _pos: BigInt(++next), ...body(next) })), { ordered: false }), repeat);
      }
      r.ceiling = {
        note: 'documents updated per second at best (replace by _id, chunks of 50), and inserted per second (insertMany of 1000)',
        updatesPerSec: Math.round((50 * 1000) / r.replaceByIdExisting50),
        insertsPerSec: Math.round((1000 * 1000) / r.insertMany1000),
      };
      out.sizes[size] = r;
    }
  } finally {
    await db.dropDatabase().catch(() => {});
    await client.close();
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.argv[2] ?? process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27018/';
  console.log(JSON.stringify(await measureFerretDbAlone(url), null, 2));
}
