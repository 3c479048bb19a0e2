/**
 * The folded-state cache under runDecision (stream-state-cache.ts), on real SQLite stores: it
 * must never answer from what it remembers alone. Another store instance on the same file
 * stands for another process (the projector's and workers' child process, another API instance).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { runDecision } from '../../src/application/commands/run-decision.js';
import { readFolded } from '../../src/application/commands/stream-state-cache.js';
import { withRequestFingerprint } from '../../src/application/commands/command-id.js';
import type { EventStore, EventToAppend, ExpectedRevision } from '../../src/application/ports/event-store.js';
import { DomainError } from '../../src/domain/errors.js';
import { tempDir } from '../support/temp-dir.js';

type Counted = { type: 'Counted'; data: { n: number; by: string } };
interface Count {
  count: number;
  by: string[];
}
const COUNT = { initial: { count: 0, by: [] } as Count, evolve: (s: Count, e: Counted): Count => ({ count: e.data.n, by: [...s.by, e.data.by] }) };
/** Another fold of the same events: a different state must never be mixed with COUNT's. */
const TYPES = { initial: [] as string[], evolve: (s: string[], e: Counted): string[] => [...s, `${e.type}#${e.data.n}`] };

const tmp = tempDir('lct-state-cache-');
let files = 0;
const opened: EventStore[] = [];
const open = (file: string) => {
  const store = new SqliteEventStore(file, { pollIntervalMs: 20 });
  opened.push(store);
  return store;
};
const newFile = () => join(tmp.dir, `events-${++files}.db`);
let streams = 0;
const newStream = () => `counter-${++streams}`;

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
afterAll(() => tmp.cleanup());

/** Counts one up on the state it is given: the events show which state each decision saw. */
const countUp = (store: EventStore, streamId: string, by: string, commandId = `${by}-${Math.random()}`, events = 1) =>
  runDecision<Count, Counted>(store, {
    streamId,
    ...COUNT,
    decide: (s) => Array.from({ length: events }, (_, i) => ({ type: 'Counted' as const, data: { n: s.count + i + 1, by } })),
    metadata: { propertyId: 'p', commandId, actor: { kind: 'system', id: by } },
  });

const numbers = async (store: EventStore, streamId: string) => (await store.readStream(streamId)).map((e) => e.data.n);

describe('the folded-state cache under runDecision', () => {
  it('folds in a tail appended by another store instance on the same file (another process)', async () => {
    const file = newFile();
    const here = open(file);
    const there = open(file);
    const s = newStream();
    await countUp(here, s, 'here'); // fills here's cache at revision 0
    await countUp(there, s, 'there');
    await countUp(there, s, 'there');
    expect(await readFolded(here, s, COUNT)).toEqual({ count: 3, by: ['here', 'there', 'there'] });

    const result = await countUp(here, s, 'here');
    expect(result.state).toEqual({ count: 4, by: ['here', 'there', 'there', 'here'] });
    expect(await numbers(here, s)).toEqual([1, 2, 3, 4]);
  });

  it('after a conflict, decides again on the tail that beat it', async () => {
    const file = newFile();
    const there = open(file);
    const real = open(file);
    // The real store, except that another writer appends right before this one's first append
    // (straight to its store: runDecision's in-process lock on the stream is held by this one).
    let appends = 0;
    const here: EventStore = Object.assign(Object.create(real) as EventStore, {
      append: async (streamId: string, events: EventToAppend[], expected: ExpectedRevision) => {
        if (++appends === 1) {
          const head = (await there.readStream(streamId)).at(-1)!;
          const n = (head.data as Counted['data']).n + 1;
          await there.append(streamId, [{ id: randomUUID(), type: 'Counted', data: { n, by: 'there' }, metadata: head.metadata }], head.revision);
        }
        return real.append(streamId, events, expected);
      },
    });
    const s = newStream();
    await countUp(there, s, 'there');
    await readFolded(here, s, COUNT); // cached at revision 0

    const result = await countUp(here, s, 'here');
    expect(appends).toBe(2); // the first lost to the other writer's event
    expect(result.state).toEqual({ count: 3, by: ['there', 'there', 'here'] });
    expect(await numbers(real, s)).toEqual([1, 2, 3]);
    expect((await countUp(here, s, 'here')).state.count).toBe(4);
  });

  it('answers a retried command from its first events after later commands moved the cache on, and refuses the key for another request', async () => {
    const store = open(newFile());
    const s = newStream();
    const first = await countUp(store, s, 'retried', withRequestFingerprint('cmd-1', 'fp-a'), 2);
    await countUp(store, s, 'later');
    await countUp(store, s, 'later');
    expect(await readFolded(store, s, COUNT)).toMatchObject({ count: 4 });

    const retry = await countUp(store, s, 'retried', withRequestFingerprint('cmd-1', 'fp-a'), 2);
    expect(retry.replayed).toBe(true);
    expect(retry.events).toEqual(first.events);
    expect(retry.events.map((e) => e.data.n)).toEqual([1, 2]);
    expect(retry.position).toBe(first.position);
    expect(retry.state.count).toBe(4);
    expect(await numbers(store, s)).toEqual([1, 2, 3, 4]);

    const reused = countUp(store, s, 'other', withRequestFingerprint('cmd-1', 'fp-b'));
    await expect(reused).rejects.toBeInstanceOf(DomainError);
    await expect(reused).rejects.toMatchObject({ kind: 'unprocessable', code: 'idempotency_key_reused' });
    expect(await numbers(store, s)).toEqual([1, 2, 3, 4]);

    // The same answers from a store with nothing cached (as after a restart).
    const fresh = open(join(tmp.dir, `events-${files}.db`));
    expect(await countUp(fresh, s, 'retried', withRequestFingerprint('cmd-1', 'fp-a'), 2)).toMatchObject({ replayed: true, events: first.events, position: first.position });
    await expect(countUp(fresh, s, 'other', withRequestFingerprint('cmd-1', 'fp-b'))).rejects.toMatchObject({ code: 'idempotency_key_reused' });
  });

  it('answers a retry of a command appended by another store instance it never saw decided', async () => {
    const file = newFile();
    const here = open(file);
    const there = open(file);
    const s = newStream();
    await countUp(here, s, 'here');
    const first = await countUp(there, s, 'there', 'cmd-elsewhere');
    const retry = await countUp(here, s, 'there', 'cmd-elsewhere');
    expect(retry).toMatchObject({ replayed: true, events: first.events, position: first.position });
    expect(await numbers(here, s)).toEqual([1, 2]);
  });

  it('never mixes states across folds of one stream, streams, or stores', async () => {
    const fileA = newFile();
    const a = open(fileA);
    const b = open(newFile());
    const s = newStream();
    const other = newStream();
    await countUp(a, s, 'a');
    expect(await readFolded(a, s, TYPES)).toEqual(['Counted#1']);
    await countUp(a, s, 'a');
    await countUp(a, other, 'a-other');
    // Same stream name, another file: its own history.
    await countUp(b, s, 'b');

    expect(await readFolded(a, s, COUNT)).toEqual({ count: 2, by: ['a', 'a'] });
    expect(await readFolded(a, s, TYPES)).toEqual(['Counted#1', 'Counted#2']);
    expect(await readFolded(a, other, COUNT)).toEqual({ count: 1, by: ['a-other'] });
    expect(await readFolded(b, s, COUNT)).toEqual({ count: 1, by: ['b'] });
    expect(await readFolded(b, s, TYPES)).toEqual(['Counted#1']);
    expect(await readFolded(a, newStream(), COUNT)).toEqual(COUNT.initial);

    // Event ids derive from command ids: the same command on the same stream name in two files
    // has the same event ids, with other data. Each store still folds its own.
    const twin = newStream();
    await countUp(a, twin, 'a', 'same-command');
    await countUp(b, twin, 'b', 'same-command');
    expect(await readFolded(a, twin, COUNT)).toEqual({ count: 1, by: ['a'] });
    expect(await readFolded(b, twin, COUNT)).toEqual({ count: 1, by: ['b'] });
  });

  describe('a brand-new command (random id, no Idempotency-Key) decides on the cached fold without reading the tail', () => {
    /** The store `real`, counting reads of the stream. */
    const counting = (real: EventStore) => {
      const reads = { count: 0 };
      const readStream: EventStore['readStream'] = (...args) => {
        reads.count++;
        return real.readStream(...args);
      };
      const store = new Proxy(real, {
        get: (target, name) => {
          if (name === 'readStream') return readStream;
          const value = Reflect.get(target, name) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      return { store, reads };
    };
    /** `rule` on the state it is given; Counted by `by` if it says so. */
    const decideNew = (store: EventStore, streamId: string, by: string, rule: (s: Count) => 'count' | 'nothing' | 'refuse') =>
      runDecision<Count, Counted>(store, {
        streamId,
        ...COUNT,
        decide: (s) => {
          const verdict = rule(s);
          if (verdict === 'refuse') throw new DomainError('conflict', 'too_few', `only ${s.count}`);
          return verdict === 'nothing' ? [] : [{ type: 'Counted', data: { n: s.count + 1, by } }];
        },
        metadata: { propertyId: 'p', commandId: randomUUID(), actor: { kind: 'system', id: by } },
      });
    const always = () => 'count' as const;

    it('reads nothing when the cache is current (its own appends move it on)', async () => {
      const file = newFile();
      const { store, reads } = counting(open(file));
      const s = newStream();
      await decideNew(store, s, 'here', always); // a new stream: one read, finding nothing
      const before = reads.count;
      for (let i = 0; i < 5; i++) await decideNew(store, s, 'here', always);
      expect(reads.count).toBe(before);
      expect(await numbers(store, s)).toEqual([1, 2, 3, 4, 5, 6]);
      // What it remembered is what the store holds: a fresh instance folds the same.
      expect(await readFolded(open(file), s, COUNT)).toEqual({ count: 6, by: Array(6).fill('here') });
    });

    it('decides again on the tail when another process appended meanwhile (the append with the cached revision fails)', async () => {
      const file = newFile();
      const here = open(file);
      const there = open(file);
      const s = newStream();
      await decideNew(here, s, 'here', always);
      await countUp(there, s, 'there');
      await countUp(there, s, 'there');
      const result = await decideNew(here, s, 'here', always);
      expect(result.state).toEqual({ count: 4, by: ['here', 'there', 'there', 'here'] });
      expect(await numbers(there, s)).toEqual([1, 2, 3, 4]);
    });

    it('decides a refusal or "nothing to do" again on the tail: the cached fold may be behind', async () => {
      const file = newFile();
      const here = open(file);
      const there = open(file);
      const s = newStream();
      await decideNew(here, s, 'here', always); // cached: count 1
      await countUp(there, s, 'there'); // the store: count 2
      const atLeastTwo = (s: Count) => (s.count >= 2 ? 'count' : 'refuse');
      expect((await decideNew(here, s, 'here', atLeastTwo)).state.count).toBe(3);

      await countUp(there, s, 'there'); // the store: 4, here's cache: 3
      const onlyFromFour = (s: Count) => (s.count >= 4 ? 'count' : 'nothing');
      expect((await decideNew(here, s, 'here', onlyFromFour)).state.count).toBe(5);
      expect(await numbers(there, s)).toEqual([1, 2, 3, 4, 5]);

      // A refusal the store's state confirms is the answer.
      await expect(decideNew(here, s, 'here', () => 'refuse')).rejects.toMatchObject({ code: 'too_few' });
      expect(await numbers(there, s)).toEqual([1, 2, 3, 4, 5]);
    });
  });

  it('keeps decisions on one hot stream exact under concurrent commands from two store instances', async () => {
    const file = newFile();
    const stores = [open(file), open(file)];
    const s = newStream();
    await Promise.all(Array.from({ length: 60 }, (_, i) => countUp(stores[i % 2]!, s, `w${i % 2}`)));
    expect(await numbers(stores[0]!, s)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const store of stores) expect((await readFolded(store, s, COUNT)).count).toBe(60);
  }, 60_000);
});
