/**
 * The projector's store round-trips on FerretDB grow with the documents a batch touches, not
 * with its events: a batch reads what it misses up front (getMany per collection) and writes
 * each document once, in bulk writes. Counted through the Mongo driver's command monitoring
 * on the real store, not by wrapping our port.
 */
import { describe, expect, it } from '@jest/globals';
import { type CommandFailedEvent, CommandStartedEvent, type CommandSucceededEvent } from 'mongodb';
import { MongoReadModelStore } from '../../src/adapters/mongo/mongo-read-model-store.js';
import type { StoredEvent } from '../../src/application/ports/event-store.js';
import type { Doc } from '../../src/application/ports/read-models.js';
import { DocCache, type Member, projectBatch } from '../../src/application/processing/projection-batch.js';
import type { Projection } from '../../src/application/projections/projection.js';
import { ferretDatabase } from '../support/ferretdb.js';

interface CounterDoc extends Doc {
  count: number;
  group: string;
}

/** Each event bumps its counter and the counter's group, and reads the group's label: three collections. */
const counters: Projection = {
  name: 'counters',
  version: 1,
  collections: ['counters', 'groups', 'labels'],
  indexes: [],
  handles: new Set(['Bumped']),
  async apply(event, ctx) {
    const { counter, group } = event.data as { counter: string; group: string };
    await ctx.update<CounterDoc>('counters', counter, (doc) => ({ _id: counter, group, count: (doc?.count ?? 0) + 1 }));
    const label = await ctx.get<Doc & { text: string }>('labels', group);
    // A read that depends on another document: the group's label names the group's document.
    await ctx.update<CounterDoc>('groups', label?.text ?? group, (doc) => ({ _id: label?.text ?? group, group, count: (doc?.count ?? 0) + 1 }));
  },
};

const bumped = (position: number, counter: string, group: string): StoredEvent => ({
  id: `e${position}`,
  type: 'Bumped',
  streamId: `counter-${counter}`,
  revision: 0n,
  position: BigInt(position),
  data: { counter, group },
  metadata: {} as StoredEvent['metadata'],
  recordedAt: new Date(0),
});

/** `events` events over `docs` counters in 5 groups, positions from `from`. */
const batchOf = (from: number, events: number, docs: number) =>
  Array.from({ length: events }, (_, i) => bumped(from + i, `c${i % docs}`, `g${i % 5}`));

/** Sequential round-trips: commands started while none was in flight (what latency adds up over). */
function rounds(events: ReadonlyArray<CommandStartedEvent | CommandSucceededEvent | CommandFailedEvent>): number {
  const inFlight = new Set<number>();
  let n = 0;
  for (const e of events) {
    if (e instanceof CommandStartedEvent) {
      if (inFlight.size === 0) n++;
      inFlight.add(e.requestId);
    } else inFlight.delete(e.requestId);
  }
  return n;
}

describe('projector round-trips on FerretDB', () => {
  const db = ferretDatabase('lct_roundtrips');

  async function measure(events: number, docs: number) {
    const commands: Array<CommandStartedEvent | CommandSucceededEvent | CommandFailedEvent> = [];
    const store = await MongoReadModelStore.connect(db.url(), { dbName: `${db.dbName}_${events}_${docs}`, onCommand: (e) => commands.push(e) });
    try {
      // Labels exist for some groups already (read, not written, by the batch).
      await store.write([
        { collection: 'labels_v1', doc: { _id: 'g0', _pos: 1n, text: 'zero' } as Doc },
        { collection: 'counters_v1', doc: { _id: 'c0', _pos: 1n, group: 'g0', count: 100 } as Doc },
      ]);
      const member: Member = { projection: counters, version: 1, after: 1n };
      const cache = new DocCache(store);
      commands.length = 0;
      const { writes } = await projectBatch(batchOf(2, events, docs), [member], cache, 'never');
      const started = () => commands.filter((c) => c instanceof CommandStartedEvent);
      const reads = started().filter((c) => c.commandName === 'find').length;
      const readRounds = rounds(commands);
      await store.commit('counters@1', writes, BigInt(events + 1));
      const all = started().map((c) => c.commandName);
      const stored = await store.getMany<CounterDoc>('counters_v1', ['c0', 'c1']);
      return { reads, readRounds, total: all.length, writes: writes.length, byName: all, stored, store };
    } finally {
      await store.close();
    }
  }

  it('issues the same number of round-trips for 600 events as for 60 over the same 30 documents, and writes each document once', async () => {
    const small = await measure(60, 30);
    const large = await measure(600, 30);
    // 30 counters + 5 groups (g0 under its label's name) + nothing for labels: one write each.
    expect(large.writes).toBe(35);
    expect(large.total).toBe(small.total);
    expect(large.reads).toBe(small.reads);
    // Bounded by the documents, never by the events: at most one read per distinct document
    // (FerretDB answers `_id` lookups only on its index) plus the writes' bulk commands.
    expect(large.reads).toBeLessThanOrEqual(30 + 5 + 5 + 1 + 35);
    expect(large.total).toBeLessThan(600 / 4);
    // And not one after the other: a batch's reads go out together (one round per dry pass, plus
    // what the driver's pool queues while it opens connections), where reading as each event
    // asks makes every read a round of its own (readRounds === reads).
    expect(large.readRounds).toBeLessThanOrEqual(large.reads / 4);
    // Applied on top of what was stored: c0 had 100, and 600 events bump it 20 times.
    expect(large.stored.find((d) => d._id === 'c0')?.count).toBe(120);
    expect(large.stored.find((d) => d._id === 'c1')?.count).toBe(20);
  }, 120000);
});
