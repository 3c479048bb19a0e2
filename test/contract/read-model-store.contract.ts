/**
 * The behaviour every ReadModelStore adapter must have (SQLite embedded, MongoDB/FerretDB).
 *
 * `open` must return a new store over the same storage on every call: the suite opens one
 * store for all tests (each test uses its own, randomly suffixed collection and projector
 * names, so suites and tests never see each other's data) and a second one to check that
 * what was committed is durable and visible to another store instance.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Doc, DocWrite, Filter, ReadModelStore } from '../../src/application/ports/read-models.js';

/** Documents with arbitrary body fields (the port's `Doc` names only `_id` and `_pos`). */
type AnyDoc = Doc & { [field: string]: unknown };

const TWO_53 = 2n ** 53n;
const INT64_MAX = 2n ** 63n - 1n;

export function readModelStoreContract(name: string, open: () => Promise<ReadModelStore>): void {
  describe(`ReadModelStore contract: ${name}`, () => {
    let store: ReadModelStore;
    const run = randomBytes(4).toString('hex');
    let counter = 0;
    /** A collection or projector name no other test (or suite) uses. */
    const unique = (base: string) => `${base}_${run}_${++counter}`;
    const ids = (docs: Doc[]) => docs.map((d) => d._id);
    const write = (collection: string, doc: AnyDoc): DocWrite => ({ collection, doc });

    beforeAll(async () => {
      store = await open();
    });

    afterAll(async () => {
      await store?.close();
    });

    /** A collection of small documents covering the scalar types filters and sorts use. */
    async function seeded(): Promise<string> {
      const c = unique('items');
      const docs: AnyDoc[] = [
        { _id: 'a', _pos: 1n, kind: 'ticket', n: 3, f: 1.5, big: 3_000_000_000, flag: true, owner: 'u1', s: 'b', tag: null },
        { _id: 'b', _pos: 2n, kind: 'ticket', n: -3, f: 10, big: 1, flag: false, owner: null, s: 'B' },
        { _id: 'c', _pos: 3n, kind: 'message', n: 10, f: 2, big: 2 ** 53 - 1, flag: true, owner: 'u2', s: 'é' },
        { _id: 'd', _pos: 4n, kind: 'message', n: 2.5, f: -1, big: -4_000_000_000, flag: false, owner: 'u1', s: 'Z', tag: 'x' },
        { _id: 'e', _pos: 5n, kind: 'ticket', n: 0, f: 0.25, big: 7, flag: true, owner: 'u2', s: 'a' },
      ];
      await store.commit(unique('seed'), docs.map((d) => write(c, d)), 5n);
      return c;
    }

    describe('get', () => {
      it('returns null for a missing document, also in a collection never written', async () => {
        const c = await seeded();
        expect(await store.get<AnyDoc>(c, 'nope')).toBeNull();
        expect(await store.get<AnyDoc>(unique('never'), 'x')).toBeNull();
      });

      it('round-trips nested objects, arrays of objects, booleans, nulls, numbers and unicode', async () => {
        const c = unique('roundtrip');
        const doc: AnyDoc = {
          _id: 'conv-ü-😀',
          _pos: 42n,
          text: 'Grüße, 你好, emoji 😀, quotes "\' and \\ backslash\nnewline',
          empty: '',
          yes: true,
          no: false,
          nothing: null,
          int: 7,
          negative: -12,
          float: 3.25,
          large: 3_000_000_000,
          maxSafe: Number.MAX_SAFE_INTEGER,
          ticket: { id: 't1', status: 'assigned', ownerId: null, nested: { deeper: { ok: true, list: [1, 'two', null] } } },
          reasons: ['a', 'b'],
          messages: [
            { id: 'm1', author: 'guest', text: 'héllo', at: '2024-01-01T00:00:00.000Z', read: false },
            { id: 'm2', author: 'ai', text: null, meta: { score: 0.5 } },
          ],
          emptyList: [],
          emptyObject: {},
        };
        await store.commit(unique('p'), [write(c, doc)], 42n);
        const got = await store.get<AnyDoc>(c, 'conv-ü-😀');
        expect(got).toEqual(doc);
        expect(typeof got!._pos).toBe('bigint');
        expect(typeof got!.large).toBe('number');
        expect(typeof got!.maxSafe).toBe('number');
        expect(typeof got!.int).toBe('number');
      });

      it('stores documents with JSON semantics: an undefined field is absent, not null', async () => {
        const c = unique('undef');
        await store.commit(unique('p'), [write(c, { _id: 'x', _pos: 1n, kept: 1, gone: undefined })], 1n);
        const got = await store.get<AnyDoc>(c, 'x');
        expect(got).not.toBeNull();
        expect(Object.prototype.hasOwnProperty.call(got, 'gone')).toBe(false);
        expect(await store.count(c, { gone: null })).toBe(1);
      });
    });

    describe('getMany', () => {
      it('returns the stored documents of the ids asked for, in any order, skipping missing and repeated ids', async () => {
        const c = await seeded();
        const found = await store.getMany<AnyDoc>(c, ['e', 'nope', 'a', 'c', 'a']);
        expect(found.map((d) => d._id).sort()).toEqual(['a', 'c', 'e']);
        expect(found.find((d) => d._id === 'a')).toEqual(await store.get<AnyDoc>(c, 'a'));
        expect(found.every((d) => typeof d._pos === 'bigint')).toBe(true);
      });

      it('returns nothing for no ids, and nothing from a collection never written', async () => {
        const c = await seeded();
        expect(await store.getMany<AnyDoc>(c, [])).toEqual([]);
        expect(await store.getMany<AnyDoc>(unique('never'), ['a', 'b'])).toEqual([]);
      });

      it('reads a batch of more ids than one query takes (2,500) completely', async () => {
        const c = unique('many');
        const p = unique('proj');
        const docs = Array.from({ length: 2500 }, (_, i) => ({ _id: `m${i}`, _pos: BigInt(i + 1), i }));
        await store.commit(p, docs.map((d) => ({ collection: c, doc: d, absent: true })), 2500n);
        const found = await store.getMany<AnyDoc>(c, [...docs.map((d) => d._id), 'absent']);
        expect(found.length).toBe(2500);
        expect(new Set(found.map((d) => d._id)).size).toBe(2500);
      });
    });

    describe('find and count', () => {
      it('returns every document for an empty filter, with _pos as bigint', async () => {
        const c = await seeded();
        const all = await store.find<AnyDoc>(c, {}, { sort: { _id: 1 } });
        expect(ids(all)).toEqual(['a', 'b', 'c', 'd', 'e']);
        for (const d of all) expect(typeof d._pos).toBe('bigint');
        expect(all.map((d) => d._pos)).toEqual([1n, 2n, 3n, 4n, 5n]);
        expect(all[0]).toEqual({ _id: 'a', _pos: 1n, kind: 'ticket', n: 3, f: 1.5, big: 3_000_000_000, flag: true, owner: 'u1', s: 'b', tag: null });
        expect(await store.count(c, {})).toBe(5);
      });

      it('finds nothing in an empty or never-written collection', async () => {
        const c = unique('empty');
        expect(await store.find<AnyDoc>(c, {})).toEqual([]);
        expect(await store.find<AnyDoc>(c, { kind: 'x' }, { sort: { n: 1 }, limit: 3 })).toEqual([]);
        expect(await store.count(c, {})).toBe(0);
      });

      it('filters by equality on a string', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, { kind: 'ticket' }, { sort: { _id: 1 } }))).toEqual(['a', 'b', 'e']);
        expect(ids(await store.find<AnyDoc>(c, { s: 'é' }))).toEqual(['c']);
        expect(ids(await store.find<AnyDoc>(c, { s: 'b' }))).toEqual(['a']); // case-sensitive: not 'B'
        expect(await store.find<AnyDoc>(c, { kind: 'nothing' })).toEqual([]);
        expect(await store.count(c, { kind: 'message' })).toBe(2);
      });

      it('filters by equality on a number (integer, float, negative, large)', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, { n: 10 }))).toEqual(['c']);
        expect(ids(await store.find<AnyDoc>(c, { n: 2.5 }))).toEqual(['d']);
        expect(ids(await store.find<AnyDoc>(c, { n: -3 }))).toEqual(['b']);
        expect(ids(await store.find<AnyDoc>(c, { n: 0 }))).toEqual(['e']);
        expect(ids(await store.find<AnyDoc>(c, { big: 3_000_000_000 }))).toEqual(['a']);
        expect(ids(await store.find<AnyDoc>(c, { big: 2 ** 53 - 1 }))).toEqual(['c']);
        expect(await store.count(c, { n: 11 })).toBe(0);
      });

      it('filters by equality on a boolean', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, { flag: true }, { sort: { _id: 1 } }))).toEqual(['a', 'c', 'e']);
        expect(ids(await store.find<AnyDoc>(c, { flag: false }, { sort: { _id: 1 } }))).toEqual(['b', 'd']);
        expect(await store.count(c, { flag: true })).toBe(3);
        expect(await store.count(c, { flag: false })).toBe(2);
      });

      it('filters by null: matches null values and missing fields', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, { owner: null }))).toEqual(['b']);
        // `tag` is null on a, missing on b, c, e and 'x' on d.
        expect(ids(await store.find<AnyDoc>(c, { tag: null }, { sort: { _id: 1 } }))).toEqual(['a', 'b', 'c', 'e']);
        expect(await store.count(c, { tag: null })).toBe(4);
        expect(await store.count(c, { missingEverywhere: null })).toBe(5);
      });

      it('filters with $in on strings, numbers, booleans and null', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, { owner: { $in: ['u2', 'nobody'] } }, { sort: { _id: 1 } }))).toEqual(['c', 'e']);
        expect(ids(await store.find<AnyDoc>(c, { n: { $in: [3, 2.5, 99] } }, { sort: { _id: 1 } }))).toEqual(['a', 'd']);
        expect(ids(await store.find<AnyDoc>(c, { flag: { $in: [false] } }, { sort: { _id: 1 } }))).toEqual(['b', 'd']);
        expect(ids(await store.find<AnyDoc>(c, { owner: { $in: [null, 'u2'] } }, { sort: { _id: 1 } }))).toEqual(['b', 'c', 'e']);
        expect(ids(await store.find<AnyDoc>(c, { tag: { $in: [null] } }, { sort: { _id: 1 } }))).toEqual(['a', 'b', 'c', 'e']);
        expect(await store.count(c, { owner: { $in: ['u1', 'u2'] } })).toBe(4);
      });

      it('filters with an empty $in: nothing matches', async () => {
        const c = await seeded();
        expect(await store.find<AnyDoc>(c, { owner: { $in: [] } })).toEqual([]);
        expect(await store.count(c, { owner: { $in: [] } })).toBe(0);
      });

      it('filters with $lt and $gt on numbers (strict bounds)', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, { n: { $lt: 3 } }, { sort: { n: 1 } }))).toEqual(['b', 'e', 'd']);
        expect(ids(await store.find<AnyDoc>(c, { n: { $gt: 2.5 } }, { sort: { n: 1 } }))).toEqual(['a', 'c']);
        expect(ids(await store.find<AnyDoc>(c, { f: { $gt: 1.5 } }, { sort: { f: 1 } }))).toEqual(['c', 'b']);
        expect(ids(await store.find<AnyDoc>(c, { big: { $gt: 2_147_483_647 } }, { sort: { big: 1 } }))).toEqual(['a', 'c']);
        expect(ids(await store.find<AnyDoc>(c, { big: { $lt: -2_147_483_648 } }))).toEqual(['d']);
        expect(await store.count(c, { n: { $lt: -3 } })).toBe(0);
        expect(await store.count(c, { n: { $gt: -3 } })).toBe(4);
      });

      it('filters with $lt and $gt on strings in code point (UTF-8 byte) order', async () => {
        const c = await seeded();
        // Order of `s`: 'B' < 'Z' < 'a' < 'b' < 'é'.
        expect(ids(await store.find<AnyDoc>(c, { s: { $lt: 'a' } }, { sort: { s: 1 } }))).toEqual(['b', 'd']);
        expect(ids(await store.find<AnyDoc>(c, { s: { $gt: 'a' } }, { sort: { s: 1 } }))).toEqual(['a', 'c']);
        expect(ids(await store.find<AnyDoc>(c, { s: { $gt: 'z' } }))).toEqual(['c']);
        expect(await store.count(c, { s: { $lt: 'B' } })).toBe(0);
      });

      it('ANDs several fields', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, { kind: 'ticket', flag: true }, { sort: { _id: 1 } }))).toEqual(['a', 'e']);
        expect(ids(await store.find<AnyDoc>(c, { kind: 'ticket', flag: true, owner: 'u2' }))).toEqual(['e']);
        expect(ids(await store.find<AnyDoc>(c, { kind: 'message', n: { $gt: 2 }, owner: { $in: ['u1', 'u2'] }, s: { $lt: 'a' } }))).toEqual(['d']);
        expect(await store.find<AnyDoc>(c, { kind: 'message', flag: true, owner: 'u1' })).toEqual([]);
        expect(await store.count(c, { kind: 'ticket', owner: { $in: ['u1', null] } })).toBe(2);
      });

      it('filters on _id (equality, $in, $lt, $gt)', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, { _id: 'c' }))).toEqual(['c']);
        expect(ids(await store.find<AnyDoc>(c, { _id: { $in: ['e', 'a', 'zz'] } }, { sort: { _id: 1 } }))).toEqual(['a', 'e']);
        expect(ids(await store.find<AnyDoc>(c, { _id: { $lt: 'c' } }, { sort: { _id: 1 } }))).toEqual(['a', 'b']);
        expect(ids(await store.find<AnyDoc>(c, { _id: { $gt: 'c' } }, { sort: { _id: 1 } }))).toEqual(['d', 'e']);
        expect(ids(await store.find<AnyDoc>(c, { _id: { $gt: 'a' }, kind: 'ticket' }, { sort: { _id: 1 } }))).toEqual(['b', 'e']);
        expect(await store.count(c, { _id: 'zz' })).toBe(0);
      });
    });

    describe('sort and limit', () => {
      it('sorts by a number ascending and descending', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { n: 1 } }))).toEqual(['b', 'e', 'd', 'a', 'c']);
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { n: -1 } }))).toEqual(['c', 'a', 'd', 'e', 'b']);
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { big: 1 } }))).toEqual(['d', 'b', 'e', 'a', 'c']);
      });

      it('sorts strings in code point (UTF-8 byte) order', async () => {
        const c = await seeded();
        expect((await store.find<AnyDoc>(c, {}, { sort: { s: 1 } })).map((d) => d.s)).toEqual(['B', 'Z', 'a', 'b', 'é']);
        expect((await store.find<AnyDoc>(c, {}, { sort: { s: -1 } })).map((d) => d.s)).toEqual(['é', 'b', 'a', 'Z', 'B']);

        const u = unique('unicode');
        // U+FF21 sorts before U+1F600 by code point, after it in UTF-16 (JavaScript's default sort).
        const values = ['😀', 'Ａ', '中', 'é', 'z', 'A', ''];
        await store.commit(unique('p'), values.map((s, i) => write(u, { _id: `u${i}`, _pos: 1n, s })), 1n);
        expect((await store.find<AnyDoc>(u, {}, { sort: { s: 1 } })).map((d) => d.s)).toEqual(['', 'A', 'z', 'é', '中', 'Ａ', '😀']);
      });

      it('sorts booleans false before true', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { flag: 1, _id: 1 } }))).toEqual(['b', 'd', 'a', 'c', 'e']);
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { flag: -1, _id: 1 } }))).toEqual(['a', 'c', 'e', 'b', 'd']);
      });

      it('sorts null and missing values first ascending, last descending', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { owner: 1, _id: 1 } }))).toEqual(['b', 'a', 'd', 'c', 'e']);
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { owner: -1, _id: -1 } }))).toEqual(['e', 'c', 'd', 'a', 'b']);
        const tagsAsc = ids(await store.find<AnyDoc>(c, {}, { sort: { tag: 1 } }));
        expect(tagsAsc[4]).toBe('d');
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { tag: -1 } }))[0]).toBe('d');
      });

      it('sorts by several keys in order, each with its own direction', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { kind: 1, n: -1 } }))).toEqual(['c', 'd', 'a', 'e', 'b']);
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { kind: -1, n: 1 } }))).toEqual(['b', 'e', 'a', 'd', 'c']);
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { owner: 1, flag: -1, _id: -1 } }))).toEqual(['b', 'a', 'd', 'e', 'c']);
      });

      it('sorts by _id ascending and descending', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { _id: 1 } }))).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { _id: -1 } }))).toEqual(['e', 'd', 'c', 'b', 'a']);
        expect(ids(await store.find<AnyDoc>(c, { kind: 'ticket' }, { sort: { _id: -1 } }))).toEqual(['e', 'b', 'a']);
      });

      it('limits the result after filtering and sorting', async () => {
        const c = await seeded();
        expect(ids(await store.find<AnyDoc>(c, {}, { sort: { n: -1 }, limit: 2 }))).toEqual(['c', 'a']);
        expect(ids(await store.find<AnyDoc>(c, { kind: 'ticket' }, { sort: { n: 1 }, limit: 2 }))).toEqual(['b', 'e']);
        expect(ids(await store.find<AnyDoc>(c, { kind: 'ticket' }, { sort: { _id: 1 }, limit: 10 }))).toEqual(['a', 'b', 'e']);
        expect(await store.find<AnyDoc>(c, {}, { limit: 3 })).toHaveLength(3);
        expect(ids(await store.find<AnyDoc>(c, { flag: true }, { sort: { big: -1 }, limit: 1 }))).toEqual(['c']);
      });

      it('returns nothing for limit 0 (not "no limit")', async () => {
        const c = await seeded();
        expect(await store.find<AnyDoc>(c, {}, { limit: 0 })).toEqual([]);
        expect(await store.find<AnyDoc>(c, {}, { sort: { _id: 1 }, limit: 0 })).toEqual([]);
      });

      it('pages through a collection with a $lt cursor on a sort key', async () => {
        const c = unique('pages');
        const seqs = [5, 12, 3_000_000_001, 7, 3_000_000_000, 1];
        await store.commit(unique('p'), seqs.map((seq, i) => write(c, { _id: `c${i}`, _pos: BigInt(i + 1), propertyId: 'p1', seq })), 6n);
        await store.commit(unique('p'), [write(c, { _id: 'other', _pos: 1n, propertyId: 'p2', seq: 100 })], 1n);
        const seen: number[] = [];
        let cursor: number | undefined;
        for (;;) {
          const page = await store.find<AnyDoc>(c, cursor === undefined ? { propertyId: 'p1' } : { propertyId: 'p1', seq: { $lt: cursor } }, {
            sort: { seq: -1 },
            limit: 4,
          });
          if (page.length === 0) break;
          seen.push(...page.map((d) => d.seq as number));
          cursor = page[page.length - 1]!.seq as number;
        }
        expect(seen).toEqual([3_000_000_001, 3_000_000_000, 12, 7, 5, 1]);
      });

      it('pages backwards through one parent\'s children on an ascending index (the transcript query: equality, $lt, descending sort, limit)', async () => {
        const c = unique('transcript');
        await store.ensureIndexes([{ collection: c, fields: { conversationId: 1, seq: 1 } }]);
        const seqs = Array.from({ length: 23 }, (_, i) => 3 * i + 2);
        await store.commit(
          unique('p'),
          [
            ...seqs.map((seq, i) => write(c, { _id: `m${i}`, _pos: BigInt(seq), conversationId: 'c1', seq })),
            // Another conversation's messages interleave in the log: never on c1's pages.
            ...seqs.map((seq, i) => write(c, { _id: `o${i}`, _pos: BigInt(seq + 1), conversationId: 'c2', seq: seq + 1 })),
          ],
          100n,
        );
        const pages: number[][] = [];
        let before: number | null = null;
        for (;;) {
          const filter: Filter = before === null ? { conversationId: 'c1' } : { conversationId: 'c1', seq: { $lt: before } };
          const page = await store.find<AnyDoc>(c, filter, { sort: { seq: -1 }, limit: 5 });
          if (page.length === 0) break;
          pages.push(page.map((d) => d.seq as number));
          before = page[page.length - 1]!.seq as number;
        }
        expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
        expect(pages.flat()).toEqual([...seqs].reverse());
        expect(await store.find<AnyDoc>(c, { conversationId: 'c1', seq: { $lt: 2 } }, { sort: { seq: -1 }, limit: 5 })).toEqual([]);
      });
    });

    describe('write', () => {
      it('writes documents under the same _pos guard and touches no checkpoint', async () => {
        const c = unique('journal');
        const p = unique('proj');
        await store.commit(p, [], 3n);
        await store.write([write(c, { _id: 'a', _pos: 5n, v: 1 }), write(c, { _id: 'b', _pos: 5n, v: 2 })]);
        await store.write([write(c, { _id: 'a', _pos: 5n, v: 'same position' }), write(c, { _id: 'b', _pos: 6n, v: 3 })]);
        expect(await store.get<AnyDoc>(c, 'a')).toEqual({ _id: 'a', _pos: 5n, v: 1 });
        expect(await store.get<AnyDoc>(c, 'b')).toEqual({ _id: 'b', _pos: 6n, v: 3 });
        expect(await store.checkpoint(p)).toBe(3n);
      });
    });

    describe('commit', () => {
      it('inserts new documents into several collections and sets the checkpoint', async () => {
        const a = unique('ca');
        const b = unique('cb');
        const p = unique('proj');
        await store.commit(p, [write(a, { _id: 'x', _pos: 10n, v: 1 }), write(b, { _id: 'x', _pos: 11n, v: 2 })], 11n);
        expect(await store.get<AnyDoc>(a, 'x')).toEqual({ _id: 'x', _pos: 10n, v: 1 });
        expect(await store.get<AnyDoc>(b, 'x')).toEqual({ _id: 'x', _pos: 11n, v: 2 });
        expect(await store.checkpoint(p)).toBe(11n);
      });

      it('sets further checkpoints with the documents (a group and its members), each its own value', async () => {
        const c = unique('cm');
        const group = unique('group');
        const [m1, m2] = [unique('member@1'), unique('member@2')];
        const many = Array.from({ length: 120 }, (_, i) => [unique(`m${i}@1`), BigInt(i + 1)] as const);
        await store.commit(group, [write(c, { _id: 'x', _pos: 7n, v: 1 })], 7n, [[m1, 7n], [m2, 3n], ...many]);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: 7n, v: 1 });
        expect(await store.checkpoint(group)).toBe(7n);
        expect(await store.checkpoint(m1)).toBe(7n);
        expect(await store.checkpoint(m2)).toBe(3n);
        expect(await store.checkpoint(many[119]![0])).toBe(120n);
        // A later commit moves only the checkpoints it names; a checkpoint may also go back (a replay).
        await store.commit(group, [], 9n, [[m2, 9n]]);
        expect([await store.checkpoint(group), await store.checkpoint(m1), await store.checkpoint(m2)]).toEqual([9n, 7n, 9n]);
        await store.commit(group, [], 2n);
        expect(await store.checkpoint(group)).toBe(2n);
      });

      it('replaces a document with a newer _pos (the whole document, not a merge)', async () => {
        const c = unique('newer');
        const p = unique('proj');
        await store.commit(p, [write(c, { _id: 'x', _pos: 10n, status: 'open', ownerId: null, extra: { a: 1 } })], 10n);
        await store.commit(p, [write(c, { _id: 'x', _pos: 12n, status: 'assigned', ownerId: 'u1' })], 12n);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: 12n, status: 'assigned', ownerId: 'u1' });
        expect(await store.count(c, {})).toBe(1);
      });

      it('leaves the stored document on an older or equal redelivery', async () => {
        const c = unique('redeliver');
        const p = unique('proj');
        await store.commit(p, [write(c, { _id: 'x', _pos: 20n, v: 'current' })], 20n);
        await store.commit(p, [write(c, { _id: 'x', _pos: 19n, v: 'older' })], 19n);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: 20n, v: 'current' });
        await store.commit(p, [write(c, { _id: 'x', _pos: 20n, v: 'same position, other body' })], 20n);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: 20n, v: 'current' });
        await store.commit(p, [write(c, { _id: 'x', _pos: 1n, v: 'much older' })], 20n);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: 20n, v: 'current' });
        expect(await store.count(c, {})).toBe(1);
        expect(await store.checkpoint(p)).toBe(20n);
      });

      it('applies the newer documents of a batch that mixes stale and new ones', async () => {
        const c = unique('mixed');
        const d = unique('mixed');
        const p = unique('proj');
        await store.commit(
          p,
          [
            write(c, { _id: 'k1', _pos: 10n, v: 'k1@10' }),
            write(c, { _id: 'k2', _pos: 10n, v: 'k2@10' }),
            write(c, { _id: 'k3', _pos: 10n, v: 'k3@10' }),
            write(d, { _id: 'k1', _pos: 10n, v: 'd:k1@10' }),
          ],
          10n,
        );
        // A redelivered batch overlapping new events: stale writes interleaved with fresh ones.
        await store.commit(
          p,
          [
            write(c, { _id: 'new1', _pos: 9n, v: 'new1@9' }),
            write(c, { _id: 'k1', _pos: 9n, v: 'k1@9' }),
            write(c, { _id: 'k2', _pos: 11n, v: 'k2@11' }),
            write(c, { _id: 'k3', _pos: 10n, v: 'k3@10 again' }),
            write(c, { _id: 'new2', _pos: 12n, v: 'new2@12' }),
            write(d, { _id: 'k1', _pos: 8n, v: 'd:k1@8' }),
            write(d, { _id: 'k2', _pos: 12n, v: 'd:k2@12' }),
          ],
          12n,
        );
        expect(await store.find<AnyDoc>(c, {}, { sort: { _id: 1 } })).toEqual([
          { _id: 'k1', _pos: 10n, v: 'k1@10' },
          { _id: 'k2', _pos: 11n, v: 'k2@11' },
          { _id: 'k3', _pos: 10n, v: 'k3@10' },
          { _id: 'new1', _pos: 9n, v: 'new1@9' },
          { _id: 'new2', _pos: 12n, v: 'new2@12' },
        ]);
        expect(await store.find<AnyDoc>(d, {}, { sort: { _id: 1 } })).toEqual([
          { _id: 'k1', _pos: 10n, v: 'd:k1@10' },
          { _id: 'k2', _pos: 12n, v: 'd:k2@12' },
        ]);
        expect(await store.checkpoint(p)).toBe(12n);
      });

      it('keeps the _pos guard for a write marked absent whose document exists after all (the hint never loses data)', async () => {
        const c = unique('absent');
        const p = unique('proj');
        await store.commit(p, [write(c, { _id: 'old', _pos: 3n, v: 'stored' }), write(c, { _id: 'new', _pos: 9n, v: 'stored' })], 9n);
        await store.commit(
          p,
          [
            { collection: c, doc: { _id: 'old', _pos: 5n, v: 'newer' } as AnyDoc, absent: true },
            { collection: c, doc: { _id: 'new', _pos: 7n, v: 'older' } as AnyDoc, absent: true },
            { collection: c, doc: { _id: 'fresh', _pos: 8n, v: 'inserted' } as AnyDoc, absent: true },
          ],
          9n,
        );
        expect(await store.get<AnyDoc>(c, 'old')).toEqual({ _id: 'old', _pos: 5n, v: 'newer' });
        expect(await store.get<AnyDoc>(c, 'new')).toEqual({ _id: 'new', _pos: 9n, v: 'stored' });
        expect(await store.get<AnyDoc>(c, 'fresh')).toEqual({ _id: 'fresh', _pos: 8n, v: 'inserted' });
      });

      it('stops when aborted before its checkpoint, and a redelivery then completes it', async () => {
        const c = unique('aborted');
        const p = unique('proj');
        await store.commit(p, [], 1n);
        const stop = new AbortController();
        stop.abort();
        const batch = [write(c, { _id: 'x', _pos: 2n, v: 1 })];
        await expect(store.commit(p, batch, 2n, [[`${p}:member`, 2n]], stop.signal)).rejects.toThrow();
        expect(await store.checkpoint(p)).toBe(1n);
        expect(await store.checkpoint(`${p}:member`)).toBeNull();
        await store.commit(p, batch, 2n, [[`${p}:member`, 2n]]);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: 2n, v: 1 });
        expect(await store.checkpoint(p)).toBe(2n);
      });

      it('moves its checkpoints all together or not at all, wherever a stop cuts it', async () => {
        // A signal that turns aborted at its (k+1)-th check: every point where the adapter looks.
        const abortingAt = (k: number) => {
          let checks = 0;
          const stop = new AbortController();
          return new Proxy(stop.signal, {
            get(target, key) {
              if (key === 'throwIfAborted' || key === 'aborted') {
                if (checks++ >= k) stop.abort();
              }
              const value = Reflect.get(target, key, target) as unknown;
              return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
            },
          });
        };
        const c = unique('cut');
        // Enough documents for several bulk writes, so a stop can fall between them.
        const batch = Array.from({ length: 120 }, (_, i) => write(c, { _id: `d${i}`, _pos: 2n, v: i }));
        for (let k = 0; k <= 8; k++) {
          const p = unique('proj');
          const members = [`${p}:published`, `${p}:a@1`, `${p}:b@1`];
          await store.commit(p, [], 1n, members.map((m) => [m, 1n] as const));
          await store.commit(p, batch, 2n, members.map((m) => [m, 2n] as const), abortingAt(k)).catch(() => undefined);
          const positions = [await store.checkpoint(p), ...(await Promise.all(members.map((m) => store.checkpoint(m))))];
          expect({ k, moved: positions.every((x) => x === 2n) || positions.every((x) => x === 1n) }).toEqual({ k, moved: true });
        }
      });

      it('keeps the newest version when a batch writes the same document twice, in any order', async () => {
        const c = unique('twice');
        const p = unique('proj');
        await store.commit(p, [write(c, { _id: 'up', _pos: 5n, v: 5 }), write(c, { _id: 'up', _pos: 7n, v: 7 })], 7n);
        await store.commit(p, [write(c, { _id: 'down', _pos: 7n, v: 7 }), write(c, { _id: 'down', _pos: 5n, v: 5 })], 7n);
        expect(await store.get<AnyDoc>(c, 'up')).toEqual({ _id: 'up', _pos: 7n, v: 7 });
        expect(await store.get<AnyDoc>(c, 'down')).toEqual({ _id: 'down', _pos: 7n, v: 7 });
      });

      it('compares _pos exactly above 2^53 (as int64, never as a double)', async () => {
        const c = unique('bigpos');
        const p = unique('proj');
        const base = 2n ** 60n; // doubles are 256 apart here: pos and pos + 1 would compare equal
        await store.commit(p, [write(c, { _id: 'x', _pos: base + 1n, v: 'base+1' })], base + 1n);
        expect((await store.get<AnyDoc>(c, 'x'))!._pos).toBe(base + 1n);

        await store.commit(p, [write(c, { _id: 'x', _pos: base, v: 'base (older by one)' })], base + 1n);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: base + 1n, v: 'base+1' });

        await store.commit(p, [write(c, { _id: 'x', _pos: base + 2n, v: 'base+2 (newer by one)' })], base + 2n);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: base + 2n, v: 'base+2 (newer by one)' });

        await store.commit(p, [write(c, { _id: 'y', _pos: TWO_53 + 1n, v: 1 })], TWO_53 + 1n);
        await store.commit(p, [write(c, { _id: 'y', _pos: TWO_53, v: 2 })], TWO_53 + 1n);
        expect(await store.get<AnyDoc>(c, 'y')).toEqual({ _id: 'y', _pos: TWO_53 + 1n, v: 1 });
        await store.commit(p, [write(c, { _id: 'y', _pos: INT64_MAX, v: 3 })], INT64_MAX);
        await store.commit(p, [write(c, { _id: 'y', _pos: INT64_MAX - 1n, v: 4 })], INT64_MAX);
        expect(await store.get<AnyDoc>(c, 'y')).toEqual({ _id: 'y', _pos: INT64_MAX, v: 3 });
      });

      it('takes a small _pos after a large one only if it is larger (no mixing of int32 and int64)', async () => {
        const c = unique('mixedint');
        const p = unique('proj');
        await store.commit(p, [write(c, { _id: 'x', _pos: 3n, v: 3 })], 3n);
        await store.commit(p, [write(c, { _id: 'x', _pos: 2n ** 40n, v: 'big' })], 2n ** 40n);
        await store.commit(p, [write(c, { _id: 'x', _pos: 4n, v: 4 })], 2n ** 40n);
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: 2n ** 40n, v: 'big' });
      });
    });

    describe('checkpoint', () => {
      it('is null before the first commit', async () => {
        expect(await store.checkpoint(unique('fresh'))).toBeNull();
      });

      it('is set by a commit without documents and overwritten by later commits', async () => {
        const p = unique('proj');
        await store.commit(p, [], 3n);
        expect(await store.checkpoint(p)).toBe(3n);
        await store.commit(p, [], 50n);
        const value = await store.checkpoint(p);
        expect(typeof value).toBe('bigint');
        expect(value).toBe(50n);
      });

      it('stores values above 2^53 exactly, up to 2^63 - 1', async () => {
        const p = unique('proj');
        for (const position of [TWO_53 + 1n, 2n ** 62n + 12345n, INT64_MAX]) {
          await store.commit(p, [], position);
          expect(await store.checkpoint(p)).toBe(position);
        }
      });

      it('is kept per projector name, independently (names include the version)', async () => {
        const base = unique('inbox');
        const v1 = `${base}@1`;
        const v2 = `${base}@2`;
        await store.commit(v1, [], 100n);
        expect(await store.checkpoint(v2)).toBeNull();
        await store.commit(v2, [], 7n);
        expect(await store.checkpoint(v1)).toBe(100n);
        expect(await store.checkpoint(v2)).toBe(7n);
        await store.commit(v1, [], 101n);
        expect(await store.checkpoint(v2)).toBe(7n);
      });
    });

    describe('drop', () => {
      it('removes the collections and the checkpoint of a projector, nothing else', async () => {
        const old = unique('old');
        const kept = unique('kept');
        const conv = unique('conv');
        const msgs = unique('msgs');
        const other = unique('other');
        await store.ensureIndexes([{ collection: conv, fields: { propertyId: 1, seq: -1 } }]);
        await store.commit(old, [write(conv, { _id: 'a', _pos: 5n, propertyId: 'p', seq: 1 }), write(msgs, { _id: 'm', _pos: 5n })], 5n);
        await store.commit(kept, [write(other, { _id: 'a', _pos: 6n })], 6n);

        await store.drop(old, [conv, msgs]);

        expect(await store.checkpoint(old)).toBeNull();
        expect(await store.get<AnyDoc>(conv, 'a')).toBeNull();
        expect(await store.find<AnyDoc>(msgs, {})).toEqual([]);
        expect(await store.count(conv, {})).toBe(0);
        expect(await store.checkpoint(kept)).toBe(6n);
        expect(await store.get<AnyDoc>(other, 'a')).toEqual({ _id: 'a', _pos: 6n });
      });

      it('leaves collections usable from scratch: older positions apply again', async () => {
        const p = unique('proj');
        const c = unique('reuse');
        await store.commit(p, [write(c, { _id: 'a', _pos: 50n, v: 'before' })], 50n);
        await store.drop(p, [c]);
        await store.commit(p, [write(c, { _id: 'a', _pos: 1n, v: 'rebuilt' })], 1n);
        expect(await store.get<AnyDoc>(c, 'a')).toEqual({ _id: 'a', _pos: 1n, v: 'rebuilt' });
        expect(await store.checkpoint(p)).toBe(1n);
      });

      it('tolerates collections and projectors that never existed', async () => {
        await expect(store.drop(unique('ghost'), [unique('none'), unique('none')])).resolves.toBeUndefined();
        await expect(store.drop(unique('ghost'), [])).resolves.toBeUndefined();
      });
    });

    describe('ensureIndexes', () => {
      it('is idempotent, on empty and filled collections, and queries keep working', async () => {
        const c = unique('indexed');
        const specs = [
          { collection: c, fields: { propertyId: 1, seq: -1 } as Record<string, 1 | -1> },
          { collection: c, fields: { propertyId: 1, status: 1, seq: -1 } as Record<string, 1 | -1> },
          { collection: c, fields: { seq: 1 } as Record<string, 1 | -1> },
        ];
        await store.ensureIndexes(specs);
        await store.ensureIndexes(specs);
        await store.commit(
          unique('p'),
          [
            write(c, { _id: 'a', _pos: 1n, propertyId: 'p1', status: 'open', seq: 1 }),
            write(c, { _id: 'b', _pos: 2n, propertyId: 'p1', status: 'closed', seq: 2 }),
            write(c, { _id: 'c', _pos: 3n, propertyId: 'p2', status: 'open', seq: 3 }),
          ],
          3n,
        );
        await store.ensureIndexes(specs);
        await store.ensureIndexes([]);
        expect(ids(await store.find<AnyDoc>(c, { propertyId: 'p1' }, { sort: { seq: -1 } }))).toEqual(['b', 'a']);
        expect(ids(await store.find<AnyDoc>(c, { propertyId: 'p1', status: 'open' }, { sort: { seq: -1 } }))).toEqual(['a']);
        expect(await store.count(c, { status: 'open' })).toBe(2);
      });
    });

    describe('names', () => {
      it('rejects collection names outside /^[A-Za-z][A-Za-z0-9_]*$/', async () => {
        for (const bad of ['bad-name', '1abc', 'a.b', '$cmd', '', 'x y']) {
          await expect(store.get<AnyDoc>(bad, 'x')).rejects.toThrow();
        }
        await expect(store.commit(unique('p'), [write('no.dots', { _id: 'x', _pos: 1n })], 1n)).rejects.toThrow();
      });

      it('rejects field names that are not plain identifiers in filters and sorts', async () => {
        const c = await seeded();
        await expect(store.find<AnyDoc>(c, { 'a.b': 1 })).rejects.toThrow();
        await expect(store.find<AnyDoc>(c, { $where: 'true' })).rejects.toThrow();
        await expect(store.count(c, { "x') OR 1=1 --": 1 })).rejects.toThrow();
        await expect(store.find<AnyDoc>(c, {}, { sort: { 'a.b': 1 } })).rejects.toThrow();
      });
    });

    describe('persistence', () => {
      it('shows committed documents and checkpoints to another store over the same storage', async () => {
        const c = unique('durable');
        const p = unique('proj');
        await store.commit(p, [write(c, { _id: 'x', _pos: TWO_53 + 3n, nested: { list: [{ a: true }] } })], TWO_53 + 3n);
        const second = await open();
        try {
          expect(await second.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: TWO_53 + 3n, nested: { list: [{ a: true }] } });
          expect(await second.checkpoint(p)).toBe(TWO_53 + 3n);
          await second.commit(p, [write(c, { _id: 'x', _pos: TWO_53 + 2n, v: 'stale' })], TWO_53 + 3n);
        } finally {
          await second.close();
        }
        expect(await store.get<AnyDoc>(c, 'x')).toEqual({ _id: 'x', _pos: TWO_53 + 3n, nested: { list: [{ a: true }] } });
      });
    });
  });
}
