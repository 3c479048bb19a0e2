/**
 * The EventStore contract against the embedded SQLite store (always) and against EventStoreDB
 * when EVENTSTORE_URL points at a server; plus what only the embedded store promises:
 * durability across reopen, several processes on one file, and group commit.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { EsdbEventStore } from '../../src/adapters/eventstoredb/esdb-event-store.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import {
  type AppendResult,
  type EventToAppend,
  type StoredEvent,
  WrongExpectedVersionError,
} from '../../src/application/ports/event-store.js';
import { tempDir } from '../support/temp-dir.js';
import { eventStoreContract } from './event-store.contract.js';

const tmp = tempDir('lct-event-store-');
let files = 0;
const dbFile = () => join(tmp.dir, `events-${++files}.db`);

afterAll(() => tmp.cleanup());

eventStoreContract('SqliteEventStore', async () => new SqliteEventStore(dbFile()));

// EventStoreDB cannot run everywhere: its contract run exists only where a server is configured.
const eventStoreUrl = process.env.EVENTSTORE_URL;
if (eventStoreUrl) {
  eventStoreContract('EsdbEventStore', () => EsdbEventStore.connect(eventStoreUrl));
}

describe('SqliteEventStore (embedded only)', () => {
  it('has no head and no events when empty', async () => {
    const store = new SqliteEventStore(dbFile());
    try {
      expect(await store.headPosition()).toBeNull();
      expect(await store.readAll(null, 10)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('keeps everything across close and reopen', async () => {
    const file = dbFile();
    const first = new SqliteEventStore(file);
    await first.append('durable-a', [ev('A0'), ev('A1')], 'no_stream');
    await first.append('durable-b', [ev('B0')], 'no_stream');
    const last = await first.append('durable-a', [ev('A2')], 1n);
    const allBefore = await first.readAll(null, 100);
    const streamBefore = await first.readStream('durable-a');
    await first.close();

    const reopened = new SqliteEventStore(file);
    try {
      expect(await reopened.readAll(null, 100)).toEqual(allBefore);
      expect(await reopened.readStream('durable-a')).toEqual(streamBefore);
      expect(await reopened.headPosition()).toBe(last.position);
      // Revisions and positions continue where they were.
      const next = await reopened.append('durable-a', [ev('A3')], 2n);
      expect(next.revision).toBe(3n);
      expect(next.position > last.position).toBe(true);
      await expect(reopened.append('durable-b', [ev('X')], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedVersionError);
    } finally {
      await reopened.close();
    }
  });

  it('commits appends still queued when closed, and rejects appends after close', async () => {
    const file = dbFile();
    const store = new SqliteEventStore(file);
    const queued = store.append('closing', [ev('Queued')], 'no_stream'); // not yet committed
    await store.close();
    await expect(queued).resolves.toEqual({ revision: 0n, position: expect.any(BigInt) });
    await expect(store.append('closing', [ev('Late')], 0n)).rejects.toThrow(/closed/);

    const reopened = new SqliteEventStore(file);
    try {
      expect((await reopened.readStream('closing')).map((e) => e.type)).toEqual(['Queued']);
    } finally {
      await reopened.close();
    }
  });

  it('two instances on one file (as two processes) both append, stay consistent, and see each other', async () => {
    const file = dbFile();
    const a = new SqliteEventStore(file, { pollIntervalMs: 20 });
    const b = new SqliteEventStore(file, { pollIntervalMs: 20 });
    const seenByA: StoredEvent[] = [];
    const controller = new AbortController();
    const subscription = a.subscribeToAll(null, async (batch) => void seenByA.push(...batch), controller.signal);
    try {
      const written: AppendResult[] = [];
      for (let i = 0; i < 5; i++) {
        written.push(await b.append(`proc-b-${i}`, [ev(`B${i}`)], 'no_stream'));
        written.push(await a.append(`proc-a-${i}`, [ev(`A${i}`)], 'no_stream'));
      }
      // Optimistic concurrency holds across connections: one of two racing creators wins.
      const race = await Promise.allSettled([
        a.append('proc-shared', [ev('FromA')], 'no_stream'),
        b.append('proc-shared', [ev('FromB')], 'no_stream'),
      ]);
      expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const loser = race.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(WrongExpectedVersionError);
      expect((loser.reason as WrongExpectedVersionError).actual).toBe(0n);

      // A's subscriber sees B's appends (by polling) as well as its own, in one global order.
      await waitFor(() => seenByA.length >= 11, "A's subscriber to see all 11 events");
      expect(seenByA.map((e) => e.position)).toEqual([...seenByA.map((e) => e.position)].sort((x, y) => (x < y ? -1 : 1)));
      expect(new Set(seenByA.map((e) => e.position)).size).toBe(11);
      expect(seenByA.filter((e) => e.type.startsWith('B')).map((e) => e.type)).toEqual(['B0', 'B1', 'B2', 'B3', 'B4']);
      expect(await a.readAll(null, 100)).toEqual(await b.readAll(null, 100));
      expect(await a.headPosition()).toBe(await b.headPosition());
      expect(new Set(written.map((w) => w.position)).size).toBe(10);
    } finally {
      controller.abort();
      await subscription;
      await a.close();
      await b.close();
    }
  });

  it("tells of its commits (onCommitted), and a note of another instance's append wakes its subscribers before their poll", async () => {
    const file = dbFile();
    const writer = new SqliteEventStore(file);
    const reader = new SqliteEventStore(file, { pollIntervalMs: 600_000 }); // its poll would not come within the test
    const commits: number[] = [];
    const stopTelling = writer.onCommitted(() => commits.push(commits.length));
    // As npm start's processes do (embedded-workers.ts): the API's commits told to the child.
    writer.onCommitted(() => reader.appendedElsewhere());
    const seen: StoredEvent[] = [];
    const controller = new AbortController();
    const subscription = reader.subscribeToAll(null, async (batch) => void seen.push(...batch), controller.signal);
    try {
      await writer.append('noted-1', [ev('First')], 'no_stream');
      await waitFor(() => seen.length === 1, 'the subscriber woken by the note to read the first event');
      await Promise.all([writer.append('noted-2', [ev('Second')], 'no_stream'), writer.append('noted-3', [ev('Third')], 'no_stream')]);
      await waitFor(() => seen.length === 3, 'the subscriber woken by the note to read the group');
      expect(seen.map((e) => e.type)).toEqual(['First', 'Second', 'Third']);
      expect(commits).toEqual([0, 1]); // one per committed group
      stopTelling();
      await writer.append('noted-4', [ev('Fourth')], 'no_stream');
      expect(commits).toEqual([0, 1]);
    } finally {
      controller.abort();
      await subscription;
      await writer.close();
      await reader.close();
    }
  });

  it('readAll from the recently read stretch (shared by the consumers of a process) answers exactly what the file holds', async () => {
    const file = dbFile();
    const reader = new SqliteEventStore(file);
    const other = new SqliteEventStore(file); // another process appending
    const truth = new Database(file, { readonly: true });
    const positionsAfter = (after: bigint, limit: number) =>
      (truth.prepare('SELECT position FROM events WHERE position > ? ORDER BY position LIMIT ?').all(after, limit) as Array<{ position: number }>).map((r) =>
        BigInt(r.position),
      );
    try {
      let streams = 0;
      const consumers = [0n, 0n, 0n]; // three consumers at their own pace
      for (let round = 0; round < 60; round++) {
        const writer = round % 3 === 0 ? other : reader;
        await Promise.all(Array.from({ length: 1 + (round % 4) }, () => writer.append(`stretch-${++streams}`, [ev('One'), ev('Two')], 'no_stream')));
        for (let c = 0; c < consumers.length; c++) {
          if ((round + c) % (c + 1) !== 0) continue; // some fall behind, then read more at once
          const limit = 1 + ((round * 7 + c) % 9);
          const read = await reader.readAll(consumers[c]!, limit);
          expect(read.map((e) => e.position)).toEqual(positionsAfter(consumers[c]!, limit));
          if (read.length > 0) consumers[c] = read[read.length - 1]!.position;
        }
        // A read from the start (a rebuild) and one from an arbitrary point are answered in full too.
        expect((await reader.readAll(null, 5)).map((e) => e.position)).toEqual(positionsAfter(0n, 5));
        const somewhere = BigInt(round * 2);
        expect((await reader.readAll(somewhere, 4)).map((e) => e.position)).toEqual(positionsAfter(somewhere, 4));
      }
      const all = await reader.readAll(null, 10_000);
      expect(all.map((e) => e.position)).toEqual(positionsAfter(0n, 10_000));
      expect(all).toEqual(await other.readAll(null, 10_000));
    } finally {
      truth.close();
      await reader.close();
      await other.close();
    }
  });

  it('group commit: 200 appends issued in one tick all land, committed together in issue order', async () => {
    const store = new SqliteEventStore(dbFile());
    try {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.append(`batch-${i}`, [ev(`E${i}`)], 'no_stream')),
      );
      expect(results.every((r) => r.revision === 0n)).toBe(true);
      // One transaction: consecutive positions in the order the appends were issued.
      results.forEach((r, i) => expect(r.position).toBe(results[0]!.position + BigInt(i)));
      const all = await store.readAll(null, 1000);
      expect(all).toHaveLength(200);
      expect(all.map((e) => e.streamId)).toEqual(results.map((_, i) => `batch-${i}`));
      // …and committed by one flush: they share its timestamp.
      expect(new Set(all.map((e) => e.recordedAt.getTime())).size).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('group commit checks each append on its own: invalid ones reject alone, valid ones land', async () => {
    const store = new SqliteEventStore(dbFile());
    try {
      const streams = Array.from({ length: 8 }, (_, i) => `mixed-${i}`);
      await Promise.all(streams.map((s) => store.append(s, [ev('Created')], 'no_stream'))); // all at revision 0
      const replay = [ev('Replay')];
      const firstOfPair = [ev('PairFirst')];

      // All issued in the same tick, so they share one transaction.
      const outcomes = await Promise.allSettled([
        store.append('mixed-0', [ev('Ok0')], 0n), //                            0 valid
        store.append('mixed-1', [ev('Bad1')], 5n), //                           1 wrong revision
        store.append('mixed-2', [ev('Ok2a'), ev('Ok2b')], 'any'), //            2 valid
        store.append('mixed-3', [ev('Bad3')], 'no_stream'), //                  3 stream exists
        store.append('mixed-4', firstOfPair, 0n), //                            4 wins the pair
        store.append('mixed-4', [ev('PairSecond')], 0n), //                     5 loses to 4
        store.append('mixed-5', replay, 0n), //                                 6 valid
        store.append('mixed-5', replay, 0n), //                                 7 same append again: same answer
        store.append('mixed-6', [{ ...ev('Bad6'), data: { n: 1n } }], 0n), //  8 cannot be serialised
        store.append('mixed-new', [ev('OkNew')], 'no_stream'), //               9 valid
        store.append('mixed-7', [ev('Ok7')], 0n), //                           10 valid, after the failures
      ]);

      const ok = (i: number) => {
        const o = outcomes[i]!;
        if (o.status !== 'fulfilled') throw new Error(`append #${i} should have succeeded: ${String(o.reason)}`);
        return o.value;
      };
      const wrong = (i: number) => {
        const o = outcomes[i]!;
        if (o.status !== 'rejected') throw new Error(`append #${i} should have failed`);
        expect(o.reason).toBeInstanceOf(WrongExpectedVersionError);
        return o.reason as WrongExpectedVersionError;
      };
      expect(ok(0).revision).toBe(1n);
      expect(wrong(1).actual).toBe(0n);
      expect(ok(2).revision).toBe(2n);
      expect(wrong(3).actual).toBe(0n);
      expect(ok(4).revision).toBe(1n);
      expect(wrong(5).actual).toBe(1n);
      expect(ok(6).revision).toBe(1n);
      expect(ok(7)).toEqual(ok(6));
      expect(outcomes[8]!.status).toBe('rejected');
      expect((outcomes[8] as PromiseRejectedResult).reason).not.toBeInstanceOf(WrongExpectedVersionError);
      expect(ok(9).revision).toBe(0n);
      expect(ok(10).revision).toBe(1n);

      const types = async (s: string) => (await store.readStream(s)).map((e) => e.type);
      expect(await types('mixed-0')).toEqual(['Created', 'Ok0']);
      expect(await types('mixed-1')).toEqual(['Created']);
      expect(await types('mixed-2')).toEqual(['Created', 'Ok2a', 'Ok2b']);
      expect(await types('mixed-3')).toEqual(['Created']);
      expect(await types('mixed-4')).toEqual(['Created', 'PairFirst']);
      expect(await types('mixed-5')).toEqual(['Created', 'Replay']);
      expect(await types('mixed-6')).toEqual(['Created']);
      expect(await types('mixed-new')).toEqual(['OkNew']);
      expect(await types('mixed-7')).toEqual(['Created', 'Ok7']);
      expect(await store.readAll(null, 1000)).toHaveLength(8 + 1 + 2 + 1 + 1 + 1 + 1);
    } finally {
      await store.close();
    }
  });
});

function ev(type: string): EventToAppend {
  return {
    id: randomUUID(),
    type,
    data: { type },
    metadata: { propertyId: 'property-1', commandId: randomUUID(), actor: { kind: 'system', id: 'spec' } },
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
