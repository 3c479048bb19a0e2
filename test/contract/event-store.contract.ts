/**
 * The behaviour every EventStore adapter must have (see src/application/ports/event-store.ts).
 *
 * Written to run against a shared EventStoreDB server as well as a fresh SQLite file: stream
 * names are unique per test, positions are compared relatively (never absolutely), and reads of
 * `$all` keep only this run's streams where other writers may interleave.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type Position,
  type StoredEvent,
  WrongExpectedVersionError,
} from '../../src/application/ports/event-store.js';

export function eventStoreContract(name: string, open: () => Promise<EventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    /** Every stream of this run starts with it; `$all` assertions keep only the test's own streams. */
    const run = `contract${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const stream = (label: string) => `${run}_${label}-${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      store = await open();
    });

    afterAll(async () => {
      await store?.close();
    });

    describe('append', () => {
      it("appends to a new stream with 'no_stream': revisions 0..n-1, result is the last event", async () => {
        const s = stream('new');
        const events = [ev('Opened', 1), ev('Noted', 2), ev('Closed', 3)];
        const result = await store.append(s, events, 'no_stream');
        expect(result.revision).toBe(2n);
        expect(typeof result.position).toBe('bigint');

        const read = await store.readStream(s);
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        read.forEach((stored, i) => {
          const sent = events[i]!;
          expect(stored.id).toBe(sent.id);
          expect(stored.type).toBe(sent.type);
          expect(stored.streamId).toBe(s);
          expect(stored.data).toEqual(sent.data);
          expect(stored.metadata).toEqual(sent.metadata);
          expect(stored.recordedAt).toBeInstanceOf(Date);
          expect(Number.isNaN(stored.recordedAt.getTime())).toBe(false);
          expect(typeof stored.position).toBe('bigint');
        });
        expectStrictlyIncreasing(read.map((e) => e.position));
        expect(read[2]!.position).toBe(result.position);
      });

      it('appends with the exact expected revision', async () => {
        const s = stream('exact');
        const first = await store.append(s, [ev('A'), ev('B')], 'no_stream');
        expect(first.revision).toBe(1n);
        const second = await store.append(s, [ev('C'), ev('D'), ev('E')], 1n);
        expect(second.revision).toBe(4n);
        expect(second.position > first.position).toBe(true);
        const third = await store.append(s, [ev('F')], 4n);
        expect(third.revision).toBe(5n);

        const read = await store.readStream(s);
        expect(read.map((e) => e.type)).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
        expectStrictlyIncreasing(read.map((e) => e.position));
        expect(read[5]!.position).toBe(third.position);
      });

      it("appends with 'any' to a new and to an existing stream", async () => {
        const s = stream('any');
        const first = await store.append(s, [ev('A')], 'any');
        expect(first.revision).toBe(0n);
        const second = await store.append(s, [ev('B'), ev('C')], 'any');
        expect(second.revision).toBe(2n);
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      it('rejects a wrong expected revision with WrongExpectedVersionError carrying the actual revision', async () => {
        const s = stream('wrong');
        await store.append(s, [ev('A'), ev('B'), ev('C')], 'no_stream'); // at revision 2

        await expectWrongVersion(store.append(s, [ev('X')], 'no_stream'), s, 'no_stream', 2n);
        await expectWrongVersion(store.append(s, [ev('X')], 0n), s, 0n, 2n);
        await expectWrongVersion(store.append(s, [ev('X')], 1n), s, 1n, 2n);
        await expectWrongVersion(store.append(s, [ev('X')], 5n), s, 5n, 2n);
        expect(await store.readStream(s)).toHaveLength(3);

        const missing = stream('missing');
        await expectWrongVersion(store.append(missing, [ev('X')], 0n), missing, 0n, 'no_stream');
        await expectWrongVersion(store.append(missing, [ev('X')], 3n), missing, 3n, 'no_stream');
        expect(await store.readStream(missing)).toEqual([]);
      });

      it('rejects appending nothing and stores nothing', async () => {
        const s = stream('empty');
        await expect(store.append(s, [], 'no_stream')).rejects.toThrow();
        await expect(store.append(s, [], 'any')).rejects.toThrow();
        expect(await store.readStream(s)).toEqual([]);
        // The stream still does not exist.
        expect((await store.append(s, [ev('A')], 'no_stream')).revision).toBe(0n);
      });

      it('rejects an append whose data cannot be stored without failing appends issued alongside it', async () => {
        const good = stream('good');
        const bad = stream('bad');
        const [okResult, badResult] = await Promise.allSettled([
          store.append(good, [ev('Fine')], 'no_stream'),
          store.append(bad, [{ ...ev('Broken'), data: { amount: 1n } }], 'no_stream'),
        ]);
        expect(okResult.status).toBe('fulfilled');
        expect(badResult.status).toBe('rejected');
        expect(await store.readStream(good)).toHaveLength(1);
        expect(await store.readStream(bad)).toEqual([]);
      });
    });

    describe('idempotence', () => {
      it('repeating an append with the same ids and expected revision answers the same and stores nothing', async () => {
        const s = stream('idem');
        const batch1 = [ev('A'), ev('B')];
        const first = await store.append(s, batch1, 'no_stream');
        expect(await store.append(s, batch1, 'no_stream')).toEqual(first);

        const batch2 = [ev('C'), ev('D'), ev('E')];
        const second = await store.append(s, batch2, 1n);
        expect(await store.append(s, batch2, 1n)).toEqual(second);
        // Still the same answer once the stream has moved on.
        expect(await store.append(s, batch1, 'no_stream')).toEqual(first);
        expect(await store.append(s, batch2, 1n)).toEqual(second);

        const read = await store.readStream(s);
        expect(read.map((e) => e.id)).toEqual([...batch1, ...batch2].map((e) => e.id));
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
      });

      it('the same ids with a different expected revision are a WrongExpectedVersionError', async () => {
        const s = stream('idem-wrong');
        const batch = [ev('A'), ev('B')];
        await store.append(s, batch, 'no_stream'); // at revision 1

        await expectWrongVersion(store.append(s, batch, 0n), s, 0n, 1n);
        await expectWrongVersion(store.append(s, batch, 3n), s, 3n, 1n);
        // Only the first id matching is not the same append either.
        await expectWrongVersion(store.append(s, [batch[0]!, ev('X')], 'no_stream'), s, 'no_stream', 1n);
        expect((await store.readStream(s)).map((e) => e.id)).toEqual(batch.map((e) => e.id));
      });
    });

    describe('reads', () => {
      it('readStream returns [] for a missing stream', async () => {
        expect(await store.readStream(stream('nothing-here'))).toEqual([]);
      });

      it('readStream returns only that stream, in revision order', async () => {
        const a = stream('ra');
        const b = stream('rb');
        await store.append(a, [ev('A0')], 'no_stream');
        await store.append(b, [ev('B0')], 'no_stream');
        await store.append(a, [ev('A1'), ev('A2')], 0n);
        await store.append(b, [ev('B1')], 0n);
        await store.append(a, [ev('A3')], 2n);

        const readA = await store.readStream(a);
        expect(readA.map((e) => e.type)).toEqual(['A0', 'A1', 'A2', 'A3']);
        expect(readA.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
        expectStrictlyIncreasing(readA.map((e) => e.position));
        expect((await store.readStream(b)).map((e) => e.type)).toEqual(['B0', 'B1']);
      });

      it('readStream from a revision returns that event (inclusive) and the rest of the stream, exactly as a whole read does', async () => {
        const s = stream('from');
        const other = stream('from-other');
        await store.append(s, [ev('A0'), ev('A1')], 'no_stream');
        await store.append(other, [ev('X0')], 'no_stream');
        await store.append(s, [ev('A2'), ev('A3')], 1n);
        const whole = await store.readStream(s);

        expect(await store.readStream(s, { fromRevision: 0n })).toEqual(whole);
        expect(await store.readStream(s, {})).toEqual(whole);
        expect(await store.readStream(s, { fromRevision: 2n })).toEqual(whole.slice(2));
        expect((await store.readStream(s, { fromRevision: 3n })).map((e) => `${e.type}@${e.revision}`)).toEqual(['A3@3']);
        // Past the end of an existing stream, and any revision of a missing one: nothing, no error.
        expect(await store.readStream(s, { fromRevision: 4n })).toEqual([]);
        expect(await store.readStream(s, { fromRevision: 1000n })).toEqual([]);
        expect(await store.readStream(stream('from-missing'), { fromRevision: 0n })).toEqual([]);
        expect(await store.readStream(stream('from-missing'), { fromRevision: 5n })).toEqual([]);

        // A tail appended later is read from where the reader stopped.
        await store.append(s, [ev('A4')], 3n);
        expect((await store.readStream(s, { fromRevision: 4n })).map((e) => `${e.type}@${e.revision}`)).toEqual(['A4@4']);
      });

      it('readAll returns events after a position (exclusive), in global order across streams, up to a limit', async () => {
        const before = await store.headPosition();
        const a = stream('ga');
        const b = stream('gb');
        const c = stream('gc');
        const appended: Array<{ streamId: string; events: EventToAppend[]; result: AppendResult }> = [];
        const add = async (streamId: string, events: EventToAppend[], expected: 'no_stream' | bigint) =>
          appended.push({ streamId, events, result: await store.append(streamId, events, expected) });
        await add(a, [ev('A0'), ev('A1')], 'no_stream');
        await add(b, [ev('B0')], 'no_stream');
        await add(a, [ev('A2')], 1n);
        await add(c, [ev('C0'), ev('C1')], 'no_stream');
        const expectedIds = appended.flatMap((x) => x.events.map((e) => e.id));
        const lastPosition = appended[appended.length - 1]!.result.position;

        const all = await store.readAll(before, 1000);
        expect(all.every((e) => typeof e.position === 'bigint')).toBe(true);
        expectStrictlyIncreasing(all.map((e) => e.position));
        if (before !== null) expect(all.every((e) => e.position > before)).toBe(true);
        const ours = all.filter((e) => [a, b, c].includes(e.streamId));
        expect(ours.map((e) => e.id)).toEqual(expectedIds);
        expect(ours.map((e) => `${e.streamId}@${e.revision}`)).toEqual([
          `${a}@0`, `${a}@1`, `${b}@0`, `${a}@2`, `${c}@0`, `${c}@1`,
        ]);
        expect(ours[ours.length - 1]!.position).toBe(lastPosition);

        // limit
        const firstThree = await store.readAll(before, 3);
        expect(firstThree).toHaveLength(3);
        expect(firstThree.map((e) => e.id)).toEqual(all.slice(0, 3).map((e) => e.id));

        // exclusive start
        const afterFirst = await store.readAll(ours[0]!.position, 1000);
        expect(afterFirst[0]!.position > ours[0]!.position).toBe(true);
        expect(afterFirst.map((e) => e.id)).not.toContain(ours[0]!.id);
        expect(afterFirst.filter((e) => [a, b, c].includes(e.streamId)).map((e) => e.id)).toEqual(expectedIds.slice(1));
        expect((await store.readAll(lastPosition, 1000)).filter((e) => [a, b, c].includes(e.streamId))).toEqual([]);

        // paging one event at a time walks the same sequence
        const paged: StoredEvent[] = [];
        let cursor = before;
        while (paged.length === 0 || paged[paged.length - 1]!.position < lastPosition) {
          const page = await store.readAll(cursor, 1);
          expect(page).toHaveLength(1);
          if (cursor !== null && !(page[0]!.position > cursor)) throw new Error(`readAll(${cursor}, 1) did not move past ${cursor}`);
          if (paged.length > all.length) throw new Error('paging went past the events read in one go');
          paged.push(page[0]!);
          cursor = page[0]!.position;
        }
        expect(paged.map((e) => e.id)).toEqual(all.filter((e) => e.position <= lastPosition).map((e) => e.id));
      });

      it('readAll from the start returns the first events of the log', async () => {
        await store.append(stream('start'), [ev('A'), ev('B')], 'no_stream');
        const two = await store.readAll(null, 2);
        expect(two).toHaveLength(2);
        expectStrictlyIncreasing(two.map((e) => e.position));
        const one = await store.readAll(null, 1);
        expect(one.map((e) => e.id)).toEqual([two[0]!.id]);
        expect((await store.readAll(two[0]!.position, 1)).map((e) => e.id)).toEqual([two[1]!.id]);
        expect(await store.readAll(null, 0)).toEqual([]);
      });

      it('headPosition is the position of the last event in the log', async () => {
        const s = stream('head');
        const result = await store.append(s, [ev('A'), ev('B')], 'no_stream');
        const head = await store.headPosition();
        expect(typeof head).toBe('bigint');
        expect(head! >= result.position).toBe(true); // others may append on a shared server
        // The head is an event's position: ours, or one appended after ours.
        if (head !== result.position) {
          expect((await store.readAll(result.position, 1000)).map((e) => e.position)).toContain(head);
        }
        const later = await store.readAll(head, 1000);
        expect(later.every((e) => e.position > head!)).toBe(true);
        expect(later.some((e) => e.streamId === s)).toBe(false);
      });
    });

    describe('concurrency', () => {
      it('20 concurrent appends with the same expected revision: exactly one wins', async () => {
        const s = stream('race');
        await store.append(s, [ev('Start')], 'no_stream');
        const attempts = Array.from({ length: 20 }, (_, i) => [ev(`Try${i}`)]);
        const settled = await Promise.allSettled(attempts.map((events) => store.append(s, events, 0n)));

        const won = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, result: r.value }] : []));
        const lost = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
        expect(won).toHaveLength(1);
        expect(won[0]!.result.revision).toBe(1n);
        expect(lost).toHaveLength(19);
        for (const error of lost) {
          expect(error).toBeInstanceOf(WrongExpectedVersionError);
          expect((error as WrongExpectedVersionError).actual).toBe(1n);
        }
        const read = await store.readStream(s);
        expect(read.map((e) => e.id)).toEqual([read[0]!.id, attempts[won[0]!.i]![0]!.id]);
      });

      it("20 concurrent 'no_stream' appends to one new stream: exactly one creates it", async () => {
        const s = stream('race-new');
        const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.append(s, [ev(`Try${i}`)], 'no_stream')));
        expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
        expect(lost).toHaveLength(19);
        for (const error of lost) {
          expect(error).toBeInstanceOf(WrongExpectedVersionError);
          expect((error as WrongExpectedVersionError).actual).toBe(0n);
        }
        expect(await store.readStream(s)).toHaveLength(1);
      });

      it('20 concurrent appends to different streams all succeed', async () => {
        const streams = Array.from({ length: 20 }, (_, i) => stream(`par${i}`));
        const results = await Promise.all(streams.map((s, i) => store.append(s, [ev(`E${i}`), ev(`F${i}`)], 'no_stream')));
        expect(results.every((r) => r.revision === 1n)).toBe(true);
        expect(new Set(results.map((r) => r.position)).size).toBe(20);
        for (const s of streams) expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0n, 1n]);
      });
    });

    describe('subscribeToAll', () => {
      it('delivers existing events then live ones, in order, after an exclusive start position', async () => {
        const a = stream('sa');
        const b = stream('sb');
        await store.append(a, [ev('A0'), ev('A1')], 'no_stream');
        await store.append(b, [ev('B0')], 'no_stream');
        const first = (await store.readStream(a))[0]!;
        const received: StoredEvent[] = [];
        const sub = subscribe(store, first.position, async (batch) => {
          received.push(...batch);
        });
        try {
          await waitFor(() => received.filter((e) => [a, b].includes(e.streamId)).length >= 2, 'existing events');
          await store.append(a, [ev('A2')], 1n);
          await store.append(b, [ev('B1'), ev('B2')], 0n);
          await waitFor(() => received.filter((e) => [a, b].includes(e.streamId)).length >= 5, 'live events');
        } finally {
          await sub.stop();
        }
        expect(received.length).toBeGreaterThan(0);
        expect(received[0]!.position > first.position).toBe(true);
        expectStrictlyIncreasing(received.map((e) => e.position));
        expect(received.filter((e) => [a, b].includes(e.streamId)).map((e) => e.type)).toEqual(['A1', 'B0', 'A2', 'B1', 'B2']);
      });

      it('never calls the handler concurrently', async () => {
        const start = await store.headPosition();
        const streams = Array.from({ length: 8 }, (_, i) => stream(`seq${i}`));
        let active = 0;
        let maxActive = 0;
        const received: StoredEvent[] = [];
        const sub = subscribe(store, start, async (batch) => {
          active++;
          maxActive = Math.max(maxActive, active);
          await sleep(3);
          received.push(...batch);
          await sleep(1);
          active--;
        });
        try {
          await Promise.all(streams.map((s) => store.append(s, [ev('X'), ev('Y')], 'no_stream')));
          await Promise.all(streams.map((s) => store.append(s, [ev('Z')], 1n)));
          await waitFor(() => received.filter((e) => streams.includes(e.streamId)).length >= 24, 'all events');
        } finally {
          await sub.stop();
        }
        expect(maxActive).toBe(1);
        expectStrictlyIncreasing(received.map((e) => e.position));
      });

      it('delivers a batch again when the handler threw, skipping nothing', async () => {
        const silence = jest.spyOn(console, 'error').mockImplementation(() => undefined);
        try {
          const start = await store.headPosition();
          const s = stream('retry');
          const events = [ev('E0'), ev('E1'), ev('E2'), ev('E3'), ev('E4')];
          await store.append(s, events.slice(0, 2), 'no_stream');
          await store.append(s, events.slice(2), 1n);
          const poison = events[2]!.id;
          let failures = 0;
          let poisonDeliveries = 0;
          const handled: StoredEvent[] = [];
          const sub = subscribe(store, start, async (batch) => {
            if (batch.some((e) => e.id === poison)) {
              poisonDeliveries++;
              if (failures < 2) {
                failures++;
                throw new Error('handler failed (expected by the test)');
              }
            }
            handled.push(...batch);
          });
          try {
            await waitFor(() => handled.filter((e) => e.streamId === s).length >= 5, 'all events handled');
          } finally {
            await sub.stop();
          }
          expect(failures).toBe(2);
          expect(poisonDeliveries).toBe(3);
          expect(handled.filter((e) => e.streamId === s).map((e) => e.id)).toEqual(events.map((e) => e.id));
          expectStrictlyIncreasing(handled.map((e) => e.position));
        } finally {
          silence.mockRestore();
        }
      });

      it('stops when aborted: the promise resolves and the handler is not called again', async () => {
        const start = await store.headPosition();
        const s = stream('stop');
        const received: StoredEvent[] = [];
        const sub = subscribe(store, start, async (batch) => {
          received.push(...batch);
        });
        await store.append(s, [ev('Before')], 'no_stream');
        await waitFor(() => received.some((e) => e.streamId === s), 'first event');
        await expect(withTimeout(sub.stop(), 5000)).resolves.toBeUndefined();
        const count = received.length;
        await store.append(s, [ev('After')], 0n);
        await sleep(300);
        expect(received.length).toBe(count);
        expect(received.filter((e) => e.streamId === s).map((e) => e.type)).toEqual(['Before']);
      });

      it('stops promptly when aborted while idle, and at once when the signal is already aborted', async () => {
        const idle = subscribe(store, await store.headPosition(), async () => undefined);
        await sleep(100);
        await expect(withTimeout(idle.stop(), 5000)).resolves.toBeUndefined();

        const aborted = new AbortController();
        aborted.abort();
        const handler = jest.fn(async (_: StoredEvent[]) => undefined);
        await expect(withTimeout(store.subscribeToAll(null, handler, aborted.signal), 5000)).resolves.toBeUndefined();
        expect(handler).not.toHaveBeenCalled();
      });
    });
  });
}

// ---------------------------------------------------------------- helpers

function ev(type: string, n = 0): EventToAppend {
  return {
    id: randomUUID(),
    type,
    data: { n, text: `${type} ünïcødé`, nested: { list: [1, 'two', null], flag: true } },
    metadata: {
      propertyId: 'property-contract',
      commandId: randomUUID(),
      actor: { kind: 'system', id: 'contract-test' },
    },
  };
}

async function expectWrongVersion(
  attempt: Promise<unknown>,
  streamId: string,
  expected: WrongExpectedVersionError['expected'],
  actual: WrongExpectedVersionError['actual'],
): Promise<void> {
  const error = await attempt.then(
    () => {
      throw new Error(`append to ${streamId} expecting ${String(expected)} should have failed`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WrongExpectedVersionError);
  const wrong = error as WrongExpectedVersionError;
  expect(wrong.streamId).toBe(streamId);
  expect(wrong.expected).toBe(expected);
  expect(wrong.actual).toBe(actual);
}

function expectStrictlyIncreasing(positions: Position[]): void {
  for (let i = 1; i < positions.length; i++) {
    if (!(positions[i]! > positions[i - 1]!)) {
      throw new Error(`positions not strictly increasing at ${i}: ${positions[i - 1]} then ${positions[i]}`);
    }
  }
}

function subscribe(store: EventStore, after: Position | null, handle: (events: StoredEvent[]) => Promise<void>) {
  const controller = new AbortController();
  const done = store.subscribeToAll(after, handle, controller.signal);
  return {
    done,
    async stop(): Promise<void> {
      controller.abort();
      await done;
    },
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
