/**
 * The log consumer's checkpoints (log-consumer.ts), on real SQLite stores: a batch with writes
 * commits them with its checkpoint at once; a batch that writes nothing leaves the stored
 * checkpoint behind for at most CHECKPOINT_DEFER_MS (one transaction instead of one per batch),
 * and stop() writes it before it returns.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import type { StoredEvent } from '../../src/application/ports/event-store.js';
import type { DocWrite, ReadModelStore } from '../../src/application/ports/read-models.js';
import { CHECKPOINT_DEFER_MS, LogConsumer, type LogProcessor } from '../../src/application/processing/log-consumer.js';
import { eventually } from '../support/http.js';
import { tempDir } from '../support/temp-dir.js';

const tmp = tempDir('lct-log-consumer-');
afterAll(() => tmp.cleanup());
let n = 0;
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of opened.splice(0).reverse()) await s.close();
});

function stores() {
  const dir = join(tmp.dir, `run-${++n}`);
  const events = new SqliteEventStore(`${dir}-events.db`);
  const real = new SqliteReadModelStore(`${dir}-read-models.db`);
  opened.push(events, real);
  // The real store, counting its commits.
  const commits: bigint[] = [];
  const readModels = new Proxy(real, {
    get: (target, name) => {
      const value = Reflect.get(target, name) as unknown;
      if (name === 'commit') return (...args: Parameters<ReadModelStore['commit']>) => (commits.push(args[2]), target.commit(...args));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { events, readModels, real, commits };
}

const append = (events: SqliteEventStore, type = 'Happened') =>
  events.append(`s-${randomUUID()}`, [{ id: randomUUID(), type, data: {}, metadata: { propertyId: 'p', commandId: randomUUID(), actor: { kind: 'system', id: 't' } } }], 'no_stream');

/** Writes a document for `Noted` events only; nothing for the others. */
const processor = (seen: StoredEvent[]): LogProcessor => ({
  checkpoint: 'test-consumer',
  startFrom: 'start',
  async handle(batch): Promise<DocWrite[]> {
    seen.push(...batch);
    return batch.filter((e) => e.type === 'Noted').map((e) => ({ collection: 'notes', doc: { _id: e.id, _pos: e.position } }));
  },
});

describe('log consumer checkpoints', () => {
  it('commits a batch that wrote documents with its checkpoint at once', async () => {
    const { events, readModels, real } = stores();
    const consumer = new LogConsumer(processor([]), events, readModels);
    await consumer.start();
    try {
      const { position } = await append(events, 'Noted');
      await eventually(async () => consumer.position === position || undefined, 10_000, 'the consumer to apply the event');
      expect(await real.checkpoint('test-consumer')).toBe(position);
    } finally {
      await consumer.stop();
    }
  });

  it('writes the checkpoint of batches that wrote nothing later, in fewer transactions, and at stop', async () => {
    const { events, readModels, real, commits } = stores();
    const seen: StoredEvent[] = [];
    const consumer = new LogConsumer(processor(seen), events, readModels);
    await consumer.start();
    let last = 0n;
    for (let i = 0; i < 20; i++) {
      last = (await append(events)).position;
      await eventually(async () => consumer.position === last || undefined, 10_000, `the consumer to apply event ${i}`);
    }
    expect(seen).toHaveLength(20); // every event, once
    expect(commits.length).toBeLessThan(10);
    // Within CHECKPOINT_DEFER_MS (generous deadline: a loaded machine) the stored checkpoint catches up by itself.
    const caughtUp = Date.now();
    await eventually(async () => (await real.checkpoint('test-consumer')) === last || undefined, 10_000, 'the deferred checkpoint to be written');
    expect(Date.now() - caughtUp).toBeLessThan(CHECKPOINT_DEFER_MS + 5000);

    // At stop: written before stop() returns, not a second later.
    const one = (await append(events)).position;
    await eventually(async () => consumer.position === one || undefined, 10_000, 'the consumer to apply the last event');
    await consumer.stop();
    expect(await real.checkpoint('test-consumer')).toBe(one);

    // A batch with writes supersedes what was deferred; a restart resumes from the stored checkpoint.
    const again = new LogConsumer(processor([]), events, readModels);
    await again.start();
    const noted = (await append(events, 'Noted')).position;
    await eventually(async () => again.position === noted || undefined, 10_000, 'the restarted consumer to apply the new event');
    expect(await real.checkpoint('test-consumer')).toBe(noted);
    await again.stop();
  }, 60_000);
});
