import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
const body = JSON.stringify({ conversationId: randomUUID(), propertyId: 'hotel-1', author: 'guest', authorName: 'Guest 1', employeeId: null, kind: 'message', notice: null, text: 'Hello, is the spa open today? I would like to know', at: new Date().toISOString(), seq: 12345 });
for (const [label, ddl, cache] of [
  ['rowid', 'CREATE TABLE t (_id TEXT PRIMARY KEY, _pos INTEGER NOT NULL, doc TEXT NOT NULL)', 0],
  ['rowid+cache', 'CREATE TABLE t (_id TEXT PRIMARY KEY, _pos INTEGER NOT NULL, doc TEXT NOT NULL)', 65536],
  ['without rowid', 'CREATE TABLE t (_id TEXT PRIMARY KEY, _pos INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID', 0],
  ['without rowid+cache', 'CREATE TABLE t (_id TEXT PRIMARY KEY, _pos INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID', 65536],
]) {
  rmSync('/tmp/micro.db', { force: true }); rmSync('/tmp/micro.db-wal', { force: true });
  const db = new Database(process.env.MEM ? ':memory:' : '/tmp/micro.db');
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = ' + (process.env.SYNC ?? 'NORMAL')); if (process.env.CKPT) db.pragma('wal_autocheckpoint = ' + process.env.CKPT);
  if (cache) db.pragma(`cache_size = -${cache}`);
  db.exec(ddl);
  const up = db.prepare('INSERT INTO t (_id, _pos, doc) VALUES (?, ?, ?) ON CONFLICT(_id) DO UPDATE SET _pos = excluded._pos, doc = excluded.doc WHERE excluded._pos > t._pos');
  const ids = Array.from({ length: 150000 }, () => randomUUID());
  const t0 = performance.now();
  let pos = 0n;
  for (let i = 0; i < ids.length; i += 4000) {
    db.transaction(() => { for (const id of (process.env.SORT ? ids.slice(i, i + 4000).sort() : ids.slice(i, i + 4000))) up.run(id, ++pos, body); })();
  }
  console.log(label, ((performance.now() - t0) * 1000 / ids.length).toFixed(2), 'us/upsert');
  db.close();
}
