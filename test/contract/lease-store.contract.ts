/**
 * The behaviour every LeaseStore adapter must have (SQLite embedded, MongoDB/FerretDB).
 *
 * `open` must return a new store over the same storage on every call: several instances stand
 * for several processes (separate connections). Every test uses its own lease names.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { LeaseStore } from '../../src/application/ports/lease.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function leaseStoreContract(name: string, open: () => Promise<LeaseStore>): void {
  describe(`LeaseStore contract: ${name}`, () => {
    const run = randomBytes(4).toString('hex');
    let counter = 0;
    const unique = (base: string) => `${base}-${run}-${++counter}`;
    const opened: LeaseStore[] = [];
    /** n stores over the same storage, opened one after the other. */
    const stores = async (n: number) => {
      const list: LeaseStore[] = [];
      for (let i = 0; i < n; i++) list.push(await open());
      opened.push(...list);
      return list;
    };

    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    it('acquires a free lease and shows its holder; holder() is null for a lease never taken', async () => {
      const [a] = await stores(1);
      const lease = unique('free');
      expect(await a!.holder(lease)).toBeNull();
      const before = Date.now();
      expect(await a!.tryAcquire(lease, 'A', 5000)).toBe(true);
      const holder = await a!.holder(lease);
      expect(holder?.owner).toBe('A');
      expect(holder!.expiresAt).toBeGreaterThanOrEqual(before + 5000);
      expect(holder!.expiresAt).toBeLessThanOrEqual(Date.now() + 5000);
    });

    it('exactly one of many concurrent contenders acquires a free lease', async () => {
      const contenders = await stores(8);
      for (let round = 0; round < 5; round++) {
        const lease = unique('race-free');
        const results = await Promise.all(contenders.map((s, i) => s.tryAcquire(lease, `owner-${i}`, 5000)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await contenders[0]!.holder(lease))?.owner).toBe(`owner-${results.indexOf(true)}`);
      }
    });

    it('exactly one of many concurrent contenders takes over an expired lease', async () => {
      const contenders = await stores(8);
      for (let round = 0; round < 5; round++) {
        const lease = unique('race-expired');
        expect(await contenders[0]!.tryAcquire(lease, 'dead', 50)).toBe(true);
        await sleep(80);
        expect(await contenders[0]!.holder(lease)).toBeNull();
        const results = await Promise.all(contenders.map((s, i) => s.tryAcquire(lease, `owner-${i}`, 5000)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await contenders[1]!.holder(lease))?.owner).toBe(`owner-${results.indexOf(true)}`);
      }
    });

    // Expiries of a second or more, and waits measured from the stored expiry: on a loaded
    // machine one call to FerretDB can take a few hundred milliseconds (300 ms leases flaked in CI).
    const untilPast = (expiresAt: number) => sleep(Math.max(0, expiresAt - Date.now()) + 50);

    it('lets the owner renew: the expiry moves on and others stay out past the first expiry', async () => {
      const [a, b] = await stores(2);
      const lease = unique('renew');
      expect(await a!.tryAcquire(lease, 'A', 1500)).toBe(true);
      const first = (await a!.holder(lease))!.expiresAt;
      await sleep(1000);
      expect(await a!.tryAcquire(lease, 'A', 1500)).toBe(true);
      // ~1 s later (a timer may fire a millisecond early by Date.now's reckoning: seen in CI).
      expect((await b!.holder(lease))!.expiresAt).toBeGreaterThan(first + 500);
      await untilPast(first); // past the first expiry, ~1 s before the renewed one
      expect(await b!.tryAcquire(lease, 'B', 1500)).toBe(false);
      expect((await b!.holder(lease))?.owner).toBe('A');
    });

    it('keeps others out while unexpired, lets one take over after expiry, and then refuses the old owner', async () => {
      const [a, b] = await stores(2);
      const lease = unique('takeover');
      expect(await a!.tryAcquire(lease, 'A', 1500)).toBe(true);
      const expiresAt = (await a!.holder(lease))!.expiresAt;
      expect(await b!.tryAcquire(lease, 'B', 1500)).toBe(false);
      await untilPast(expiresAt);
      expect(await b!.tryAcquire(lease, 'B', 5000)).toBe(true);
      expect((await a!.holder(lease))?.owner).toBe('B');
      expect(await a!.tryAcquire(lease, 'A', 5000)).toBe(false); // the old owner's renewal fails
      expect((await a!.holder(lease))?.owner).toBe('B');
    });

    it('an owner whose lease expired untaken gets it back', async () => {
      const [a] = await stores(1);
      const lease = unique('expired-own');
      expect(await a!.tryAcquire(lease, 'A', 50)).toBe(true);
      await sleep(80);
      expect(await a!.tryAcquire(lease, 'A', 5000)).toBe(true);
      expect((await a!.holder(lease))?.owner).toBe('A');
    });

    it('release frees the lease at once; releasing a lease one does not hold changes nothing', async () => {
      const [a, b] = await stores(2);
      const lease = unique('release');
      expect(await a!.tryAcquire(lease, 'A', 60_000)).toBe(true);
      await b!.release(lease, 'B');
      expect((await b!.holder(lease))?.owner).toBe('A');
      expect(await b!.tryAcquire(lease, 'B', 60_000)).toBe(false);
      await a!.release(lease, 'A');
      expect(await b!.holder(lease)).toBeNull();
      expect(await b!.tryAcquire(lease, 'B', 60_000)).toBe(true);
      await a!.release(lease, 'A'); // A no longer holds it: B keeps it
      expect((await a!.holder(lease))?.owner).toBe('B');
      await b!.release(unique('never-taken'), 'B'); // no error
    });

    it('different names are independent', async () => {
      const [a, b] = await stores(2);
      const one = unique('one');
      const two = unique('two');
      expect(await a!.tryAcquire(one, 'A', 60_000)).toBe(true);
      expect(await b!.tryAcquire(two, 'B', 60_000)).toBe(true);
      expect(await b!.tryAcquire(one, 'B', 60_000)).toBe(false);
      expect(await a!.tryAcquire(two, 'A', 60_000)).toBe(false);
      await a!.release(one, 'A');
      expect((await a!.holder(two))?.owner).toBe('B');
      expect(await a!.holder(one)).toBeNull();
    });

    it('never lets two owners believe they hold it at once (contenders that renew, crash and release)', async () => {
      const contenders = await stores(5);
      const lease = unique('stress');
      const ttl = 100;
      // [owner, from, to): owner knows it holds the lease from the answer until t0 + ttl.
      const held: Array<{ owner: number; from: number; to: number }> = [];
      const deadline = Date.now() + 2500;
      await Promise.all(
        contenders.map(async (store, owner) => {
          let renewals = 0;
          while (Date.now() < deadline) {
            const t0 = Date.now();
            const ok = await store.tryAcquire(lease, `owner-${owner}`, ttl);
            const answered = Date.now();
            if (ok && answered < t0 + ttl) held.push({ owner, from: answered, to: t0 + ttl });
            if (ok && ++renewals >= 3 + Math.floor(Math.random() * 5)) {
              renewals = 0;
              if (Math.random() < 0.5) {
                const now = Date.now(); // stops using it (whichever success it relied on), then releases
                for (const h of held) if (h.owner === owner) h.to = Math.min(h.to, now);
                await store.release(lease, `owner-${owner}`);
              } else {
                await sleep(ttl + 20); // "crash": stop renewing, let it expire
              }
            } else {
              await sleep(Math.random() * 30);
            }
          }
        }),
      );
      const owners = new Set(held.map((h) => h.owner));
      expect(owners.size).toBeGreaterThan(1); // takeovers did happen
      const overlaps = [];
      for (const a of held) {
        for (const b of held) {
          if (a.owner < b.owner && a.from < b.to && b.from < a.to) overlaps.push([a, b]);
        }
      }
      expect(overlaps).toEqual([]);
    });
  });
}
