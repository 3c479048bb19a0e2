/**
 * What every ChangeFeed adapter must do (see src/application/ports/change-feed.ts). Each test
 * opens its own, fresh feed (`open` must return an empty feed every time) and closes it after.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { type ChangeEntry, type ChangeFeed, type ChangeType, compareChangeIds } from '../../src/application/ports/change-feed.js';

export interface OpenChangeFeedOptions {
  /** Entries the feed keeps at least; older ones may be dropped (then readAfter says tooOld). */
  capacity?: number;
}

export type OpenChangeFeed = (options?: OpenChangeFeedOptions) => Promise<ChangeFeed>;

export function change(id: string, overrides: Partial<Omit<ChangeEntry, 'id'>> = {}): ChangeEntry {
  return {
    id,
    type: 'conversation.updated' satisfies ChangeType,
    propertyId: 'p1',
    conversationId: 'c1',
    data: { seq: id },
    ...overrides,
  };
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const ids = (entries: ChangeEntry[]) => entries.map((e) => e.id);

export function changeFeedContract(name: string, open: OpenChangeFeed): void {
  describe(`ChangeFeed contract: ${name}`, () => {
    const opened: ChangeFeed[] = [];
    const fresh = async (options?: OpenChangeFeedOptions) => {
      const feed = await open(options);
      opened.push(feed);
      return feed;
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((feed) => feed.close()));
    });

    it('readAfter returns the entries strictly after the id, oldest first, at most limit', async () => {
      const feed = await fresh();
      await feed.publish([change('1-0'), change('1-1'), change('2-0')]);
      await feed.publish([change('10-0')]);

      expect(await feed.readAfter('0-0', 100)).toEqual({ entries: [change('1-0'), change('1-1'), change('2-0'), change('10-0')], tooOld: false });
      expect(ids((await feed.readAfter('1-0', 100)).entries)).toEqual(['1-1', '2-0', '10-0']);
      expect(ids((await feed.readAfter('1-1', 2)).entries)).toEqual(['2-0', '10-0']);
      expect(ids((await feed.readAfter('0-0', 2)).entries)).toEqual(['1-0', '1-1']);
      // An id that is not in the feed: still "strictly after".
      expect(ids((await feed.readAfter('1-5', 100)).entries)).toEqual(['2-0', '10-0']);
      expect(await feed.readAfter('10-0', 100)).toEqual({ entries: [], tooOld: false });
      expect(await feed.readAfter('99-0', 100)).toEqual({ entries: [], tooOld: false });

      // Paging with limit visits everything exactly once.
      const paged: string[] = [];
      let after = '0-0';
      for (;;) {
        const page = await feed.readAfter(after, 3);
        expect(page.tooOld).toBe(false);
        if (page.entries.length === 0) break;
        paged.push(...ids(page.entries));
        after = page.entries[page.entries.length - 1]!.id;
      }
      expect(paged).toEqual(['1-0', '1-1', '2-0', '10-0']);
    });

    it('orders ids numerically (position, then n), including positions beyond 2^53', async () => {
      const feed = await fresh();
      const ordered = ['9-0', '9-2', '9-10', '10-0', '9007199254740993-0', '9007199254740993-1', '9999999999999999999-0'];
      await feed.publish(ordered.map((id) => change(id)));
      expect(ids((await feed.readAfter('0-0', 100)).entries)).toEqual(ordered);
      expect(ids((await feed.readAfter('9-2', 100)).entries)).toEqual(ordered.slice(2));
      expect(ids((await feed.readAfter('9007199254740992-5', 100)).entries)).toEqual(ordered.slice(4));
      expect(await feed.lastId()).toBe('9999999999999999999-0');
    });

    it('ignores a republished id that is not greater than the newest (projector replay after a crash)', async () => {
      const feed = await fresh();
      await feed.publish([change('1-0'), change('2-0'), change('3-0')]);
      await feed.publish([change('2-0', { data: { replayed: true } }), change('3-0', { data: { replayed: true } }), change('4-0')]);
      await feed.publish([]);
      expect((await feed.readAfter('0-0', 100)).entries).toEqual([change('1-0'), change('2-0'), change('3-0'), change('4-0')]);
    });

    it('ignores duplicate and out-of-order ids within one publish call', async () => {
      const feed = await fresh();
      await feed.publish([
        change('5-0', { data: { first: true } }),
        change('5-0', { data: { first: false } }),
        change('4-9'),
        change('6-0'),
        change('5-1'),
        change('7-0'),
      ]);
      expect((await feed.readAfter('0-0', 100)).entries).toEqual([change('5-0', { data: { first: true } }), change('6-0'), change('7-0')]);
      expect(await feed.lastId()).toBe('7-0');
    });

    it('lastId is 0-0 on a fresh feed, then the newest id; an ignored republish does not move it', async () => {
      const feed = await fresh();
      expect(await feed.lastId()).toBe('0-0');
      await feed.publish([change('3-0'), change('3-1')]);
      expect(await feed.lastId()).toBe('3-1');
      await feed.publish([change('2-0'), change('3-1')]);
      expect(await feed.lastId()).toBe('3-1');
      await feed.publish([change('12-0')]);
      expect(await feed.lastId()).toBe('12-0');
    });

    it('lastId is at least every id the feed handed out: an id above it is "ahead" (SSE answers reset)', async () => {
      const feed = await fresh();
      await feed.publish([change('3-0'), change('3-1'), change('8-0')]);
      const handedOut = ids((await feed.readAfter('0-0', 100)).entries);
      const last = await feed.lastId();
      expect(handedOut.every((id) => compareChangeIds(id, last) <= 0)).toBe(true);
      // readAfter alone cannot tell "ahead" from "nothing new": both are empty and not tooOld.
      expect(await feed.readAfter('9-0', 10)).toEqual({ entries: [], tooOld: false });
      expect(compareChangeIds('9-0', last)).toBeGreaterThan(0);
    });

    it("readAfter('0-0') is not tooOld on a fresh feed, nor before anything was dropped", async () => {
      const feed = await fresh();
      expect(await feed.readAfter('0-0', 10)).toEqual({ entries: [], tooOld: false });
      await feed.publish([change('42-0'), change('43-0')]);
      expect(await feed.readAfter('0-0', 10)).toEqual({ entries: [change('42-0'), change('43-0')], tooOld: false });
    });

    it('subscribe delivers live entries in order to several listeners; unsubscribe stops delivery', async () => {
      const feed = await fresh();
      await feed.publish([change('1-0')]);
      const a: string[] = [];
      const b: string[] = [];
      const stopA = feed.subscribe((e) => a.push(e.id));
      const stopB = feed.subscribe((e) => b.push(e.id));
      // The catch-up read a stream runs right after subscribing (see DESIGN-NOTES).
      expect(await feed.lastId()).toBe('1-0');

      await feed.publish([change('2-0'), change('2-1')]);
      await feed.publish([change('3-0')]);
      await waitFor(() => a.length >= 3 && b.length >= 3, 'both listeners to get 3 entries');
      expect(a).toEqual(['2-0', '2-1', '3-0']);
      expect(b).toEqual(['2-0', '2-1', '3-0']);

      stopA();
      await feed.publish([change('2-1'), change('3-0')]); // ignored republish: not delivered again
      await feed.publish([change('4-0')]);
      await waitFor(() => b.length >= 4, 'listener b to get 4-0');
      expect(b).toEqual(['2-0', '2-1', '3-0', '4-0']);
      expect(a).toEqual(['2-0', '2-1', '3-0']);

      stopB();
      stopB(); // idempotent
      await feed.publish([change('5-0')]);
      await sleep(150);
      expect(a).toEqual(['2-0', '2-1', '3-0']);
      expect(b).toEqual(['2-0', '2-1', '3-0', '4-0']);
    });

    it('a listener that subscribes later gets what is published after it subscribed', async () => {
      const feed = await fresh();
      const early: string[] = [];
      feed.subscribe((e) => early.push(e.id));
      await feed.lastId();
      await feed.publish([change('1-0')]);
      await waitFor(() => early.length >= 1, 'the early listener to get 1-0');
      const late: string[] = [];
      feed.subscribe((e) => late.push(e.id));
      await feed.publish([change('2-0'), change('3-0')]);
      await waitFor(() => early.length >= 3 && late.length >= 2, 'both listeners to get 2-0 and 3-0');
      expect(early).toEqual(['1-0', '2-0', '3-0']);
      expect(late).toEqual(['2-0', '3-0']);
    });

    it('readAfter an id older than what is retained is tooOld; never a silent gap', async () => {
      const capacity = 5;
      const feed = await fresh({ capacity });
      const published: string[] = [];
      for (let batch = 0; batch < 10; batch++) {
        const entries = Array.from({ length: 50 }, (_, i) => change(`${batch * 50 + i + 1}-0`, { data: { padding: 'x'.repeat(100) } }));
        published.push(...ids(entries));
        await feed.publish(entries);
      }
      const n = published.length;
      expect(await feed.lastId()).toBe(published[n - 1]);

      expect(await feed.readAfter('0-0', 10)).toEqual({ entries: [], tooOld: true });
      expect(await feed.readAfter(published[0]!, 10)).toEqual({ entries: [], tooOld: true });

      // At least the newest `capacity` entries are retained.
      const newest = await feed.readAfter(published[n - capacity]!, 100);
      expect(newest.tooOld).toBe(false);
      expect(ids(newest.entries)).toEqual(published.slice(n - capacity + 1));
      expect(await feed.readAfter(published[n - 1]!, 10)).toEqual({ entries: [], tooOld: false });

      // For every id: either tooOld, or exactly the next published entry (nothing skipped);
      // and the tooOld ids are a prefix (once retained, everything newer is retained).
      let firstRetained = -1;
      for (let i = 0; i < n - 1; i++) {
        const read = await feed.readAfter(published[i]!, 1);
        if (read.tooOld) {
          expect(read.entries).toEqual([]);
          expect(firstRetained).toBe(-1);
        } else {
          if (firstRetained === -1) firstRetained = i;
          expect(ids(read.entries)).toEqual([published[i + 1]]);
        }
      }
      expect(firstRetained).toBeGreaterThan(0);
      expect(firstRetained).toBeLessThanOrEqual(n - capacity);
    });

    it('round-trips every field: optional employeeId, nested data', async () => {
      const feed = await fresh();
      const withEmployee = change('1-0', {
        type: 'alert.created',
        propertyId: 'property-ü',
        conversationId: 'conversation-🙂',
        employeeId: 'employee-7',
        data: {
          alert: { id: 'a1', kind: 'guest-waiting', at: '2025-01-02T03:04:05.678Z' },
          badges: ['new', 'urgent'],
          nested: { deeper: { list: [1, 2.5, -3, { x: null }], empty: {}, none: [] } },
          flag: false,
          text: 'line 1\nline 2 "quoted" \\ tab\t',
          nothing: null,
        },
      });
      const withoutEmployee = change('1-1', { type: 'message.created', data: { message: { id: 'm1', text: 'hi', by: { kind: 'guest' } } } });
      const updated = change('2-0', { type: 'conversation.updated', data: {} });
      const received: ChangeEntry[] = [];
      feed.subscribe((e) => received.push(e));
      await feed.lastId();
      await feed.publish([withEmployee, withoutEmployee, updated]);

      const read = await feed.readAfter('0-0', 10);
      expect(read.entries).toStrictEqual([withEmployee, withoutEmployee, updated]);
      expect('employeeId' in read.entries[1]!).toBe(false);
      await waitFor(() => received.length >= 3, 'the listener to get 3 entries');
      expect(received).toStrictEqual([withEmployee, withoutEmployee, updated]);
    });

    it('close() resolves promptly with a live subscription', async () => {
      const feed = await open();
      feed.subscribe(() => {});
      await feed.lastId();
      const started = Date.now();
      await feed.close();
      expect(Date.now() - started).toBeLessThan(1500);
    });
  });
}
